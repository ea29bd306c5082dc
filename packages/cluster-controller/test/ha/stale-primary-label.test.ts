/** The primary label on a pod that no longer holds Patroni's leader lock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideStalePrimaryLabels } from '../../src/ha/stale-primary-label.js';
import { pod } from '../fixtures.js';

const now = new Date('2026-11-24T12:00:00Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
// db-0 died as primary (its label could not change); db-1 took the lock.
const pods = [pod('db-0', { role: 'primary' }), pod('db-1', { role: 'primary' }), pod('db-2')];

describe('decideStalePrimaryLabels', () => {
  it('removes the label from a pod that is not the leader once the new leader held the lock a Patroni loop', () => {
    const d = decideStalePrimaryLabels(pods, 'db-1', secondsAgo(10), now);
    assert.deepEqual(
      d.remove.map((l) => l.pod),
      ['db-0'],
    );
    assert.equal(d.recheckAfterMs, undefined);
  });

  it('waits while the lock is newer than a Patroni loop: a live old primary relabels itself (switchover)', () => {
    const d = decideStalePrimaryLabels(pods, 'db-1', secondsAgo(2), now);
    assert.deepEqual(d.remove, []);
    assert.equal(d.recheckAfterMs, 4000);
  });

  it('leaves every label alone without a leader, or when only the leader is labelled primary', () => {
    assert.deepEqual(decideStalePrimaryLabels(pods, undefined, secondsAgo(60), now), { remove: [] });
    assert.deepEqual(decideStalePrimaryLabels(pods.slice(1), 'db-1', secondsAgo(60), now), { remove: [] });
  });

  it('treats a lock without a readable acquireTime as old', () => {
    assert.deepEqual(
      decideStalePrimaryLabels(pods, 'db-1', undefined, now).remove.map((l) => l.pod),
      ['db-0'],
    );
  });
});
