/**
 * A leader frozen longer than its lease (kill -STOP: a stopped process, a stalled node) must not
 * act when it wakes: its watch events, queue and timers all fire at once, on a cache from before
 * the freeze, while another replica may lead. Two cluster-controller processes against a real
 * API server: the leader is stopped, the standby takes the lease and is then killed (so nothing
 * else acts), the cluster's spec changes, and the old leader is continued. It must exit without
 * writing: the StatefulSet keeps the replicas it had.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  REPO_ROOT,
  eventually,
  kubectl,
  startControllerProcess,
  type ControllerProcess,
  kubectlOk,
  startApiServer,
  type TestApiServer,
} from '../src/harness/index.js';

const NS = 'db';
const LEASE = 'pgop-cluster-controller';

describe('a frozen leader (kill -STOP longer than the lease)', () => {
  let server: TestApiServer;
  const replicas: Record<string, ControllerProcess> = {};
  const k = (...args: string[]) => kubectlOk(server, ['-n', NS, ...args]);
  const holder = () =>
    kubectl(server, [
      '-n',
      'default',
      'get',
      'lease',
      LEASE,
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]).stdout.trim();

  before(async () => {
    server = await startApiServer();
    kubectlOk(server, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
    kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    kubectlOk(server, ['create', 'namespace', NS]);
    for (const name of ['replica-a', 'replica-b'])
      replicas[name] = await startControllerProcess(server, 'cluster-controller', {
        POD_NAME: name,
        POD_NAMESPACE: 'default',
        PGOP_POSTGRES_IMAGES: '17=localhost/pgop/postgres:17',
      });
  });
  after(async () => {
    for (const r of Object.values(replicas)) {
      r.child.kill('SIGCONT');
      r.child.kill('SIGKILL');
    }
    await server?.stop();
  });

  it('makes no write when it wakes, and exits: it no longer knows that it leads', async () => {
    const leader = await eventually('a leader', () => holder() || undefined, 60);
    const standby = Object.keys(replicas).find((n) => n !== leader)!;
    kubectlOk(
      server,
      ['-n', NS, 'apply', '--server-side', '-f', '-'],
      stringify({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresCluster',
        metadata: { name: 'alpha' },
        spec: { version: 17, replicas: 3, storage: { size: '1Gi' } },
      }),
    );
    const statefulSetReplicas = () =>
      kubectl(server, [
        '-n',
        NS,
        'get',
        'statefulset',
        'alpha',
        '-o',
        'jsonpath={.spec.replicas}',
      ]).stdout.trim();
    await eventually(
      'the leader made the StatefulSet',
      () => (statefulSetReplicas() === '3' ? true : undefined),
      60,
    );

    replicas[leader]!.child.kill('SIGSTOP');
    await eventually(`${standby} takes the lease`, () => (holder() === standby ? true : undefined), 60);
    // Nothing else acts from now on: the standby is gone, its lease still fresh for 15 s.
    replicas[standby]!.child.kill('SIGKILL');
    await replicas[standby]!.exit;
    k('patch', 'pgc', 'alpha', '--type=merge', '-p', '{"spec":{"replicas":2}}');

    replicas[leader]!.child.kill('SIGCONT');
    const code = await replicas[leader]!.exit;
    const log = replicas[leader]!.output.join('');
    assert.equal(code, 1, 'it exits to be restarted clean');
    assert.match(log, /lost the lease/);
    assert.equal(statefulSetReplicas(), '3', `the woken leader wrote the StatefulSet:\n${log.slice(-3000)}`);
  });
});
