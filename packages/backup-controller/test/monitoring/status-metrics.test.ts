/** The PostgresBackups' gauges (monitoring/status-metrics.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostgresBackup } from '@pgop/api';
import { backupStatusGauges, longestScheduleInterval } from '../../src/monitoring/status-metrics.js';

const now = new Date('2026-12-03T10:30:00Z');

describe('longestScheduleInterval', () => {
  it('is the longest gap between runs: a weekday schedule spans the weekend', () => {
    assert.equal(longestScheduleInterval('@hourly', now), 3600);
    assert.equal(longestScheduleInterval('0 2 * * *', now), 86400);
    assert.equal(longestScheduleInterval('0 2 * * 1-5', now), 3 * 86400);
  });

  it('is absent without a schedule, or for one it cannot read', () => {
    assert.equal(longestScheduleInterval(undefined, now), undefined);
    assert.equal(longestScheduleInterval('not a schedule', now), undefined);
  });
});

describe('backup status gauges', () => {
  const backup = {
    metadata: { name: 'nightly', namespace: 'db', creationTimestamp: '2026-12-01T00:00:00Z' },
    spec: { clusterName: 'orders', schedule: '0 2 * * *', verify: { schedule: '0 6 * * 0' } },
    status: {
      lastBackup: '2026-12-03T02:05:00Z',
      verification: { phase: 'Failed', cluster: 'v', startedAt: '2026-11-29T06:00:00Z' },
      conditions: [
        {
          type: 'BackupVerified',
          status: 'False',
          reason: 'VerificationFailed',
          message: '',
          lastTransitionTime: '2026-11-29T06:10:00Z',
        },
      ],
    },
  } as unknown as PostgresBackup;
  const labels = { namespace: 'db', backup: 'nightly', cluster: 'orders' };
  const got = Object.fromEntries(
    backupStatusGauges(
      () => [backup],
      () => now,
    ).map((g) => [g.name, g.samples()]),
  );

  it('exports what an alert needs to tell a failed, missed or stale backup or verification', () => {
    assert.deepEqual(got.pgop_backup_condition, [
      {
        labels: { ...labels, type: 'BackupVerified', status: 'False', reason: 'VerificationFailed' },
        value: 1,
      },
    ]);
    assert.deepEqual(got.pgop_backup_created_timestamp_seconds, [
      { labels, value: Date.parse('2026-12-01T00:00:00Z') / 1000 },
    ]);
    assert.deepEqual(got.pgop_backup_last_success_timestamp_seconds, [
      { labels, value: Date.parse('2026-12-03T02:05:00Z') / 1000 },
    ]);
    assert.deepEqual(got.pgop_backup_schedule_interval_seconds, [{ labels, value: 86400 }]);
    assert.deepEqual(got.pgop_backup_verification_interval_seconds, [{ labels, value: 7 * 86400 }]);
  });

  it('leaves out what has not happened: no verification succeeded yet, no series', () => {
    assert.deepEqual(got.pgop_backup_verification_last_success_timestamp_seconds, []);
  });
});
