/** Failover detection: what a user sees in status.lastFailover and the FailoverExecuted event. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PrimaryChange, SwitchoverStatus } from '@pgop/api';
import { detectPrimaryChange, withHistory } from '../../src/ha/primary-change.js';
import { pod } from '../fixtures.js';

const now = new Date('2026-11-24T12:00:00Z');
const base = { previousPrimary: 'db-0', primary: 'db-1', now };
const switchover = (o: Partial<SwitchoverStatus> = {}): SwitchoverStatus => ({
  reason: 'Requested',
  phase: 'Succeeded',
  from: 'db-0',
  to: 'db-1',
  startedAt: '2026-11-24T11:59:50Z',
  ...o,
});

describe('detectPrimaryChange', () => {
  it('sees nothing while the primary stays, at the first primary, or while none holds the role', () => {
    assert.equal(detectPrimaryChange({ ...base, primary: 'db-0' }), undefined);
    assert.equal(detectPrimaryChange({ ...base, previousPrimary: undefined }), undefined);
    assert.equal(detectPrimaryChange({ ...base, primary: undefined }), undefined);
  });

  it("dates the change by Patroni's acquireTime, or now when it cannot be read", () => {
    const change = detectPrimaryChange({ ...base, leaderAcquiredAt: '2026-11-24T11:59:58.123456+00:00' });
    assert.equal(change?.time, '2026-11-24T11:59:58.123Z');
    assert.equal(detectPrimaryChange({ ...base, leaderAcquiredAt: 'garbage' })?.time, now.toISOString());
  });

  it('calls it a Switchover when pgop switched over from the old primary just before', () => {
    const change = detectPrimaryChange({ ...base, lastSwitchover: switchover() });
    assert.deepEqual(change, { time: now.toISOString(), from: 'db-0', to: 'db-1', reason: 'Switchover' });
    const inProgress = detectPrimaryChange({ ...base, lastSwitchover: switchover({ phase: 'InProgress' }) });
    assert.equal(inProgress?.reason, 'Switchover');
  });

  it('calls it a failover when the switchover failed, is old, was from another pod, or ended elsewhere before', () => {
    const dead = { previousPrimaryPod: undefined };
    for (const s of [
      switchover({ phase: 'Failed' }),
      switchover({ startedAt: '2026-11-24T11:00:00Z' }),
      switchover({ from: 'db-2' }),
      // db-0 → db-2 succeeded; db-0 led again since, and now lost the lock to db-1.
      switchover({ to: 'db-2', completedAt: '2026-11-24T11:59:52Z' }),
      // db-0 → db-1 succeeded a minute ago; db-1 lost it and db-0 led again before this change.
      switchover({ startedAt: '2026-11-24T11:58:00Z', completedAt: '2026-11-24T11:58:03Z' }),
    ])
      assert.equal(
        detectPrimaryChange({ ...base, ...dead, lastSwitchover: s })?.reason,
        'PrimaryUnavailable',
      );
  });

  it("names the old primary's fate: node not ready, pod gone or not ready, or still ready", () => {
    assert.equal(
      detectPrimaryChange({ ...base, previousPrimaryPod: pod('db-0'), previousPrimaryNodeReady: false })
        ?.reason,
      'NodeNotReady',
    );
    assert.equal(detectPrimaryChange(base)?.reason, 'PrimaryUnavailable');
    assert.equal(
      detectPrimaryChange({ ...base, previousPrimaryPod: pod('db-0', { ready: false }) })?.reason,
      'PrimaryUnavailable',
    );
    assert.equal(
      detectPrimaryChange({ ...base, previousPrimaryPod: pod('db-0', { deleting: true }) })?.reason,
      'PrimaryUnavailable',
    );
    assert.equal(detectPrimaryChange({ ...base, previousPrimaryPod: pod('db-0') })?.reason, 'PrimaryChanged');
  });
});

describe('withHistory', () => {
  it('puts the newest first and keeps at most the limit', () => {
    let history: PrimaryChange[] = [];
    for (const n of [1, 2, 3])
      history = withHistory(
        history,
        { time: now.toISOString(), from: `a${n}`, to: `b${n}`, reason: 'Switchover' },
        2,
      );
    assert.deepEqual(
      history.map((c) => c.from),
      ['a3', 'a2'],
    );
  });
});
