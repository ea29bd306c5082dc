/**
 * The cluster controller's reconcile against a real API server (no kubelet: no pods run, so
 * clusters stay Creating). What a user sees from the API: the children with owner references,
 * credentials created once, status and conditions, a refused major upgrade that can be undone,
 * a missing image, the pause annotation, events, and the cleanup on deletion.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import {
  startClusterController,
  eventually,
  kubectl,
  kubectlOk,
  startApiServer,
  type TestApiServer,
} from '../src/harness/index.js';

const NS = 'db';

describe('cluster controller (integration)', () => {
  let server: TestApiServer;
  let stop: () => Promise<void>;
  const k = (...args: string[]) => kubectlOk(server, ['-n', NS, ...args]);
  const apply = (obj: object) =>
    kubectlOk(server, ['-n', NS, 'apply', '--server-side', '-f', '-'], stringify(obj));
  const json = <T>(...args: string[]) => JSON.parse(k('get', ...args, '-o', 'json')) as T;
  type Status = {
    phase?: string;
    readySummary?: string;
    version?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  const status = (name: string) => json<{ status?: Status }>('pgc', name).status ?? {};
  const progressing = (name: string) => status(name).conditions?.find((c) => c.type === 'Progressing');
  const cluster = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresCluster',
    metadata: { name },
    spec: { version: 17, replicas: 3, storage: { size: '1Gi' }, ...spec },
  });
  /** The API server answers in milliseconds here: poll often, give up after 30 s. */
  const until = <T>(what: string, check: () => T | undefined) => eventually(what, check, 30, undefined, 200);

  before(async () => {
    server = await startApiServer();
    stop = (await startClusterController(server, NS)).stop;
  });
  after(async () => {
    await stop?.();
    await server?.stop();
  });

  it('creates the children, owned by the cluster, and reports Creating 0/3', async () => {
    apply(cluster('alpha'));
    const s = await until('status', () =>
      status('alpha').phase === 'Creating' ? status('alpha') : undefined,
    );
    assert.equal(s.readySummary, '0/3');
    assert.equal(s.version, 17);
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const uid = k('get', 'pgc', 'alpha', '-o', 'jsonpath={.metadata.uid}');
    const children = json<{
      items: { kind: string; metadata: { name: string; ownerReferences?: { uid: string }[] } }[];
    }>(
      'statefulset,service,configmap,secret,serviceaccount,role,rolebinding,poddisruptionbudget',
      '-l',
      'postgres.example.com/cluster=alpha',
    );
    assert.equal(
      children.items.length,
      14,
      children.items.map((c) => `${c.kind}/${c.metadata.name}`).join(' '),
    );
    for (const c of children.items)
      assert.ok(
        c.metadata.ownerReferences?.some((r) => r.uid === uid),
        `${c.kind}/${c.metadata.name}`,
      );
    assert.equal(k('get', 'statefulset', 'alpha', '-o', 'jsonpath={.spec.replicas}'), '3');
    assert.deepEqual(json<{ metadata: { finalizers: string[] } }>('pgc', 'alpha').metadata.finalizers, [
      'postgres.example.com/patroni-dcs-cleanup',
    ]);
  });

  it('makes its NetworkPolicy, puts it back when deleted, and deletes it with spec.networkPolicy.enabled false', async () => {
    const uid = k('get', 'pgc', 'alpha', '-o', 'jsonpath={.metadata.uid}');
    const policy = () => kubectl(server, ['-n', NS, 'get', 'networkpolicy', 'alpha', '-o', 'json']);
    const owned = () => {
      const res = policy();
      if (res.code !== 0) return undefined;
      const p = JSON.parse(res.stdout) as {
        metadata: { uid: string; ownerReferences?: { uid: string }[] };
        spec: { ingress: { from?: unknown[]; ports: { port: number }[] }[] };
      };
      return p.metadata.ownerReferences?.some((r) => r.uid === uid) ? p : undefined;
    };
    const first = await until('the NetworkPolicy', owned);
    // A rule without `from` lets everyone in: each must name its peers.
    assert.deepEqual(
      first.spec.ingress.map((rule) => ({ from: rule.from, ports: rule.ports.map((p) => p.port) })),
      [
        {
          from: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/component': 'database',
                  'postgres.example.com/cluster': 'alpha',
                },
              },
            },
          ],
          ports: [5432, 8008],
        },
        { from: [{ podSelector: {} }], ports: [5432] },
      ],
      'members to PostgreSQL and Patroni; the namespace to PostgreSQL',
    );
    k('delete', 'networkpolicy', 'alpha');
    await until('the NetworkPolicy made again', () => {
      const again = owned();
      return again && again.metadata.uid !== first.metadata.uid ? true : undefined;
    });
    k('patch', 'pgc', 'alpha', '--type=merge', '-p', '{"spec":{"networkPolicy":{"enabled":false}}}');
    await until('the NetworkPolicy deleted', () => (policy().code !== 0 ? true : undefined));
    k('patch', 'pgc', 'alpha', '--type=json', '-p', '[{"op":"remove","path":"/spec/networkPolicy"}]');
    await until('the NetworkPolicy back', owned);
  });

  it('lists the roles and databases of the spec as Pending until a primary can take them', async () => {
    apply(
      cluster('access', {
        roles: [{ name: 'orders' }, { name: 'readers', login: false }],
        databases: [{ name: 'orders', owner: 'orders' }],
      }),
    );
    type Entry = { name: string; state: string; reclaimPolicy: string };
    const s = await until('roles and databases in status', () => {
      const st = json<{ status?: Status & { roles?: Entry[]; databases?: Entry[] } }>('pgc', 'access').status;
      return st?.roles && st.databases ? st : undefined;
    });
    assert.deepEqual(
      s.roles?.map((r) => [r.name, r.state, r.reclaimPolicy]),
      [
        ['orders', 'Pending', 'Delete'],
        ['readers', 'Pending', 'Delete'],
      ],
    );
    assert.deepEqual(
      s.databases?.map((d) => [d.name, d.state, d.reclaimPolicy]),
      [['orders', 'Pending', 'Retain']],
    );
    const roles = s.conditions?.find((c) => c.type === 'RolesReady');
    assert.deepEqual([roles?.status, roles?.reason], ['False', 'Pending']);
    assert.match(roles!.message, /not applied yet: orders, readers/);
    // No instance runs here, so nothing was generated for the login role yet.
    assert.notEqual(kubectl(server, ['-n', NS, 'get', 'secret', 'access-role-orders']).code, 0);
    k('delete', 'pgc', 'access', '--wait=false');
  });

  it("makes spec.pooler's objects with their certificates, and removes each kind no longer asked for", async () => {
    apply(cluster('pooled', { replicas: 2, pooler: { instances: 2, readOnlyInstances: 1 } }));
    const present = (kind: string, name: string) => kubectl(server, ['-n', NS, 'get', kind, name]).code === 0;
    for (const [kind, name] of [
      ['deployment', 'pooled-pooler'],
      ['deployment', 'pooled-pooler-ro'],
      ['service', 'pooled-pooler'],
      ['service', 'pooled-pooler-ro'],
      ['pdb', 'pooled-pooler'],
      ['pdb', 'pooled-pooler-ro'],
      ['configmap', 'pooled-pooler'],
      ['secret', 'pooled-pooler-tls'],
      ['networkpolicy', 'pooled-pooler'],
    ] as const)
      await until(`${kind}/${name}`, () => present(kind, name) || undefined);
    const deployment = json<{
      spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
    }>('deployment', 'pooled-pooler');
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(
      deployment.spec.template.spec.containers.map((c) => [c.name, c.image]),
      [
        ['pgbouncer', 'localhost/pgop/pooler:dev'],
        ['metrics', 'localhost/pgop/pooler:dev'],
      ],
    );
    // No pod runs here: none ready, and the condition says so.
    const s = await until('PoolerReady', () => {
      const st = json<{ status?: Status & { pooler?: object } }>('pgc', 'pooled').status;
      return st?.conditions?.some((c) => c.type === 'PoolerReady') ? st : undefined;
    });
    assert.deepEqual(s.pooler, { readyInstances: 0, readyReadOnlyInstances: 0 });
    assert.match(
      s.conditions!.find((c) => c.type === 'PoolerReady')!.message,
      /-pooler 0\/2 ready, -pooler-ro 0\/1 ready/,
    );

    k('patch', 'pgc', 'pooled', '--type=merge', '-p', '{"spec":{"pooler":{"readOnlyInstances":0}}}');
    await until('the read-only pooler removed', () =>
      !present('deployment', 'pooled-pooler-ro') &&
      !present('service', 'pooled-pooler-ro') &&
      !present('pdb', 'pooled-pooler-ro')
        ? true
        : undefined,
    );
    assert.ok(present('deployment', 'pooled-pooler'), 'the read-write pooler went too');
    k('patch', 'pgc', 'pooled', '--type=json', '-p', '[{"op":"remove","path":"/spec/pooler"}]');
    await until('the pooler removed', () =>
      ['deployment', 'service', 'pdb', 'configmap', 'networkpolicy'].every(
        (kind) => !present(kind, 'pooled-pooler'),
      )
        ? true
        : undefined,
    );
    await until('PoolerReady gone', () =>
      status('pooled').conditions?.some((c) => c.type === 'PoolerReady') ? undefined : true,
    );
    k('delete', 'pgc', 'pooled', '--wait=false');
  });

  it('never rewrites the generated credentials', async () => {
    const before = k(
      'get',
      'secret',
      'alpha-superuser',
      '-o',
      'jsonpath={.metadata.resourceVersion} {.data.password}',
    );
    k('patch', 'pgc', 'alpha', '--type=merge', '-p', '{"spec":{"replicas":2}}');
    await until('replicas 2', () =>
      k('get', 'statefulset', 'alpha', '-o', 'jsonpath={.spec.replicas}') === '2' ? true : undefined,
    );
    assert.equal(
      k('get', 'secret', 'alpha-superuser', '-o', 'jsonpath={.metadata.resourceVersion} {.data.password}'),
      before,
    );
  });

  it('refuses a major version change with a condition and an event; going back undoes it', async () => {
    k('patch', 'pgc', 'alpha', '--type=merge', '-p', '{"spec":{"version":18}}');
    const c = await until('refusal', () =>
      progressing('alpha')?.reason === 'MajorVersionChangeRefused' ? progressing('alpha') : undefined,
    );
    assert.equal(c.status, 'False');
    assert.match(c.message, /in-place major upgrades are not supported yet/);
    assert.equal(
      k('get', 'statefulset', 'alpha', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
      'localhost/pgop/postgres:17',
    );
    await until('the event', () =>
      k('get', 'events.events.k8s.io', '-o', 'jsonpath={.items[*].reason}').includes(
        'MajorVersionChangeRefused',
      )
        ? true
        : undefined,
    );
    const lower = kubectl(server, [
      '-n',
      NS,
      'patch',
      'pgc',
      'alpha',
      '--type=merge',
      '-p',
      '{"spec":{"version":15}}',
    ]);
    assert.notEqual(lower.code, 0, 'below the version of the data is refused by the API server');
    assert.match(lower.stderr, /version cannot be lowered below the version of the data/);
    k('patch', 'pgc', 'alpha', '--type=merge', '-p', '{"spec":{"version":17}}');
    await until('unblocked', () =>
      progressing('alpha')?.reason !== 'MajorVersionChangeRefused' ? true : undefined,
    );
  });

  it('leaves the children alone while paused', async () => {
    k('annotate', 'pgc', 'alpha', 'postgres.example.com/paused=true');
    k('patch', 'pgc', 'alpha', '--type=merge', '-p', '{"spec":{"replicas":1}}');
    await until('Paused', () => (progressing('alpha')?.reason === 'Paused' ? true : undefined));
    await sleep(2_000);
    assert.equal(k('get', 'statefulset', 'alpha', '-o', 'jsonpath={.spec.replicas}'), '2');
    k('annotate', 'pgc', 'alpha', 'postgres.example.com/paused-');
    await until('replicas 1', () =>
      k('get', 'statefulset', 'alpha', '-o', 'jsonpath={.spec.replicas}') === '1' ? true : undefined,
    );
  });

  it("expands the claims a StorageClass can expand and makes a new instance's claim at the new size; names a StorageClass that cannot", async () => {
    for (const [name, expands] of [
      ['expandable', true],
      ['fixed', false],
    ] as const)
      kubectlOk(
        server,
        ['apply', '--server-side', '-f', '-'],
        stringify({
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name },
          provisioner: 'csi.example.com',
          allowVolumeExpansion: expands,
        }),
      );
    const volumes = (cluster: string) => status(cluster).conditions?.find((c) => c.type === 'VolumesResized');
    for (const [name, storageClass] of [
      ['grow', 'expandable'],
      ['stay', 'fixed'],
    ] as const) {
      apply(cluster(name, { replicas: 2, storage: { size: '1Gi', storageClass } }));
      await until(
        `${name}'s StatefulSet`,
        () => kubectl(server, ['-n', NS, 'get', 'sts', name]).code === 0 || undefined,
      );
      // Bound claims, as the StatefulSet controller and a provisioner would make them.
      for (const ordinal of [0, 1]) {
        const claim = `pgdata-${name}-${ordinal}`;
        apply({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claim, labels: { 'postgres.example.com/cluster': name } },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: storageClass,
            volumeName: `pv-${claim}`,
            resources: { requests: { storage: '1Gi' } },
          },
        });
        k(
          'patch',
          'pvc',
          claim,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { phase: 'Bound', capacity: { storage: '1Gi' } } }),
        );
      }
      await until(`${name} at its size`, () => (volumes(name)?.reason === 'AsRequested' ? true : undefined));
      k('patch', 'pgc', name, '--type=merge', '-p', '{"spec":{"storage":{"size":"2Gi"}}}');
    }
    await until(
      'both claims of grow raised',
      () =>
        k(
          'get',
          'pvc',
          'pgdata-grow-0',
          'pgdata-grow-1',
          '-o',
          'jsonpath={.items[*].spec.resources.requests.storage}',
        ) === '2Gi 2Gi' || undefined,
    );
    const expanding = await until('Expanding', () =>
      volumes('grow')?.reason === 'Expanding' ? volumes('grow') : undefined,
    );
    assert.match(expanding.message, /pgdata-grow-0 1Gi → 2Gi/);
    // A third instance: its claim is made at 2Gi before the StatefulSet (whose template asks for
    // 1Gi) would make it, with the template's labels and StorageClass.
    k('patch', 'pgc', 'grow', '--type=merge', '-p', '{"spec":{"replicas":3}}');
    const third = await until('the third claim made', () => {
      const r = kubectl(server, ['-n', NS, 'get', 'pvc', 'pgdata-grow-2', '-o', 'json']);
      return r.code === 0
        ? (JSON.parse(r.stdout) as {
            metadata: { labels: Record<string, string> };
            spec: { storageClassName: string; resources: { requests: { storage: string } } };
          })
        : undefined;
    });
    assert.equal(third.spec.resources.requests.storage, '2Gi');
    assert.equal(third.spec.storageClassName, 'expandable');
    assert.equal(third.metadata.labels['postgres.example.com/cluster'], 'grow');
    assert.equal(
      k(
        'get',
        'sts',
        'grow',
        '-o',
        'jsonpath={.spec.volumeClaimTemplates[0].spec.resources.requests.storage}',
      ),
      '1Gi',
    );
    const refused = await until('StorageClassCannotExpand', () =>
      volumes('stay')?.reason === 'StorageClassCannotExpand' ? volumes('stay') : undefined,
    );
    assert.match(refused.message, /pgdata-stay-0 \(StorageClass fixed\)/);
    assert.equal(
      k(
        'get',
        'pvc',
        'pgdata-stay-0',
        'pgdata-stay-1',
        '-o',
        'jsonpath={.items[*].spec.resources.requests.storage}',
      ),
      '1Gi 1Gi',
    );
    const shrink = kubectl(server, [
      '-n',
      NS,
      'patch',
      'pgc',
      'stay',
      '--type=merge',
      '-p',
      '{"spec":{"storage":{"size":"1Gi"}}}',
    ]);
    assert.notEqual(shrink.code, 0);
    assert.match(shrink.stderr, /spec.storage.size: Invalid value.*size cannot be decreased/);
    for (const name of ['grow', 'stay']) k('delete', 'pgc', name, '--wait=false');
  });

  it('fails clearly, creating nothing, when no image exists for the version', async () => {
    apply(cluster('beta', { version: 16 }));
    const c = await until('NoImageForVersion', () =>
      progressing('beta')?.reason === 'NoImageForVersion' ? progressing('beta') : undefined,
    );
    assert.match(c.message, /no PostgreSQL image is configured for version 16: set spec.image/);
    assert.equal(status('beta').phase, 'Failed');
    assert.equal(k('get', 'statefulset,secret', '-l', 'postgres.example.com/cluster=beta', '-o', 'name'), '');
  });

  it("on deletion removes the StatefulSet and Patroni's ConfigMaps, then lets the object go", async () => {
    for (const suffix of ['leader', 'config'])
      apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `alpha-${suffix}`, labels: { 'postgres.example.com/cluster': 'alpha' } },
      });
    k('delete', 'pgc', 'alpha', '--wait=false');
    await until('alpha gone', () =>
      kubectl(server, ['-n', NS, 'get', 'pgc', 'alpha']).code !== 0 ? true : undefined,
    );
    assert.equal(k('get', 'statefulset', 'alpha', '--ignore-not-found', '-o', 'name'), '');
    assert.equal(
      k('get', 'configmap', 'alpha-leader', 'alpha-config', '--ignore-not-found', '-o', 'name'),
      '',
    );
  });

  it('a deletion stuck on a pod that never stops (a lost node) says so, and ends at the bound with an event', async () => {
    apply(cluster('delta', { replicas: 1 }));
    await until('delta has its StatefulSet', () =>
      kubectl(server, ['-n', NS, 'get', 'statefulset', 'delta']).code === 0 ? true : undefined,
    );
    // No kubelet here: a pod bound to a node never stops, as on a lost node.
    apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'delta-0',
        labels: { 'postgres.example.com/cluster': 'delta', 'app.kubernetes.io/component': 'database' },
      },
      spec: {
        nodeName: 'lost-node',
        containers: [{ name: 'postgres', image: 'localhost/pgop/postgres:17' }],
      },
    });
    k('delete', 'pgc', 'delta', '--wait=false');
    const waiting = await until('Ready False Deleting', () => {
      const c = status('delta').conditions?.find((x) => x.type === 'Ready');
      return c?.reason === 'Deleting' ? c : undefined;
    });
    assert.match(
      waiting.message,
      /waiting for the instance pods to stop: delta-0 \(on lost-node\); pgop stops waiting at /,
    );
    await until('delta gone', () =>
      kubectl(server, ['-n', NS, 'get', 'pgc', 'delta']).code !== 0 ? true : undefined,
    );
    assert.match(
      k(
        'get',
        'events.events.k8s.io',
        '--field-selector',
        'reason=DeletionForced',
        '-o',
        'jsonpath={.items[*].note}',
      ),
      /waited 8 s for the instance pods to stop: delta-0 \(on lost-node\)/,
    );
    k('delete', 'pod', 'delta-0', '--grace-period=0', '--force');
  });

  it('keeps the credentials with retained volumes, and a new cluster of the same name adopts them', async () => {
    apply(cluster('gamma', { replicas: 1 }));
    type Secret = {
      data: Record<string, string>;
      metadata: { uid: string; ownerReferences?: { uid: string }[]; annotations?: Record<string, string> };
    };
    const secret = () => json<Secret>('secret', 'gamma-superuser');
    const first = await until('gamma-superuser', () =>
      kubectl(server, ['-n', NS, 'get', 'secret', 'gamma-superuser']).code === 0 ? secret() : undefined,
    );
    k('delete', 'pgc', 'gamma', '--wait=false');
    await until('gamma gone', () =>
      kubectl(server, ['-n', NS, 'get', 'pgc', 'gamma']).code !== 0 ? true : undefined,
    );
    // whenDeleted: Retain (the default): no owner left for garbage collection to follow.
    for (const name of ['gamma-app', 'gamma-superuser', 'gamma-replication', 'gamma-rewind']) {
      const kept = json<Secret>('secret', name);
      assert.deepEqual(kept.metadata.ownerReferences ?? [], [], `${name} keeps no owner`);
      assert.match(kept.metadata.annotations?.['postgres.example.com/retained-with-volumes'] ?? '', /kept/);
    }
    apply(cluster('gamma', { replicas: 1 }));
    const uid = await until(
      'gamma again',
      () =>
        kubectl(server, ['-n', NS, 'get', 'pgc', 'gamma', '-o', 'jsonpath={.metadata.uid}']).stdout ||
        undefined,
    );
    const adopted = await until('the kept Secret adopted', () =>
      secret().metadata.ownerReferences?.some((r) => r.uid === uid) ? secret() : undefined,
    );
    assert.equal(adopted.metadata.uid, first.metadata.uid, 'the same Secret');
    assert.equal(adopted.data.password, first.data.password, 'the password the data has');
    assert.equal(adopted.metadata.annotations?.['postgres.example.com/retained-with-volumes'], undefined);
  });

  it('restores from a source that appears after the cluster: nothing created before, then the pre-flight check Job', async () => {
    apply(
      cluster('restored', {
        replicas: 2,
        restore: { backupName: 'later', targetTime: '2026-01-01T00:00:00Z' },
      }),
    );
    const c = await until('RestoreSourceNotFound', () =>
      progressing('restored')?.reason === 'RestoreSourceNotFound' ? progressing('restored') : undefined,
    );
    assert.match(c.message, /PostgresBackup later does not exist/);
    const restoredObjects = () =>
      k('get', 'statefulset,job,pvc', '-l', 'postgres.example.com/cluster=restored', '-o', 'name');
    assert.equal(restoredObjects(), '');

    apply(
      cluster('origin', {
        replicas: 1,
        backup: {
          s3: { bucket: 'pg-backups', endpoint: 'https://127.0.0.1:9', credentialsSecret: { name: 's3' } },
        },
      }),
    );
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'later' },
      spec: { clusterName: 'origin' },
    });
    // The pre-flight check reads the repository first (its result and the restore itself need a
    // kubelet: e2e/end-to-end/restore.test.ts).
    const restoreStatus = () =>
      (json<{ status?: { restore?: { phase: string; source: string } } }>('pgc', 'restored').status
        ?.restore ?? {}) as { phase?: string; source?: string };
    // The Job is created before the status that records it is written: wait for both.
    const restore = await until('the check Job, recorded as Checking', () =>
      restoredObjects().includes('job.batch/restored-restore-check') && restoreStatus().phase === 'Checking'
        ? restoreStatus()
        : undefined,
    );
    assert.equal(
      restoredObjects().trim(),
      'job.batch/restored-restore-check',
      'only the check Job: no volume, no restore Job, no StatefulSet before the target is checked',
    );
    assert.equal(restore.source, `s3://pg-backups/pgbackrest/${NS}/origin`);
    type Job = {
      spec: {
        template: {
          spec: { containers: { command: string[] }[]; volumes: { persistentVolumeClaim?: object }[] };
        };
      };
    };
    const job = json<Job>('job', 'restored-restore-check');
    assert.deepEqual(job.spec.template.spec.containers[0]!.command, [
      'python3',
      '/etc/pgbackrest-source/check.py',
    ]);
    assert.ok(!job.spec.template.spec.volumes.some((v) => v.persistentVolumeClaim));
    assert.equal(status('restored').phase, 'Pending');
  });

  describe('with spec.backup', () => {
    const s3 = (endpoint: string) => ({
      s3: { bucket: 'pg-backups', endpoint, uriStyle: 'Path', credentialsSecret: { name: 's3' } },
    });
    const backupHealthy = (name: string) => status(name).conditions?.find((c) => c.type === 'BackupHealthy');

    it('names a missing credentials Secret, and keeps WAL archiving off', async () => {
      apply(cluster('nokeys', { backup: s3('https://127.0.0.1:9') }));
      const c = await until('S3CredentialsMissing', () =>
        backupHealthy('nokeys')?.reason === 'S3CredentialsMissing' ? backupHealthy('nokeys') : undefined,
      );
      assert.equal(c.status, 'False');
      assert.match(c.message, /Secret s3/);
      const config = k('get', 'configmap', 'nokeys-patroni', '-o', 'jsonpath={.data.patroni\\.yml}');
      assert.match(config, /archive_command: \/bin\/true/);
      assert.doesNotMatch(config, /restore_command/);
    });

    it('names an unreachable S3 endpoint, with a Warning event, and never shows the credentials', async () => {
      apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's3' },
        stringData: {
          AWS_ACCESS_KEY_ID: 'integration-key-id',
          AWS_SECRET_ACCESS_KEY: 'integration-secret-key',
        },
      });
      apply(cluster('offline', { backup: s3('https://127.0.0.1:9') }));
      const c = await until('S3Unreachable', () =>
        backupHealthy('offline')?.reason === 'S3Unreachable' ? backupHealthy('offline') : undefined,
      );
      assert.equal(c.status, 'False');
      await until('S3Unreachable event', () =>
        k('get', 'events', '--field-selector', 'reason=S3Unreachable', '-o', 'name') ? true : undefined,
      );
      const everything = k('get', 'pgc,events,configmaps', '-o', 'yaml');
      assert.doesNotMatch(everything, /integration-secret-key|integration-key-id/);
    });

    it('serves a PVC repository from a repository host, over TLS with certificates of its own', async () => {
      apply(cluster('vol', { backup: { pvc: { size: '5Gi', storageClass: 'standard' } } }));
      const c = await until('RepositoryHostNotReady', () =>
        backupHealthy('vol')?.reason === 'RepositoryHostNotReady' ? backupHealthy('vol') : undefined,
      );
      assert.equal(c.status, 'False');
      assert.match(
        c.message,
        /vol-repo-host has no ready pod \(PersistentVolumeClaim vol-repository: Pending\)/,
      );

      const volume = json<{
        metadata: { ownerReferences?: unknown[] };
        spec: { storageClassName: string; resources: { requests: { storage: string } } };
      }>('pvc', 'vol-repository');
      assert.equal(volume.metadata.ownerReferences, undefined, 'the backups would go with the cluster');
      assert.equal(volume.spec.storageClassName, 'standard');
      assert.equal(volume.spec.resources.requests.storage, '5Gi');
      const host = json<{ spec: { template: { spec: { volumes: { name: string }[] } } } }>(
        'deployment',
        'vol-repo-host',
      );
      assert.ok(host.spec.template.spec.volumes.some((v) => v.name === 'repository'));
      assert.equal(k('get', 'service', 'vol-repo-host', '-o', 'jsonpath={.spec.ports[0].port}'), '8432');
      assert.equal(
        k(
          'get',
          'networkpolicy',
          'vol-repo-host',
          '-o',
          'jsonpath={.spec.ingress[0].ports[0].port} {.spec.ingress[0].from[0].podSelector.matchLabels}',
        ),
        '8432 {"app.kubernetes.io/managed-by":"pgop","app.kubernetes.io/name":"postgresql"}',
      );

      const tls = json<{ data: Record<string, string> }>('secret', 'vol-pgbackrest-tls').data;
      const pem = (key: string) => Buffer.from(tls[key]!, 'base64').toString();
      const server = new X509Certificate(pem('repo-host.crt'));
      assert.ok(server.verify(new X509Certificate(pem('ca.crt')).publicKey));
      assert.equal(server.checkHost('vol-repo-host.db.svc'), 'vol-repo-host.db.svc');
      // Kept while valid: a reconcile does not replace them.
      const before = tls['repo-host.crt'];
      apply(cluster('vol', { replicas: 2, backup: { pvc: { size: '5Gi', storageClass: 'standard' } } }));
      await sleep(2000);
      assert.equal(
        json<{ data: Record<string, string> }>('secret', 'vol-pgbackrest-tls').data['repo-host.crt'],
        before,
      );

      // A leaf that must go (here: gone) is issued again from the kept CA, and the repository
      // host rolls onto it; the instances keep trusting the same CA.
      const hostHash = () =>
        k(
          'get',
          'deployment',
          'vol-repo-host',
          '-o',
          "jsonpath={.spec.template.metadata.annotations['postgres\\.example\\.com/config-hash']}",
        );
      const hashBefore = hostHash();
      k(
        'patch',
        'secret',
        'vol-pgbackrest-tls',
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/data/repo-host.crt"}]',
      );
      const renewed = await until(
        'a renewed server certificate',
        () => json<{ data: Record<string, string> }>('secret', 'vol-pgbackrest-tls').data['repo-host.crt'],
      );
      assert.notEqual(renewed, before);
      const renewedCert = new X509Certificate(Buffer.from(renewed, 'base64').toString());
      assert.ok(renewedCert.verify(new X509Certificate(pem('ca.crt')).publicKey), 'signed by the same CA');
      await until('the repository host rolled', () => (hostHash() !== hashBefore ? true : undefined));
      await until('CertificatesRenewed event', () =>
        k('get', 'events', '--field-selector', 'reason=CertificatesRenewed', '-o', 'name') ? true : undefined,
      );
      // The CA's key stays in the Secret: never mounted into a pod.
      assert.ok(json<{ data: Record<string, string> }>('secret', 'vol-pgbackrest-tls').data['ca.key']);
      assert.doesNotMatch(JSON.stringify(json('deployment', 'vol-repo-host')), /ca\.key/);

      const config = k('get', 'configmap', 'vol-patroni', '-o', 'yaml');
      assert.match(config, /repo1-host=vol-repo-host\.db\.svc/);
      assert.doesNotMatch(config, /PRIVATE KEY/);
    });

    it('names the PVC repository once its host is ready, and removes the host with spec.backup.pvc', async () => {
      // No kubelet here: the Deployment's status says what one would.
      k(
        'patch',
        'deployment',
        'vol-repo-host',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } }),
      );
      await until('status.backup.repository', () =>
        k('get', 'pgc', 'vol', '-o', 'jsonpath={.status.backup.repository}') === 'pvc://vol-repository'
          ? true
          : undefined,
      );
      apply(cluster('vol', { replicas: 2 }));
      // `get deployment,service` fails as soon as either is gone: wait for each of them.
      const gone = (kind: string) => kubectl(server, ['-n', NS, 'get', kind, 'vol-repo-host']).code !== 0;
      await until('the repository host Deployment, Service and NetworkPolicy are removed', () =>
        gone('deployment') && gone('service') && gone('networkpolicy') ? true : undefined,
      );
      assert.match(k('get', 'pvc', 'vol-repository', '-o', 'name'), /vol-repository/, 'the backups went too');
    });
  });
});
