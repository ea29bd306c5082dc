/** The decision table of planInstances: scaling and rolling updates, one step at a time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planInstances, type InstanceObservation } from '../../src/instances/plan.js';
import { pod } from '../fixtures.js';

const base = (o: Partial<InstanceObservation>): InstanceObservation => ({
  desiredReplicas: 3,
  currentReplicas: 3,
  updateRevision: 'rev1',
  statefulSetObserved: true,
  leader: 'db-0',
  pods: [pod('db-0', { role: 'primary' }), pod('db-1'), pod('db-2')],
  ...o,
});

describe('planInstances', () => {
  it('does nothing when everything is current', () => {
    assert.deepEqual(planInstances(base({})), {
      statefulSetReplicas: 3,
      action: { type: 'none' },
      outdatedPods: [],
    });
  });

  it('scales up at once', () => {
    assert.equal(planInstances(base({ desiredReplicas: 5 })).statefulSetReplicas, 5);
  });

  it('scales down at once when the primary survives', () => {
    const plan = planInstances(base({ desiredReplicas: 1 }));
    assert.equal(plan.statefulSetReplicas, 1);
    assert.equal(plan.action.type, 'none');
  });

  it('switches over to a surviving replica before a scale-down would remove the primary', () => {
    const plan = planInstances(
      base({
        desiredReplicas: 2,
        leader: 'db-2',
        pods: [pod('db-0'), pod('db-1'), pod('db-2', { role: 'primary' })],
      }),
    );
    assert.equal(plan.statefulSetReplicas, 3, 'no pod is removed yet');
    assert.deepEqual(plan.action, { type: 'switchover', from: 'db-2', to: 'db-0', reason: 'ScaleDown' });
  });

  it('switches over only to a synchronous standby when Patroni lists some', () => {
    const plan = planInstances(
      base({
        desiredReplicas: 2,
        leader: 'db-2',
        syncStandbys: ['db-1'],
        pods: [pod('db-0'), pod('db-1'), pod('db-2', { role: 'primary' })],
      }),
    );
    assert.deepEqual(plan.action, { type: 'switchover', from: 'db-2', to: 'db-1', reason: 'ScaleDown' });
  });

  it('never picks a replica that is not streaming or not ready as the switchover target', () => {
    const plan = planInstances(
      base({
        desiredReplicas: 2,
        leader: 'db-2',
        pods: [
          pod('db-0', { streaming: false }),
          pod('db-1', { ready: false }),
          pod('db-2', { role: 'primary' }),
        ],
      }),
    );
    assert.equal(plan.action.type, 'wait');
    assert.equal(plan.statefulSetReplicas, 3);
  });

  it('replaces outdated replicas first, highest ordinal first', () => {
    const plan = planInstances(base({ updateRevision: 'rev2' }));
    assert.deepEqual(plan.action, { type: 'replacePod', pod: 'db-2', reason: 'RollingUpdate' });
    assert.deepEqual(plan.outdatedPods, ['db-0', 'db-1', 'db-2']);
  });

  it('waits while an instance is not ready or not streaming', () => {
    const pods = [
      pod('db-0', { role: 'primary', revision: 'rev1' }),
      pod('db-1', { revision: 'rev1' }),
      pod('db-2', { revision: 'rev2', ready: false }),
    ];
    assert.equal(planInstances(base({ updateRevision: 'rev2', pods })).action.type, 'wait');
    const notStreaming = [pods[0]!, pods[1]!, pod('db-2', { revision: 'rev2', streaming: false })];
    assert.equal(planInstances(base({ updateRevision: 'rev2', pods: notStreaming })).action.type, 'wait');
  });

  it('waits until the StatefulSet controller has seen the new template', () => {
    assert.equal(
      planInstances(base({ updateRevision: 'rev2', statefulSetObserved: false })).action.type,
      'wait',
    );
  });

  it('switches over to an updated replica when only the primary is outdated, then replaces it', () => {
    const pods = [
      pod('db-0', { role: 'primary' }),
      pod('db-1', { revision: 'rev2' }),
      pod('db-2', { revision: 'rev2' }),
    ];
    assert.deepEqual(planInstances(base({ updateRevision: 'rev2', pods })).action, {
      type: 'switchover',
      from: 'db-0',
      to: 'db-1',
      reason: 'RollingUpdate',
    });
    const after = [
      pod('db-0'),
      pod('db-1', { role: 'primary', revision: 'rev2' }),
      pod('db-2', { revision: 'rev2' }),
    ];
    assert.deepEqual(planInstances(base({ updateRevision: 'rev2', leader: 'db-1', pods: after })).action, {
      type: 'replacePod',
      pod: 'db-0',
      reason: 'RollingUpdate',
    });
  });

  it('restarts a single instance in place (nobody to switch over to)', () => {
    const plan = planInstances(
      base({
        desiredReplicas: 1,
        currentReplicas: 1,
        updateRevision: 'rev2',
        pods: [pod('db-0', { role: 'primary' })],
      }),
    );
    assert.deepEqual(plan.action, { type: 'replacePod', pod: 'db-0', reason: 'RollingUpdate' });
  });

  it('treats a pending restart reported by Patroni as outdated', () => {
    const pods = [pod('db-0', { role: 'primary' }), pod('db-1', { pendingRestart: true }), pod('db-2')];
    assert.deepEqual(planInstances(base({ pods })).outdatedPods, ['db-1']);
  });
});
