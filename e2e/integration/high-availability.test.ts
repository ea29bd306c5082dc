/**
 * What the cluster controller makes visible about HA, against a real API server. No kubelet
 * runs here, so the test plays Patroni and the kubelet: it creates instance pods, sets their
 * readiness and role labels, and moves Patroni's leader lock. Checked: the failover record,
 * event and metric; primaryPod kept while no one leads; a stale primary label removed;
 * switchover requests refused with a reason; and pods on a NotReady node force-deleted after the
 * confirmation window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createControllerMetrics } from '@pgop/runtime';
import { stringify } from 'yaml';
import {
  eventually,
  kubectlOk,
  startApiServer,
  startClusterController,
  type TestApiServer,
} from '../src/harness/index.js';

const NS = 'ha';

describe('high availability visibility (integration)', () => {
  let server: TestApiServer;
  let stop: () => Promise<void>;
  const metrics = createControllerMetrics();
  const k = (...args: string[]) => kubectlOk(server, ['-n', NS, ...args]);
  const apply = (obj: object) =>
    kubectlOk(server, ['-n', NS, 'apply', '--server-side', '-f', '-'], stringify(obj));
  type Status = {
    primaryPod?: string;
    lastFailover?: { from: string; to: string; reason: string; time: string };
    lastSwitchover?: { phase: string; request?: string; message?: string };
    primaryHistory?: unknown[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  const status = (name: string) =>
    (JSON.parse(k('get', 'pgc', name, '-o', 'json')) as { status?: Status }).status ?? {};
  const until = <T>(what: string, check: () => T | undefined) => eventually(what, check, 30, undefined, 200);
  const eventReasons = () => k('get', 'events.events.k8s.io', '-o', 'jsonpath={.items[*].reason}');
  const eventNotes = () => k('get', 'events.events.k8s.io', '-o', 'jsonpath={.items[*].note}');

  const cluster = (name: string, spec: Record<string, unknown> = {}) =>
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresCluster',
      metadata: { name },
      spec: { version: 17, replicas: 2, storage: { size: '1Gi' }, ...spec },
    });
  /** An instance pod as Patroni and the kubelet would leave it: scheduled, running, ready, labelled. */
  const instance = (cluster: string, ordinal: number, role: 'primary' | 'replica', node = 'node-a') => {
    const name = `${cluster}-${ordinal}`;
    apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        labels: {
          'postgres.example.com/cluster': cluster,
          'app.kubernetes.io/component': 'database',
          'postgres.example.com/role': role,
        },
        annotations: {
          status: JSON.stringify({ role, state: role === 'primary' ? 'running' : 'streaming' }),
        },
      },
      spec: { nodeName: node, containers: [{ name: 'postgres', image: 'localhost/pgop/postgres:17' }] },
    });
    setStatus('pod', name, {
      phase: 'Running',
      podIP: `10.0.0.${ordinal + 1}`,
      conditions: [{ type: 'Ready', status: 'True' }],
    });
  };
  /** Writes status as only the kubelet would (the status subresource). */
  const setStatus = (kind: 'pod' | 'node', name: string, status: object) =>
    kubectlOk(server, [
      ...(kind === 'pod' ? ['-n', NS] : []),
      'patch',
      kind,
      name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
  const setRole = (pod: string, role: 'primary' | 'replica') =>
    k('label', 'pod', pod, `postgres.example.com/role=${role}`, '--overwrite');
  /** Patroni's leader lock: the -leader ConfigMap's annotations. */
  const lead = (cluster: string, leader: string, acquireTime = new Date().toISOString()) =>
    apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `${cluster}-leader`,
        labels: { 'postgres.example.com/cluster': cluster },
        annotations: { leader, acquireTime },
      },
    });
  /** A 2-instance cluster as Patroni leaves it: <name>-0 primary holding the lock, <name>-1 a replica. */
  const twoInstances = (name: string, spec: Record<string, unknown> = {}, replicaNode = 'node-a') => {
    cluster(name, spec);
    instance(name, 0, 'primary');
    instance(name, 1, 'replica', replicaNode);
    lead(name, `${name}-0`);
  };
  const node = (name: string, ready: 'True' | 'Unknown', since: Date) => {
    apply({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    setStatus('node', name, {
      conditions: [
        {
          type: 'Ready',
          status: ready,
          reason: 'test',
          lastHeartbeatTime: since.toISOString(),
          lastTransitionTime: since.toISOString(),
        },
      ],
    });
  };

  before(async () => {
    server = await startApiServer();
    stop = (await startClusterController(server, NS, metrics)).stop;
  });
  after(async () => {
    await stop?.();
    await server?.stop();
  });

  it('records a failover: primaryPod follows, lastFailover, history, a Warning event and the metric', async () => {
    node('node-a', 'True', new Date());
    twoInstances('fo');
    await until('primary fo-0', () => (status('fo').primaryPod === 'fo-0' ? true : undefined));

    // Patroni demotes the old primary; for a while no one holds the lock.
    k('delete', 'pod', 'fo-0', '--wait=false');
    lead('fo', '');
    await until('NoPrimary', () =>
      status('fo').conditions?.find((c) => c.type === 'Ready' && c.reason === 'NoPrimary'),
    );
    assert.equal(status('fo').primaryPod, 'fo-0', 'the last primary is kept while no one leads');

    const acquired = '2026-11-24T12:00:01.000Z';
    setRole('fo-1', 'primary');
    lead('fo', 'fo-1', acquired);
    const s = await until('lastFailover', () => status('fo').lastFailover);
    assert.deepEqual(s, { time: acquired, from: 'fo-0', to: 'fo-1', reason: 'PrimaryUnavailable' });
    assert.equal(status('fo').primaryPod, 'fo-1');
    assert.equal(status('fo').primaryHistory?.length, 1);
    await until('FailoverExecuted event', () =>
      eventReasons().includes('FailoverExecuted') ? true : undefined,
    );
    assert.match(eventNotes(), /failed over from fo-0 to fo-1 \(PrimaryUnavailable\)/);
    const exposed = await metrics.registry.metrics();
    assert.match(
      exposed,
      /pgop_failovers_total\{namespace="ha",cluster="fo",reason="PrimaryUnavailable"\} 1/,
    );
  });

  it('takes the primary label off a pod that lost the lock and could not relabel itself, after a Patroni loop', async () => {
    node('node-a', 'True', new Date());
    twoInstances('stale');
    await until('primary stale-0', () => (status('stale').primaryPod === 'stale-0' ? true : undefined));

    // stale-0 died with its node: its label stays; stale-1 takes the lock and labels itself.
    setRole('stale-1', 'primary');
    const acquiredAt = Date.now();
    lead('stale', 'stale-1', new Date(acquiredAt).toISOString());
    const roleOf = (pod: string) =>
      k('get', 'pod', pod, '-o', "jsonpath={.metadata.labels['postgres\\.example\\.com/role']}");
    await until('the stale label removed', () => (roleOf('stale-0') === '' ? true : undefined));
    assert.ok(Date.now() - acquiredAt >= 6000, 'not before a live Patroni had a loop to relabel itself');
    assert.equal(roleOf('stale-1'), 'primary');
    // The event is recorded after the label is patched: wait for it too.
    await until('StalePrimaryLabelRemoved event', () =>
      /removed the primary label from stale-0: Patroni's leader is stale-1/.test(eventNotes())
        ? true
        : undefined,
    );
  });

  it('answers a switchover request it cannot carry out with Failed, the reason, and a Warning event', async () => {
    k(
      'annotate',
      'pgc',
      'fo',
      'postgres.example.com/switchover=req-1',
      'postgres.example.com/switchover-target=fo-7',
    );
    const s = await until('lastSwitchover', () =>
      status('fo').lastSwitchover?.request === 'req-1' ? status('fo').lastSwitchover : undefined,
    );
    assert.equal(s.phase, 'Failed');
    assert.match(s.message!, /switchover-target: fo-7 is not a ready, streaming replica of this cluster/);
    await until('SwitchoverFailed event', () =>
      eventReasons().includes('SwitchoverFailed') ? true : undefined,
    );
    // The same value again is the same request: it is not repeated.
    const before = JSON.stringify(status('fo').lastSwitchover);
    k('annotate', 'pgc', 'fo', 'postgres.example.com/switchover-target=fo-8', '--overwrite');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(JSON.stringify(status('fo').lastSwitchover), before);
  });

  it('goes on past a Patroni configuration it cannot read: a Warning event, and the rest of the reconcile still runs', async () => {
    twoInstances('garbled');
    apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'garbled-config',
        labels: { 'postgres.example.com/cluster': 'garbled' },
        annotations: { config: '{"ttl": 20, not json' },
      },
    });
    k(
      'annotate',
      'pgc',
      'garbled',
      'postgres.example.com/switchover=req-1',
      'postgres.example.com/switchover-target=garbled-7',
    );
    // The switchover step comes after the configuration's: it is answered only if the reconcile went on.
    const s = await until('lastSwitchover', () =>
      status('garbled').lastSwitchover?.request === 'req-1' ? status('garbled').lastSwitchover : undefined,
    );
    assert.equal(s.phase, 'Failed');
    await until('PatroniConfigurationUnreadable event', () =>
      /Patroni's configuration in ConfigMap garbled-config is not a JSON object/.test(eventNotes())
        ? true
        : undefined,
    );
  });

  it('by default force-deletes nothing on a NotReady node, and lets the pod go once the node is tainted out-of-service', async () => {
    node('node-c', 'Unknown', new Date(Date.now() - 3600_000));
    twoInstances('proof', {}, 'node-c');
    const waiting = await until('NodeLost', () =>
      status('proof').conditions?.find((c) => c.type === 'NodeLost' && c.status === 'True'),
    );
    assert.equal(waiting.reason, 'AwaitingProof');
    assert.match(waiting.message, /proof-1: its node node-c has been NotReady since/);
    assert.match(waiting.message, /node.kubernetes.io\/out-of-service=nodeshutdown:NoExecute/);
    k('delete', 'pod', 'proof-1', '--wait=false');
    await new Promise((r) => setTimeout(r, 3000));
    assert.match(k('get', 'pods', '-o', 'name'), /pod\/proof-1/, 'an hour NotReady is still no proof');
    kubectlOk(server, [
      'taint',
      'node',
      'node-c',
      'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute',
    ]);
    await until('proof-1 force-deleted', () =>
      k('get', 'pods', '-o', 'name').includes('pod/proof-1') ? undefined : true,
    );
    // The event is recorded after the delete: wait for it too.
    await until('PodForceDeleted event for proof-1', () =>
      /force-deleted proof-1: the Node node-c is tainted node.kubernetes.io\/out-of-service/.test(
        eventNotes(),
      )
        ? true
        : undefined,
    );
  });

  it('with the opt-in window, waits it out, then force-deletes pods stuck on a NotReady node', async () => {
    node('node-b', 'Unknown', new Date());
    twoInstances('ln', { highAvailability: { lostNodeConfirmationSeconds: 10 } }, 'node-b');
    const waiting = await until('NodeLost', () =>
      status('ln').conditions?.find((c) => c.type === 'NodeLost' && c.status === 'True'),
    );
    assert.equal(waiting.reason, 'AwaitingConfirmation');
    assert.match(waiting.message, /ln-1: its node node-b has been NotReady since/);
    // No kubelet confirms a graceful delete here, as on a lost node: only a force-delete removes it.
    k('delete', 'pod', 'ln-1', '--wait=false');
    await until('ln-1 force-deleted', () =>
      k('get', 'pods', '-o', 'name').includes('pod/ln-1') ? undefined : true,
    );
    assert.match(k('get', 'pods', '-o', 'name'), /pod\/ln-0/, 'the pod on the Ready node stays');
    await until('PodForceDeleted event for ln-1', () =>
      /force-deleted ln-1: its node node-b has been NotReady since/.test(eventNotes()) ? true : undefined,
    );
  });

  it('only reports lost nodes when force-delete is turned off', async () => {
    twoInstances(
      'keep',
      { highAvailability: { forceDeletePodsOnLostNodes: false, lostNodeConfirmationSeconds: 10 } },
      'node-b',
    );
    await until('ForceDeleteDisabled', () =>
      status('keep').conditions?.find((c) => c.type === 'NodeLost' && c.reason === 'ForceDeleteDisabled'),
    );
    await new Promise((r) => setTimeout(r, 12_000));
    assert.match(k('get', 'pods', '-o', 'name'), /pod\/keep-1/);
  });
});
