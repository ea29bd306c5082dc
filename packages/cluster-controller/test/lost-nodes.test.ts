/** Instances on lost nodes: when pgop force-deletes them, and when it must not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { decideLostNodes } from '../src/lost-nodes.js';
import { cluster, pod } from './fixtures.js';

const now = new Date('2026-11-24T12:00:00Z');
const node = (
  name: string,
  status: 'True' | 'False' | 'Unknown',
  since = '2026-11-24T11:59:00Z',
): V1Node => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status, lastTransitionTime: since as unknown as Date }] },
});
const on = (p: V1Pod, nodeName: string): V1Pod => ({ ...p, spec: { containers: [], nodeName } });
const nodes = [
  node('good', 'True', '2026-11-24T11:00:00Z'),
  node('lost-long', 'Unknown', '2026-11-24T11:58:00Z'),
  node('lost-short', 'False', '2026-11-24T11:59:30Z'),
];
const pods = [on(pod('db-0'), 'good'), on(pod('db-1'), 'lost-long'), on(pod('db-2'), 'lost-short')];

describe('decideLostNodes', () => {
  it('force-deletes only pods whose node has been NotReady for the whole window (60 s by default)', () => {
    const d = decideLostNodes(cluster(), pods, nodes, now);
    assert.deepEqual(
      d.due.map((l) => [l.pod, l.node, l.uid]),
      [['db-1', 'lost-long', 'uid-db-1']],
    );
    assert.deepEqual(
      d.waiting.map((l) => [l.pod, l.forceDeleteAt.toISOString()]),
      [['db-2', '2026-11-24T12:00:30.000Z']],
    );
  });

  it('honours a longer window and the off switch', () => {
    const longer = decideLostNodes(
      cluster(undefined, { highAvailability: { lostNodeConfirmationSeconds: 600 } }),
      pods,
      nodes,
      now,
    );
    assert.equal(longer.due.length, 0);
    assert.equal(longer.waiting.length, 2);
    const off = decideLostNodes(
      cluster(undefined, { highAvailability: { forceDeletePodsOnLostNodes: false } }),
      pods,
      nodes,
      now,
    );
    assert.deepEqual([off.due.length, off.waiting.length, off.forceDeleteEnabled], [0, 2, false]);
  });

  it('force-deletes nothing while no node is Ready (an API server outage marks every node NotReady)', () => {
    const afterOutage = nodes.map((n) =>
      n.metadata!.name === 'good' ? node('good', 'Unknown', '2026-11-24T11:58:00Z') : n,
    );
    const d = decideLostNodes(cluster(), pods, afterOutage, now);
    assert.equal(d.noNodeReady, true);
    assert.deepEqual(d.due, []);
    assert.deepEqual(d.waiting.map((l) => l.pod).sort(), ['db-0', 'db-1', 'db-2']);
  });

  it('gives a node still NotReady after the outage the whole window from when the first node came back', () => {
    const firstBack = nodes.map((n) =>
      n.metadata!.name === 'good' ? node('good', 'True', '2026-11-24T11:59:50Z') : n,
    );
    const d = decideLostNodes(cluster(), pods, firstBack, now);
    assert.deepEqual(d.due, []);
    assert.deepEqual(
      d.waiting.map((l) => [l.pod, l.forceDeleteAt.toISOString()]),
      [
        ['db-1', '2026-11-24T12:00:50.000Z'],
        ['db-2', '2026-11-24T12:00:50.000Z'],
      ],
    );
  });

  it('leaves pods alone on Ready nodes, unknown nodes, and pods not yet scheduled', () => {
    const d = decideLostNodes(
      cluster(),
      [on(pod('db-0'), 'good'), on(pod('db-1'), 'gone'), pod('db-2')],
      nodes,
      now,
    );
    assert.deepEqual([d.due.length, d.waiting.length], [0, 0]);
  });
});
