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

  it('keeps the last primary while no instance holds the role, and records a failover in lastFailover and the history', () => {
    const c = cluster();
    c.status = { phase: 'Running', primaryPod: 'my-cluster-0' };
    const gap = computeStatus({ ...observe({ pods: three.slice(1) }), cluster: c });
    assert.equal(gap.primaryPod, 'my-cluster-0');
    assert.equal(gap.conditions!.find((x) => x.type === 'Ready')!.reason, 'NoPrimary');

    const change = {
      time: now.toISOString(),
      from: 'my-cluster-0',
      to: 'my-cluster-1',
      reason: 'PrimaryUnavailable' as const,
    };
    const after = computeStatus({
      ...observe({ pods: [pod('my-cluster-1', { role: 'primary' })], leader: 'my-cluster-1' }),
      cluster: c,
      primaryChange: change,
    });
    assert.deepEqual(
      [after.primaryPod, after.lastFailover, after.primaryHistory],
      ['my-cluster-1', change, [change]],
    );

    const switched = computeStatus({
      ...observe({ pods: three, leader: 'my-cluster-0' }),
      cluster: { ...c, status: after },
      primaryChange: { ...change, from: 'my-cluster-1', to: 'my-cluster-0', reason: 'Switchover' },
    });
    assert.deepEqual(switched.lastFailover, change, 'a switchover is not a failover');
    assert.equal(switched.primaryHistory!.length, 2);
  });

  it('says in NodeLost which instances are on a NotReady node, and what pgop waits for', () => {
    const lost = {
      pod: 'my-cluster-2',
      node: 'n2',
      notReadySince: new Date('2026-11-24T11:59:30Z'),
      forceDeleteAt: new Date('2026-11-24T12:00:30Z'),
      renewsLeaderLock: false,
    };
    const condition = (
      forceDeleteEnabled: boolean,
      { noNodeReady = false, windowSeconds = 60 as number | null, renewsLeaderLock = false } = {},
    ) =>
      computeStatus(
        observe(
          {
            pods: three,
            leader: 'my-cluster-0',
            lostNodes: {
              due: [],
              waiting: [{ ...lost, renewsLeaderLock }],
              forceDeleteEnabled,
              noNodeReady,
              ...(windowSeconds !== null ? { windowSeconds } : {}),
            },
          },
          'Running',
        ),
      ).conditions!.find((x) => x.type === 'NodeLost')!;
    assert.equal(condition(true).status, 'True');
    assert.equal(condition(true).reason, 'AwaitingConfirmation');
    assert.match(
      condition(true).message,
      /my-cluster-2: its node n2 has been NotReady since .* Force-deleted from 2026-11-24T12:00:30.000Z/,
    );
    const byDefault = condition(true, { windowSeconds: null });
    assert.equal(byDefault.reason, 'AwaitingProof');
    assert.match(
      byDefault.message,
      /kubectl taint node <node> node.kubernetes.io\/out-of-service=nodeshutdown:NoExecute/,
    );
    assert.equal(condition(true, { renewsLeaderLock: true }).reason, 'LeaderLockRenewed');
    assert.equal(condition(false).reason, 'ForceDeleteDisabled');
    assert.equal(condition(true, { noNodeReady: true }).reason, 'NoNodeReady');
    assert.match(
      condition(true, { noNodeReady: true }).message,
      /force-deletes nothing until a node is Ready again/,
    );
    const fine = computeStatus(observe({ pods: three, leader: 'my-cluster-0' }, 'Running'));
    assert.equal(fine.conditions!.find((x) => x.type === 'NodeLost')!.status, 'False');
  });
});
