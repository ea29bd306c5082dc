/** spec.pooler's decisions: its certificates, the pods' status, what is removed, who may be looked up. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { createLogger, type ExecResult } from '@pgop/runtime';
import { POOLER_ROLE_STATEMENTS } from '../../src/access/pooler-role.js';
import { issuePoolerCertificates, poolerCertificatesDue } from '../../src/pooler/certificates.js';
import { pgbouncerIni, POOLER_TLS_FILES } from '../../src/pooler/config.js';
import { poolerStatus, unwantedPoolerKinds } from '../../src/pooler/pods.js';
import { PoolerRunner, type ExecInPooler, type PoolerRunnerDeps } from '../../src/pooler/runner.js';
import type { ClusterObservation } from '../../src/observe.js';
import { issueCertificateAuthority, type KeyAndCertificate } from '../../src/tls/certificates.js';
import { cluster, poolerCluster } from '../fixtures.js';

const NOW = new Date('2026-12-04T12:00:00Z');
const DAY = 24 * 60 * 60_000;

function poolerPod(name: string, component: 'pooler' | 'pooler-ro', ready = true): V1Pod {
  return {
    metadata: {
      name,
      labels: { 'postgres.example.com/cluster': 'web', 'app.kubernetes.io/component': component },
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('pooler', () => {
  let ca: KeyAndCertificate;
  let data: Record<string, string>;
  before(async () => {
    ca = await issueCertificateAuthority('db/web PostgreSQL CA', NOW);
    data = await issuePoolerCertificates(ca, 'web', 'db', NOW);
  });

  it('presents a certificate naming both Services and logs in to the server as pgop_pooler', () => {
    const server = new X509Certificate(data[POOLER_TLS_FILES.certificate]!);
    for (const host of ['web-pooler', 'web-pooler.db.svc', 'web-pooler-ro.db.svc.cluster.local'])
      assert.ok(server.checkHost(host), `${host} is not covered`);
    assert.ok(server.verify(new X509Certificate(ca.certificate).publicKey));
    assert.match(new X509Certificate(data[POOLER_TLS_FILES.authCertificate]!).subject, /CN=pgop_pooler/);
  });

  it('issues its certificates again when missing, near expiry, or from another CA', async () => {
    assert.equal(poolerCertificatesDue(data, ca.certificate, NOW), false);
    assert.equal(poolerCertificatesDue(undefined, ca.certificate, NOW), true);
    assert.equal(poolerCertificatesDue(data, ca.certificate, new Date(NOW.getTime() + 70 * DAY)), true);
    const other = await issueCertificateAuthority('another CA', NOW);
    assert.equal(poolerCertificatesDue(data, other.certificate, NOW), true);
  });

  it('leads read-write to the primary and read-only to the replicas, verifying them by name', () => {
    const c = cluster(poolerCluster());
    assert.match(pgbouncerIni(c, 'readWrite'), /^\* = host=web-primary\.db\.svc port=5432$/m);
    assert.match(pgbouncerIni(c, 'readOnly'), /^\* = host=web-replica\.db\.svc port=5432$/m);
    assert.match(pgbouncerIni(c, 'readWrite'), /^server_tls_sslmode = verify-full$/m);
    assert.match(pgbouncerIni(c, 'readWrite'), /^client_tls_sslmode = require$/m);
    assert.match(pgbouncerIni(c, 'readWrite'), /^max_client_conn = 2000$/m);
  });

  it('reports ready pods of each kind, and PoolerReady False while some are not or the lookup role is missing', () => {
    const c = cluster(poolerCluster());
    const all = [
      poolerPod('web-pooler-a', 'pooler'),
      poolerPod('web-pooler-b', 'pooler'),
      poolerPod('web-pooler-ro-a', 'pooler-ro'),
    ];
    const ready = poolerStatus(c, all, true);
    assert.deepEqual(ready.status, { readyInstances: 2, readyReadOnlyInstances: 1 });
    assert.equal(ready.condition?.status, 'True');
    const short = poolerStatus(
      c,
      [poolerPod('web-pooler-a', 'pooler'), poolerPod('web-pooler-b', 'pooler', false)],
      true,
    );
    assert.equal(short.condition?.status, 'False');
    assert.match(short.condition!.message, /-pooler 1\/2 ready, -pooler-ro 0\/1 ready/);
    // Every pod ready, but no login can succeed before the lookup role exists.
    const noRole = poolerStatus(c, all, false);
    assert.deepEqual([noRole.condition?.status, noRole.condition?.reason], ['False', 'LookupRoleNotReady']);
    assert.deepEqual(poolerStatus(cluster(), [], true), {});
  });

  it('removes the kinds no longer asked for, and the whole pooler once spec.pooler goes', () => {
    const both = ['readWrite', 'readOnly'] as const;
    assert.deepEqual(unwantedPoolerKinds(cluster(poolerCluster()), both), []);
    const noReadOnly = cluster(poolerCluster(), { pooler: { instances: 2, readOnlyInstances: 0 } });
    assert.deepEqual(unwantedPoolerKinds(noReadOnly, both), ['readOnly']);
    const without = cluster(poolerCluster(), { pooler: undefined });
    assert.deepEqual(unwantedPoolerKinds(without, both), ['readWrite', 'readOnly']);
    assert.deepEqual(unwantedPoolerKinds(cluster(), []), []);
  });

  it("looks up only application roles' SCRAM secrets, as a SECURITY DEFINER function only pgop_pooler may call", () => {
    const lookup = POOLER_ROLE_STATEMENTS.find((s) => s.includes('FUNCTION pgop.pooler_lookup'))!;
    assert.match(lookup, /SECURITY DEFINER SET search_path = pg_catalog/);
    assert.match(lookup, /NOT rolsuper AND NOT rolreplication/);
    for (const role of ['pgop_pooler', 'pgop_monitor', 'pgop_verify', 'replicator', 'rewinder'])
      assert.ok(lookup.includes(`'${role}'`), `${role} is not excluded`);
    assert.ok(POOLER_ROLE_STATEMENTS.includes('REVOKE ALL ON FUNCTION pgop.pooler_lookup(text) FROM PUBLIC'));
  });
});

describe('pooler runner: pause and resume', () => {
  const pods = [
    poolerPod('web-pooler-a', 'pooler'),
    poolerPod('web-pooler-b', 'pooler'),
    poolerPod('web-pooler-ro-a', 'pooler-ro'),
  ];
  const observation = () =>
    ({
      cluster: cluster(poolerCluster()),
      key: 'db/web',
      name: 'web',
      namespace: 'db',
      poolerPods: pods,
    }) as unknown as ClusterObservation;

  /** A runner whose exec answers by `answer` and records every command; events recorded too. */
  function runner(answer: (pod: string, command: string[]) => ExecResult | Error) {
    const commands: string[] = [];
    const events: string[] = [];
    const exec: ExecInPooler = (_namespace, pod, command) => {
      commands.push(`${pod}: ${command.at(-1)}`);
      const result = answer(pod, command);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    };
    const deps = {
      events: {
        about: () => (_type: string, reason: string) => {
          events.push(reason);
          return Promise.resolve();
        },
      },
      logger: createLogger({ component: 'test', level: 'error' }),
      exec,
    } as unknown as PoolerRunnerDeps;
    return { pooler: new PoolerRunner(deps), commands, events };
  }
  const ok: ExecResult = { exitCode: 0, stdout: '', stderr: '' };

  it('pauses every ready read-write pod, and resumes each once it reaches the new primary', async () => {
    const { pooler, commands } = runner(() => ok);
    const paused = await pooler.pause(observation());
    assert.deepEqual(paused, ['web-pooler-a', 'web-pooler-b']);
    await pooler.resume(observation(), paused);
    assert.deepEqual(
      commands.filter((c) => c.endsWith('PAUSE')),
      ['web-pooler-a: PAUSE', 'web-pooler-b: PAUSE'],
    );
    for (const pod of paused) {
      const own = commands.filter((c) => c.startsWith(pod));
      assert.match(own[1]!, /pg_is_in_recovery/, 'the wait for the new primary comes before RESUME');
      assert.equal(own[2], `${pod}: RESUME`);
    }
  });

  it('resumes at once a pod that did not pause, says so, and goes on with the others', async () => {
    const { pooler, commands, events } = runner((pod, command) =>
      pod === 'web-pooler-b' && command.at(-1) === 'PAUSE' ? new Error('pod gone') : ok,
    );
    const paused = await pooler.pause(observation());
    assert.deepEqual(paused, ['web-pooler-a']);
    assert.ok(commands.includes('web-pooler-b: RESUME'));
    assert.deepEqual(events, ['PoolerNotPaused']);
  });

  it('does not pause a session-mode pooler, whose PAUSE would wait for every client to leave', async () => {
    const { pooler, commands } = runner(() => ok);
    const session = {
      ...observation(),
      cluster: cluster(poolerCluster(), { pooler: { instances: 2, poolMode: 'session' } }),
    } as ClusterObservation;
    assert.deepEqual(await pooler.pause(session), []);
    assert.deepEqual(commands, []);
  });

  it('resumes even when the wait for the new primary fails', async () => {
    const { pooler, commands } = runner((_pod, command) =>
      /pg_is_in_recovery/.test(command.at(-1)!) ? new Error('exec refused') : ok,
    );
    await pooler.resume(observation(), ['web-pooler-a']);
    assert.equal(commands.at(-1), 'web-pooler-a: RESUME');
  });
});
