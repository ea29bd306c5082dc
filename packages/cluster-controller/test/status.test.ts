/** Phase and conditions from what is observed: the progression a user sees with kubectl get -w. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterPhase } from '@pgop/api';
import { computeStatus, type StatusObservation } from '../src/status.js';
import { cluster, pod } from './fixtures.js';

const now = new Date('2026-11-24T12:00:00Z');
const observe = (o: Partial<StatusObservation>, phase?: ClusterPhase): StatusObservation => {
  const c = cluster();
  if (phase) c.status = { phase };
  return { cluster: c, statefulSetExists: true, pods: [], paused: false, now, ...o };
};
const three = [pod('my-cluster-0', { role: 'primary' }), pod('my-cluster-1'), pod('my-cluster-2')];

describe('computeStatus', () => {
  it('shows the demo progression: Pending, Creating 0/3, 1/3, Running 3/3', () => {
    assert.equal(computeStatus(observe({ statefulSetExists: false })).phase, 'Pending');
    const none = computeStatus(observe({}));
    assert.deepEqual([none.phase, none.readySummary], ['Creating', '0/3']);
    const one = computeStatus(
      observe({ pods: [three[0]!, pod('my-cluster-1', { ready: false })], leader: 'my-cluster-0' }),
    );
    assert.deepEqual([one.phase, one.readySummary], ['Creating', '1/3']);
    const all = computeStatus(observe({ pods: three, leader: 'my-cluster-0' }));
    assert.deepEqual([all.phase, all.readySummary, all.primaryPod], ['Running', '3/3', 'my-cluster-0']);
    assert.equal(all.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
  });

  it('reports the primary only when Patroni holds the lock and labelled that pod', () => {
    assert.equal(computeStatus(observe({ pods: three, leader: 'my-cluster-1' })).primaryPod, undefined);
    assert.equal(computeStatus(observe({ pods: three })).primaryPod, undefined);
  });

  it('is Degraded after running when an instance is lost, Failed when none is ready', () => {
    const degraded = computeStatus(observe({ pods: three.slice(0, 2), leader: 'my-cluster-0' }, 'Running'));
    assert.equal(degraded.phase, 'Updating', 'a missing pod is being recreated');
    const notReady = computeStatus(
      observe(
        { pods: [three[0]!, three[1]!, pod('my-cluster-2', { ready: false })], leader: 'my-cluster-0' },
        'Running',
      ),
    );
    assert.equal(notReady.phase, 'Degraded');
    assert.equal(notReady.conditions!.find((c) => c.type === 'Degraded')!.status, 'True');
    const noPrimary = computeStatus(observe({ pods: three.slice(1) }, 'Running'));
    assert.equal(noPrimary.phase, 'Degraded');
    const down = computeStatus(
      observe({ pods: three.map((p) => pod(p.metadata!.name!, { ready: false })) }, 'Running'),
    );
    assert.equal(down.phase, 'Failed');
  });

  it('explains a blocked change in Progressing, with the reason', () => {
    const s = computeStatus(
      observe(
        {
          pods: three,
          leader: 'my-cluster-0',
          blocker: { reason: 'MajorVersionChangeRefused', message: 'no' },
        },
        'Running',
      ),
    );
    const progressing = s.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([progressing.status, progressing.reason], ['False', 'MajorVersionChangeRefused']);
  });

  it('says Paused while paused', () => {
    const s = computeStatus(observe({ pods: three, leader: 'my-cluster-0', paused: true }, 'Running'));
    assert.equal(s.conditions!.find((c) => c.type === 'Progressing')!.reason, 'Paused');
  });

  it('sets observedGeneration on the status and on every condition', () => {
    const s = computeStatus(observe({ pods: three, leader: 'my-cluster-0' }));
    assert.equal(s.observedGeneration, 1);
    assert.ok(s.conditions!.every((c) => c.observedGeneration === 1));
  });
});
