/**
 * Golden tests of the desired state: the objects pgop applies for example clusters. A change
 * to rendering shows up as a diff of these files; UPDATE_GOLDEN=1 npm run test:unit rewrites them.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { desiredChildren } from '../src/render/desired-state.js';
import { dynamicConfiguration, HA_TIMING, patroniConfig } from '../src/patroni/config.js';
import { archivingEnabled, repositoryUrl } from '../src/pgbackrest/repository.js';
import { pgbackrestConf } from '../src/pgbackrest/config.js';
import type { PostgresCluster } from '@pgop/api';
import { renderSecrets } from '../src/render/secrets.js';
import { configHash, renderStatefulSet } from '../src/render/statefulset.js';
import { cluster, fullCluster, basicCluster, poolerCluster } from './fixtures.js';

const goldenDir = new URL('../../test/golden/', import.meta.url);

function matchesGolden(name: string, objects: unknown[]): void {
  const actual = objects.map((o) => stringify(o)).join('---\n');
  const file = new URL(name, goldenDir);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  assert.equal(
    actual,
    readFileSync(file, 'utf8'),
    `${name} differs from the golden file (UPDATE_GOLDEN=1 to accept)`,
  );
}

const inputs = { image: 'localhost/pgop/postgres:17', replicas: 3, archiving: false };

describe('desired state', () => {
  it('renders the demo cluster', () => {
    matchesGolden('basic-cluster.yaml', desiredChildren(cluster(basicCluster(), { version: 17 }), inputs));
  });

  it('renders a cluster with every field set', () => {
    matchesGolden('full-cluster.yaml', desiredChildren(cluster(fullCluster()), inputs));
  });

  it('renders a cluster archiving WAL to its checked repository', () => {
    const c = cluster(fullCluster());
    c.status = { backup: { repository: repositoryUrl(c) } };
    matchesGolden(
      'archiving-cluster.yaml',
      desiredChildren(c, { ...inputs, archiving: archivingEnabled(c) }),
    );
  });

  it('renders a cluster whose repository is a PVC served by the repository host', () => {
    const c = cluster(basicCluster(), { backup: { pvc: { size: '20Gi', storageClass: 'fast' } } });
    matchesGolden('pvc-repository-cluster.yaml', desiredChildren(c, inputs));
  });

  it('renders a cluster behind PgBouncer, read-write and read-only', () => {
    const c = cluster(poolerCluster());
    matchesGolden(
      'pooler-cluster.yaml',
      desiredChildren(c, {
        ...inputs,
        pooler: { image: 'localhost/pgop/pooler:dev', certificateHash: 'certificates-v1' },
      }),
    );
  });

  it("keeps Patroni's timing rule: loop_wait + 2 * retry_timeout <= ttl, ttl >= 20", () => {
    assert.ok(HA_TIMING.loop_wait + 2 * HA_TIMING.retry_timeout <= HA_TIMING.ttl);
    assert.ok(HA_TIMING.ttl >= 20);
  });

  it('lets user parameters override defaults but never the parameters pgop owns', () => {
    const c = cluster(basicCluster(), {
      postgresql: { parameters: { max_connections: 300, shared_buffers: '1GB' } },
    });
    const parameters = dynamicConfiguration(c, false).postgresql.parameters;
    assert.equal(parameters.max_connections, 300);
    assert.equal(parameters.shared_buffers, '1GB');
    assert.equal(parameters.wal_log_hints, 'on');
  });

  it('maps spec.replication to Patroni synchronous modes', () => {
    assert.equal(dynamicConfiguration(cluster(), false).synchronous_mode, 'off');
    const sync = cluster(basicCluster(), { replication: { mode: 'Sync' } });
    assert.equal(dynamicConfiguration(sync, false).synchronous_mode, 'on');
    const quorum = dynamicConfiguration(cluster(fullCluster()), false);
    assert.equal(quorum.synchronous_mode, 'quorum');
    assert.equal(quorum.synchronous_mode_strict, true);
    assert.equal(quorum.synchronous_node_count, 1);
  });

  it('runs the binaries of spec.version', () => {
    assert.equal(
      patroniConfig(cluster(basicCluster(), { version: 15 }), false).postgresql.bin_dir,
      '/usr/lib/postgresql/15/bin',
    );
  });

  it('keeps the volume size of an existing StatefulSet (claim templates are immutable)', () => {
    const sts = renderStatefulSet(cluster(basicCluster(), { storage: { size: '20Gi' } }), {
      ...inputs,
      configHash: 'x',
      existingVolumeSize: '10Gi',
    });
    assert.equal(sts.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests!.storage, '10Gi');
  });

  it('puts pg_wal on its own volume with spec.walStorage: at initdb, on every clone, and the WAL spool beside it', () => {
    const c = cluster(basicCluster(), {
      walStorage: { size: '4Gi', storageClass: 'fast' },
      backup: (cluster(fullCluster()) as PostgresCluster).spec.backup,
    } as Partial<PostgresCluster['spec']>);
    const sts = renderStatefulSet(c, { ...inputs, configHash: 'x', existingWalVolumeSize: '2Gi' });
    const templates = sts.spec!.volumeClaimTemplates!.map((t) => [
      t.metadata!.name,
      t.spec!.storageClassName,
      t.spec!.resources!.requests!.storage,
    ]);
    assert.deepEqual(templates, [
      ['pgdata', undefined, '10Gi'],
      ['pgwal', 'fast', '2Gi'],
    ]);
    const mounts = sts.spec!.template.spec!.containers[0]!.volumeMounts!.map(
      (m) => `${m.name}:${m.mountPath}`,
    );
    assert.ok(mounts.includes('pgwal:/var/lib/postgresql/wal'), mounts.join(' '));
    const config = patroniConfig(c, true);
    assert.ok(
      config.bootstrap.initdb.some(
        (o) => JSON.stringify(o) === '{"waldir":"/var/lib/postgresql/wal/pg_wal"}',
      ),
    );
    assert.deepEqual(config.postgresql.basebackup, [
      { checkpoint: 'fast' },
      { waldir: '/var/lib/postgresql/wal/pg_wal' },
    ]);
    assert.match(pgbackrestConf(c)!, /^spool-path=\/var\/lib\/postgresql\/wal\/pgbackrest-spool$/m);
    // Without it, one volume as before.
    const plain = renderStatefulSet(cluster(basicCluster()), { ...inputs, configHash: 'x' });
    assert.equal(plain.spec!.volumeClaimTemplates!.length, 1);
    assert.deepEqual(patroniConfig(cluster(basicCluster()), false).postgresql.basebackup, [
      { checkpoint: 'fast' },
    ]);
  });

  it('places the pods where spec.scheduling says, and leaves the pods alone without it', () => {
    const scheduling = {
      nodeSelector: { 'node-role.example.com/database': 'true' },
      tolerations: [
        { key: 'dedicated', operator: 'Equal' as const, value: 'db', effect: 'NoSchedule' as const },
      ],
    };
    const pod = renderStatefulSet(cluster(basicCluster(), { scheduling }), { ...inputs, configHash: 'x' })
      .spec!.template.spec!;
    assert.deepEqual(pod.nodeSelector, scheduling.nodeSelector);
    assert.deepEqual(pod.tolerations, scheduling.tolerations);
    const plain = JSON.parse(JSON.stringify(renderStatefulSet(cluster(), { ...inputs, configHash: 'x' })));
    assert.equal('nodeSelector' in plain.spec.template.spec, false);
    assert.equal(
      'tolerations' in plain.spec.template.spec,
      false,
      'no template change for existing clusters',
    );
  });

  it('rolls the pods for a change of what a running pod uses, not for a parameter change', () => {
    const template = (c: ReturnType<typeof cluster>) =>
      renderStatefulSet(c, { ...inputs, configHash: configHash(patroniConfig(c, false)) }).spec!.template
        .metadata!.annotations;
    const base = template(cluster());
    const parameters = { postgresql: { parameters: { work_mem: '64MB' } } };
    assert.deepEqual(
      template(cluster(basicCluster(), parameters)),
      base,
      'parameters go through Patroni, not a restart',
    );
    assert.notDeepEqual(
      template(cluster(basicCluster(), { version: 15 })),
      base,
      'other binaries: the pods roll',
    );
  });

  it("serves the user's server certificate when spec.tls names one, and has it reloaded when renewed", () => {
    const c = cluster(basicCluster(), { tls: { serverCertificateSecret: 'my-server-cert' } });
    const parameters = dynamicConfiguration(c, false).postgresql.parameters;
    assert.equal(parameters.ssl_cert_file, '/etc/pgop/server-tls/tls.crt');
    assert.equal(parameters.ssl_key_file, '/etc/pgop/server-tls/tls.key');
    assert.equal(parameters.ssl_ca_file, '/etc/pgop/tls/ca.crt', "client certificates: the cluster's CA");
    const pod = renderStatefulSet(c, { ...inputs, configHash: 'x' }).spec!.template.spec!;
    assert.deepEqual(
      pod.volumes!.find((v) => v.name === 'server-tls')!.secret!.items!.map((i) => i.key),
      ['tls.crt', 'tls.key', 'ca.crt'],
    );
    const env = pod.containers[0]!.env!;
    assert.equal(env.find((e) => e.name === 'PGOP_TLS_DIRS')!.value, '/etc/pgop/tls:/etc/pgop/server-tls');
    const own = dynamicConfiguration(cluster(), false).postgresql.parameters;
    assert.equal(own.ssl_cert_file, '/etc/pgop/tls/tls.crt');
  });

  it('puts passwords only in Secrets, never in the rendered objects', () => {
    const c = cluster();
    const secrets = renderSecrets(c, 'the CA', {
      superuser: 'S3cret-superuser',
      replication: 'S3cret-repl',
      application: 'S3cret-app',
      rewind: 'S3cret-rewind',
    });
    assert.deepEqual(
      secrets.map((s) => [s.metadata!.name, s.stringData!.password]),
      [
        ['my-cluster-app', 'S3cret-app'],
        ['my-cluster-superuser', 'S3cret-superuser'],
        ['my-cluster-replication', 'S3cret-repl'],
        ['my-cluster-rewind', 'S3cret-rewind'],
      ],
    );
    assert.deepEqual(
      secrets.filter((s) => s.stringData!['ca.crt'] === 'the CA').map((s) => s.metadata!.name),
      ['my-cluster-app', 'my-cluster-superuser'],
      'what clients read carries the CA',
    );
    assert.doesNotMatch(JSON.stringify(desiredChildren(c, inputs)), /S3cret/);
  });
});
