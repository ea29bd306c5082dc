/**
 * Switchovers: the annotation a user sets, the planned ones, and the two steps through status
 * that make each happen once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SWITCHOVER_ANNOTATION,
  SWITCHOVER_TARGET_ANNOTATION,
  type PostgresCluster,
  type SwitchoverStatus,
} from '@pgop/api';
import type { InstanceAction } from '../../src/instances/plan.js';
import { decideSwitchover, type SwitchoverObservation } from '../../src/ha/switchover.js';
import { cluster, pod } from '../fixtures.js';

const now = new Date('2026-11-24T12:00:00Z');
const pods = [
  pod('db-0', { role: 'primary' }),
  pod('db-1', { wal: 100 }),
  pod('db-2', { wal: 200 }),
  pod('db-3', { ready: false }),
  pod('db-4', { streaming: false }),
];
const none: InstanceAction = { type: 'none' };

function observe(
  annotations: Record<string, string>,
  last?: SwitchoverStatus,
  o: Partial<SwitchoverObservation> = {},
): SwitchoverObservation {
  const c: PostgresCluster = cluster();
  c.metadata.annotations = annotations;
  if (last) c.status = { lastSwitchover: last };
  return { cluster: c, pods, primary: 'db-0', planned: none, now, ...o };
}
const request = (value: string, target?: string) => ({
  [SWITCHOVER_ANNOTATION]: value,
  ...(target ? { [SWITCHOVER_TARGET_ANNOTATION]: target } : {}),
});
const recordOf = (step: ReturnType<typeof decideSwitchover>) => {
  assert.equal(step.type, 'record');
  return (step as { record: SwitchoverStatus }).record;
};

describe('decideSwitchover', () => {
  it('does nothing without a request or a planned switchover', () => {
    assert.deepEqual(decideSwitchover(observe({})), { type: 'none' });
  });

  it('starts a request towards the replica with the most WAL when no target is named', () => {
    const r = recordOf(decideSwitchover(observe(request('1'))));
    assert.deepEqual(
      [r.phase, r.request, r.reason, r.from, r.to, r.startedAt],
      ['InProgress', '1', 'Requested', 'db-0', 'db-2', now.toISOString()],
    );
  });

  it('goes to the named replica when it is ready and streaming', () => {
    assert.equal(recordOf(decideSwitchover(observe(request('1', 'db-1')))).to, 'db-1');
  });

  it('fails a request naming a replica that is not ready, not streaming, or not ours, and says which would do', () => {
    for (const target of ['db-3', 'db-4', 'other-0']) {
      const r = recordOf(decideSwitchover(observe(request('1', target))));
      assert.equal(r.phase, 'Failed', target);
      assert.match(r.message!, new RegExp(`switchover-target: ${target} is not a ready, streaming replica`));
      assert.match(r.message!, /ready, streaming replicas: db-1, db-2/);
    }
  });

  it('fails a request when there is no primary or no replica to take over', () => {
    assert.match(
      recordOf(decideSwitchover(observe(request('1'), undefined, { primary: undefined }))).message!,
      /no instance holds the primary role/,
    );
    assert.match(
      recordOf(decideSwitchover(observe(request('1'), undefined, { pods: [pods[0]!, pods[3]!] }))).message!,
      /no ready, streaming replica/,
    );
  });

  it('answers a request naming the current primary without switching', () => {
    const r = recordOf(decideSwitchover(observe(request('1', 'db-0'))));
    assert.deepEqual([r.phase, r.message], ['Succeeded', 'db-0 is already the primary']);
  });

  it('executes an InProgress switchover once it is read back, while the old primary still leads', () => {
    const last = recordOf(decideSwitchover(observe(request('1'))));
    const step = decideSwitchover(observe(request('1'), last));
    assert.equal(step.type, 'execute');
    assert.deepEqual(step.type === 'execute' && [step.record.from, step.record.to], ['db-0', 'db-2']);
  });

  it('completes it when the leader has moved, and waits while no one leads', () => {
    const last = recordOf(decideSwitchover(observe(request('1'))));
    const moved = recordOf(decideSwitchover(observe(request('1'), last, { primary: 'db-2' })));
    assert.deepEqual([moved.phase, moved.to, moved.completedAt], ['Succeeded', 'db-2', now.toISOString()]);
    assert.deepEqual(decideSwitchover(observe(request('1'), last, { primary: undefined })), { type: 'none' });
  });

  it('is idempotent: a handled request is not repeated, a new value is a new request', () => {
    const done: SwitchoverStatus = {
      request: '1',
      reason: 'Requested',
      phase: 'Succeeded',
      from: 'db-0',
      to: 'db-2',
      startedAt: now.toISOString(),
    };
    assert.deepEqual(decideSwitchover(observe(request('1'), done)), { type: 'none' });
    assert.equal(recordOf(decideSwitchover(observe(request('2'), done))).phase, 'InProgress');
  });

  it('records a planned switchover first, carrying the last handled request', () => {
    const done: SwitchoverStatus = {
      request: '1',
      reason: 'Requested',
      phase: 'Succeeded',
      startedAt: now.toISOString(),
    };
    const planned: InstanceAction = { type: 'switchover', from: 'db-0', to: 'db-1', reason: 'RollingUpdate' };
    const r = recordOf(decideSwitchover(observe(request('1'), done, { planned })));
    assert.deepEqual(
      [r.phase, r.reason, r.request, r.from, r.to],
      ['InProgress', 'RollingUpdate', '1', 'db-0', 'db-1'],
    );
    // ...so the same request does not start again once the planned one is done.
    assert.deepEqual(decideSwitchover(observe(request('1'), { ...r, phase: 'Succeeded' })), { type: 'none' });
  });

  it('lets a new request go before a planned switchover', () => {
    const planned: InstanceAction = { type: 'switchover', from: 'db-0', to: 'db-1', reason: 'ScaleDown' };
    assert.equal(
      recordOf(decideSwitchover(observe(request('7'), undefined, { planned }))).reason,
      'Requested',
    );
  });
});

describe('decideSwitchover with synchronous replication', () => {
  const sync = (annotations: Record<string, string>) =>
    decideSwitchover({ ...observe(annotations), syncStandbys: ['db-1'] });

  it('chooses among the synchronous standbys Patroni lists', () => {
    assert.equal(recordOf(sync(request('1'))).to, 'db-1');
  });

  it('refuses a target that is not a synchronous standby, and says which are', () => {
    const r = recordOf(sync(request('1', 'db-2')));
    assert.equal(r.phase, 'Failed');
    assert.match(r.message!, /db-2 is not a ready, streaming synchronous standby/);
    assert.match(
      r.message!,
      /synchronous standbys: db-1; with synchronous replication Patroni only promotes a synchronous standby/,
    );
  });
});
