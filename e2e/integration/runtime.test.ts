/**
 * The controller machinery against a real API server: leader election on a Lease (one leader,
 * hand-over on release and on a dead leader), the informer cache, and the object client's
 * write semantics (server-side apply, create-if-absent).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { createLogger, Informer, LeaderElector, ObjectClient } from '@pgop/runtime';
import { kubectlOk, startApiServer, type TestApiServer } from '../src/index.js';

const logger = createLogger({ component: 'test', level: 'error' });
const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 };

describe('runtime (integration)', () => {
  let server: TestApiServer;

  before(async () => {
    server = await startApiServer();
  });
  after(async () => server?.stop());

  const elector = (identity: string, name: string) =>
    new LeaderElector({
      kubeConfig: server.kubeConfig,
      namespace: 'default',
      name,
      identity,
      logger,
      ...timing,
    });
  const holder = (name: string) =>
    kubectlOk(server, ['-n', 'default', 'get', 'lease', name, '-o', 'jsonpath={.spec.holderIdentity}']);

  it('elects exactly one leader, and hands over at once when it releases', async () => {
    const events: string[] = [];
    const a = elector('a', 'handover');
    const b = elector('b', 'handover');
    void a.run(
      () => events.push('a leads'),
      () => events.push('a lost'),
    );
    await sleep(500);
    void b.run(
      () => events.push('b leads'),
      () => events.push('b lost'),
    );
    await sleep(1_500);
    assert.deepEqual(events, ['a leads']);
    assert.equal(holder('handover'), 'a');
    const released = Date.now();
    await a.release();
    while (!events.includes('b leads')) await sleep(50);
    assert.ok(
      Date.now() - released < timing.leaseDurationMs,
      'a released lease is taken without waiting for it to expire',
    );
    assert.equal(holder('handover'), 'b');
    await b.release();
  });

  it('takes over from a leader that stopped renewing, only after the lease expired', async () => {
    // What a killed leader leaves behind: a lease it renewed a moment ago and never will again.
    kubectlOk(
      server,
      ['-n', 'default', 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'expiry' },
        spec: {
          holderIdentity: 'dead',
          leaseDurationSeconds: 3,
          renewTime: new Date().toISOString().replace('Z', '000Z'),
        },
      }),
    );
    const standby = elector('standby', 'expiry');
    let tookOverAt = 0;
    const started = Date.now();
    void standby.run(
      () => (tookOverAt = Date.now()),
      () => undefined,
    );
    while (!tookOverAt) await sleep(50);
    assert.ok(tookOverAt - started >= timing.leaseDurationMs - 500, 'not before the lease ran out');
    assert.equal(holder('expiry'), 'standby');
    assert.equal(
      kubectlOk(server, [
        '-n',
        'default',
        'get',
        'lease',
        'expiry',
        '-o',
        'jsonpath={.spec.leaseTransitions}',
      ]),
      '1',
    );
    await standby.release();
  });

  it('keeps a cache of objects current and reports every change', async () => {
    const seen: string[] = [];
    const informer = new Informer<V1ConfigMap>({
      kubeConfig: server.kubeConfig,
      logger,
      apiVersion: 'v1',
      kind: 'ConfigMap',
      path: '/api/v1/configmaps',
      labelSelector: 'test=informer',
      onChange: (cm, event) => seen.push(`${event}:${cm.metadata?.name}:${cm.data?.v ?? ''}`),
    });
    kubectlOk(server, ['-n', 'default', 'create', 'configmap', 'one', '--from-literal=v=1']);
    kubectlOk(server, ['-n', 'default', 'label', 'configmap', 'one', 'test=informer']);
    await informer.start();
    await informer.synced;
    assert.equal(informer.get('one', 'default')?.data?.v, '1');
    assert.equal(
      informer.get('one', 'default')?.metadata?.managedFields,
      undefined,
      'managedFields are not cached',
    );
    kubectlOk(server, ['-n', 'default', 'patch', 'configmap', 'one', '-p', '{"data":{"v":"2"}}']);
    kubectlOk(server, ['-n', 'default', 'delete', 'configmap', 'one']);
    const deadline = Date.now() + 10_000;
    while (!seen.includes('delete:one:2') && Date.now() < deadline) await sleep(50);
    assert.deepEqual(seen, ['add:one:1', 'update:one:2', 'delete:one:2']);
    assert.equal(informer.get('one', 'default'), undefined);
    await informer.stop();
  });

  it('applies server-side idempotently, and createIfAbsent never overwrites', async () => {
    const client = new ObjectClient(server.kubeConfig, 'pgop-test');
    const cm: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: 'default' },
      data: { a: '1' },
    };
    const first = await client.apply(cm);
    const second = await client.apply(cm);
    assert.equal(
      second.metadata?.resourceVersion,
      first.metadata?.resourceVersion,
      'a no-op apply writes nothing',
    );
    assert.equal(await client.createIfAbsent({ ...cm, data: { a: 'changed' } }), 'exists');
    assert.equal(
      kubectlOk(server, ['-n', 'default', 'get', 'configmap', 'applied', '-o', 'jsonpath={.data.a}']),
      '1',
    );
    const managers = kubectlOk(server, [
      '-n',
      'default',
      'get',
      'configmap',
      'applied',
      '--show-managed-fields',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    assert.equal(managers, 'pgop-test');
  });
});
