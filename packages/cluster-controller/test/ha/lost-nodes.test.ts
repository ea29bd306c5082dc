/** Instances on lost nodes: when pgop force-deletes them (on proof, or an opt-in window), and when it must not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { decideLostNodes } from '../../src/ha/lost-nodes.js';
import { cluster, pod } from '../fixtures.js';

const now = new Date('2026-11-24T12:00:00Z');
const node = (
  name: string,
  status: 'True' | 'False' | 'Unknown',
  since = '2026-11-24T11:59:00Z',
  taints: string[] = [],
): V1Node => ({
  metadata: { name },
  spec: { taints: taints.map((key) => ({ key, effect: 'NoExecute' })) },
  status: { conditions: [{ type: 'Ready', status, lastTransitionTime: since as unknown as Date }] },
});
/** The opt-in window of the earlier default. */
const withWindow = (seconds = 60) =>
  cluster(undefined, { highAvailability: { lostNodeConfirmationSeconds: seconds } });
const pairs = (l: { pod: string; forceDeleteAt?: Date }[]) =>
  l.map((x) => [x.pod, x.forceDeleteAt?.toISOString()]);
const on = (p: V1Pod, nodeName: string): V1Pod => ({ ...p, spec: { containers: [], nodeName } });
const nodes = [
  node('good', 'True', '2026-11-24T11:00:00Z'),
  node('lost-long', 'Unknown', '2026-11-24T11:58:00Z'),
  node('lost-short', 'False', '2026-11-24T11:59:30Z'),
];
const pods = [on(pod('db-0'), 'good'), on(pod('db-1'), 'lost-long'), on(pod('db-2'), 'lost-short')];

describe('decideLostNodes', () => {
  it('by default force-deletes nothing on a node that is only NotReady, however long', () => {
    const d = decideLostNodes(cluster(), pods, nodes, new Date('2026-11-30T12:00:00Z'));
    assert.deepEqual(d.due, []);
    assert.deepEqual(
      d.waiting.map((l) => l.pod),
      ['db-1', 'db-2'],
    );
    assert.equal(d.windowSeconds, undefined);
    assert.equal(d.recheckAt, undefined, 'proof arrives as an event, not with time');
  });

  it('force-deletes on proof: the Node deleted, out-of-service, or the provider shutdown taint', () => {
    const tainted = [
      node('good', 'True', '2026-11-24T11:00:00Z'),
      node('off', 'Unknown', '2026-11-24T11:59:59Z', ['node.kubernetes.io/out-of-service']),
      node('shut', 'Unknown', '2026-11-24T11:59:59Z', ['node.cloudprovider.kubernetes.io/shutdown']),
    ];
    const d = decideLostNodes(
      cluster(),
      [on(pod('db-0'), 'off'), on(pod('db-1'), 'shut'), on(pod('db-2'), 'deleted-node')],
      tainted,
      now,
    );
    assert.deepEqual(
      d.due.map((l) => [l.pod, l.proof]),
      [
        ['db-0', 'the Node off is tainted node.kubernetes.io/out-of-service'],
        ['db-1', 'the Node shut is tainted node.cloudprovider.kubernetes.io/shutdown'],
        ['db-2', 'the Node deleted-node was deleted'],
      ],
    );
  });

  it('never force-deletes a pod whose Patroni still renews the leader lock, proof or not, and looks again when the lock expires', () => {
    const off = [node('off', 'Unknown', '2026-11-24T11:59:00Z', ['node.kubernetes.io/out-of-service'])];
    const lock = { holder: 'db-0', renewedAt: new Date('2026-11-24T11:59:55Z'), ttlSeconds: 20 };
    const d = decideLostNodes(cluster(), [on(pod('db-0'), 'off')], off, now, lock);
    assert.deepEqual(d.due, []);
    assert.equal(d.waiting[0]!.renewsLeaderLock, true);
    assert.equal(d.recheckAt?.toISOString(), '2026-11-24T12:00:15.000Z');
    const expired = decideLostNodes(
      cluster(),
      [on(pod('db-0'), 'off')],
      off,
      new Date('2026-11-24T12:00:16Z'),
      lock,
    );
    assert.deepEqual(
      expired.due.map((l) => l.pod),
      ['db-0'],
    );
  });

  it('with the opt-in window, force-deletes pods whose node has been NotReady for the whole window', () => {
    const d = decideLostNodes(withWindow(), pods, nodes, now);
    assert.deepEqual(
      d.due.map((l) => [l.pod, l.node, l.uid]),
      [['db-1', 'lost-long', 'uid-db-1']],
    );
    assert.deepEqual(pairs(d.waiting), [['db-2', '2026-11-24T12:00:30.000Z']]);
    assert.equal(d.recheckAt?.toISOString(), '2026-11-24T12:00:30.000Z');
  });

  it('honours a longer window and the off switch (which also stops force-deletion on proof)', () => {
    const longer = decideLostNodes(withWindow(600), pods, nodes, now);
    assert.equal(longer.due.length, 0);
    assert.equal(longer.waiting.length, 2);
    const off = decideLostNodes(
      cluster(undefined, { highAvailability: { forceDeletePodsOnLostNodes: false } }),
      [on(pod('db-0'), 'deleted-node')],
      nodes,
      now,
    );
    assert.deepEqual([off.due.length, off.waiting.length, off.forceDeleteEnabled], [0, 1, false]);
  });

  it('the window force-deletes nothing while no node is Ready (an API server outage marks every node NotReady)', () => {
    const afterOutage = nodes.map((n) =>
      n.metadata!.name === 'good' ? node('good', 'Unknown', '2026-11-24T11:58:00Z') : n,
    );
    const d = decideLostNodes(withWindow(), pods, afterOutage, now);
    assert.equal(d.noNodeReady, true);
    assert.deepEqual(d.due, []);
    assert.deepEqual(d.waiting.map((l) => l.pod).sort(), ['db-0', 'db-1', 'db-2']);
  });

  it('gives a node still NotReady after the outage the whole window from when the first node came back', () => {
    const firstBack = nodes.map((n) =>
      n.metadata!.name === 'good' ? node('good', 'True', '2026-11-24T11:59:50Z') : n,
    );
    const d = decideLostNodes(withWindow(), pods, firstBack, now);
    assert.deepEqual(d.due, []);
    assert.deepEqual(pairs(d.waiting), [
      ['db-1', '2026-11-24T12:00:50.000Z'],
      ['db-2', '2026-11-24T12:00:50.000Z'],
    ]);
  });

  it('leaves pods alone on Ready nodes, pods not yet scheduled, and everything while no node is known', () => {
    const d = decideLostNodes(cluster(), [on(pod('db-0'), 'good'), pod('db-2')], nodes, now);
    assert.deepEqual([d.due.length, d.waiting.length], [0, 0]);
    const empty = decideLostNodes(cluster(), [on(pod('db-1'), 'gone')], [], now);
    assert.deepEqual([empty.due.length, empty.waiting.length], [0, 0]);
  });
});
