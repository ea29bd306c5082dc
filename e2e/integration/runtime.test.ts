/**
 * The controller machinery against a real API server: leader election on a Lease (one leader,
 * hand-over on release and on a dead leader, a frozen leader that no longer acts), request
 * deadlines, the informer cache, and the object client's
 * write semantics (server-side apply, create-if-absent).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import {
  boundApiRequests,
  createLogger,
  Informer,
  LeaderElector,
  NotLeaderError,
  ObjectClient,
  setWriteGuard,
} from '@pgop/runtime';
import { kubectl, kubectlOk, startApiServer, type TestApiServer } from '../src/harness/index.js';

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

  it('releases the lease even while a renewal is in flight, and does not take it back', async () => {
    // Renewing without pause keeps a renewal in flight most of the time: a release written from
    // the copy of the lease the last renewal returned conflicts with it (the CI failure above).
    for (let round = 1; round <= 10; round++) {
      const leader = new LeaderElector({
        kubeConfig: server.kubeConfig,
        namespace: 'default',
        name: 'release-race',
        identity: `leader-${round}`,
        logger,
        ...timing,
        retryPeriodMs: 0,
      });
      let leading = false;
      void leader.run(
        () => (leading = true),
        () => undefined,
      );
      while (!leading) await sleep(10);
      await sleep(20 + round * 7);
      await leader.release();
      await sleep(100); // a renewal that read the lease before the release must not write it back
      assert.equal(holder('release-race'), '', `round ${round}: the released lease has no holder`);
    }
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

  it('a leader frozen past renewDeadline stops leading at once, and its writes are refused until it renews', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(server.kubeconfigPath);
    boundApiRequests(kubeConfig);
    const client = new ObjectClient(kubeConfig, 'test');
    const frozen = new LeaderElector({
      kubeConfig,
      namespace: 'default',
      name: 'frozen',
      identity: 'f',
      logger,
      ...timing,
    });
    setWriteGuard(() => frozen.isLeader);
    try {
      let lost = false;
      let leading = false;
      void frozen.run(
        () => (leading = true),
        () => (lost = true),
      );
      while (!leading) await sleep(50);
      const configMap = (name: string) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' },
      });
      await client.apply(configMap('while-leading'));
      // The whole thread stops, timers and sockets included, as under SIGSTOP.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, timing.leaseDurationMs + 500);
      // Nothing has run since: the elector's loop has not looked at the lease yet.
      assert.equal(lost, false);
      assert.equal(frozen.isLeader, false, 'it does not know that it still leads');
      await assert.rejects(client.apply(configMap('after-the-freeze')), NotLeaderError);
      while (!lost) await sleep(50);
      assert.equal(
        kubectl(server, ['-n', 'default', 'get', 'configmap', 'after-the-freeze']).code,
        1,
        'the write never reached the API server',
      );
    } finally {
      setWriteGuard(() => true);
      await frozen.release();
    }
  });

  it('gives every API request but a watch a deadline', async () => {
    const kubeConfig = new KubeConfig();
    // A server that accepts the connection and never answers: a half-open connection.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const requests: string[] = [];
    boundApiRequests(kubeConfig, {
      timeoutMs: 1_000,
      onRequest: (method, resource) => requests.push(`${method} ${resource}`),
    });
    const started = Date.now();
    await assert.rejects(
      new ObjectClient(kubeConfig, 'test').read({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'x',
        namespace: 'default',
      }),
    );
    const waited = Date.now() - started;
    assert.ok(
      waited >= 900 && waited < 5_000,
      `given up after its deadline (1 s), not before or never: ${waited} ms`,
    );
    silent.closeAllConnections();
    silent.close();
    // The first request of a read is client-node's discovery of the core API, never answered here.
    assert.deepEqual(requests, ['GET /api/v1'], `counted once, by method and path: ${requests}`);
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
