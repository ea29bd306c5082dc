/** PostgresBackup status: the schedule's next run and the BackupHealthy condition. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { PostgresBackup, PostgresCluster } from '@pgop/api';
import { backupConditions, finishedState, nextScheduled, withFinishedJobs } from '../src/backup-status.js';

const backup = { metadata: { name: 'b', namespace: 'db' }, spec: { clusterName: 'c' } } as PostgresBackup;
const cluster = (status: PostgresCluster['status'], withBackup = true) =>
  ({ metadata: { name: 'c' }, spec: withBackup ? { backup: { s3: {} } } : {}, status }) as PostgresCluster;
const ready = cluster({ backup: { repository: 's3://x/y', stanzaCreated: true } });
const failedJob = {
  job: { metadata: { name: 'b-trigger-1' }, status: {} },
  succeeded: false,
  completedAt: '2026-11-25T01:00:00Z',
  result: {
    ok: false,
    backups: [],
    backupCount: 0,
    expired: [],
    error: 'pgbackrest backup exit 82: timeout',
  },
};

describe('backup status', () => {
  it('computes the next run of the schedule in UTC', () => {
    assert.equal(nextScheduled('0 2 * * *', new Date('2024-01-15T03:00:00Z')), '2024-01-16T02:00:00Z');
    assert.equal(nextScheduled('@hourly', new Date('2024-01-15T03:10:00Z')), '2024-01-15T04:00:00Z');
    assert.equal(nextScheduled(undefined, new Date()), undefined);
  });

  it('is healthy once the repository is ready and no Job failed', () => {
    const [health] = backupConditions(backup, ready, undefined);
    assert.equal(health!.status, 'True');
  });

  it("shows the cluster's repository problem first", () => {
    const broken = cluster({
      backup: { repository: 's3://x/y', stanzaCreated: true },
      conditions: [
        {
          type: 'BackupHealthy',
          status: 'False',
          reason: 'S3AccessDenied',
          message: 'refused',
          lastTransitionTime: '',
        },
      ],
    });
    const [health] = backupConditions(backup, broken, failedJob);
    assert.equal(health!.reason, 'S3AccessDenied');
  });

  it('says BackupJobFailed with the end of the output after a failed Job', () => {
    const [health, last] = backupConditions(backup, ready, failedJob);
    assert.equal(health!.reason, 'BackupJobFailed');
    assert.match(health!.message, /exit 82: timeout/);
    assert.equal(last!.status, 'False');
  });

  it('names a missing cluster or a cluster without a repository', () => {
    assert.equal(backupConditions(backup, undefined, undefined)[0]!.reason, 'ClusterNotFound');
    assert.equal(backupConditions(backup, cluster({}, false), undefined)[0]!.reason, 'NoRepository');
  });

  it('records the end of the trigger it started, once', () => {
    const status = withFinishedJobs(
      {
        lastTrigger: {
          value: 'now',
          job: 'b-trigger-1',
          phase: 'Running',
          startedAt: '2026-11-25T00:59:00Z',
        },
      },
      [failedJob],
    );
    assert.equal(status.lastTrigger?.phase, 'Failed');
    assert.equal(status.lastTrigger?.value, 'now');
  });

  describe('finishedState', () => {
    const job = (conditions: { type: string; status: string; lastTransitionTime?: string }[] = []) =>
      ({ metadata: { name: 'b-once' }, status: { conditions } }) as unknown as V1Job;
    const pod = (phase: string, finishedAt?: string, exitCode = 0) =>
      ({
        status: {
          phase,
          containerStatuses: finishedAt ? [{ state: { terminated: { exitCode, finishedAt } } }] : [],
        },
      }) as unknown as V1Pod;

    it('is the Job condition once the Job controller sets one', () => {
      const complete = job([
        { type: 'Complete', status: 'True', lastTransitionTime: '2026-12-03T07:00:02Z' },
      ]);
      assert.deepEqual(finishedState(complete, undefined), {
        succeeded: true,
        completedAt: '2026-12-03T07:00:02Z',
      });
      const failed = job([{ type: 'Failed', status: 'True', lastTransitionTime: '2026-12-03T07:00:02Z' }]);
      assert.equal(finishedState(failed, pod('Failed'))?.succeeded, false);
    });

    it('is finished as soon as its pod succeeded, before the Job controller marks it Complete', () => {
      // The Job controller takes about two seconds after the pod ends; a pod of a Job that
      // never restarts in place has succeeded for good.
      assert.deepEqual(finishedState(job(), pod('Succeeded', '2026-12-03T07:00:00Z')), {
        succeeded: true,
        completedAt: '2026-12-03T07:00:00Z',
      });
    });

    it('is finished as soon as its container exited 0, before the kubelet reports the phase', () => {
      assert.deepEqual(finishedState(job(), pod('Running', '2026-12-03T07:00:00Z')), {
        succeeded: true,
        completedAt: '2026-12-03T07:00:00Z',
      });
    });

    it('runs on while its pod runs, and after a failed pod (the Job retries)', () => {
      assert.equal(finishedState(job(), pod('Running')), undefined);
      assert.equal(finishedState(job(), pod('Running', '2026-12-03T07:00:00Z', 1)), undefined);
      assert.equal(finishedState(job(), pod('Failed', '2026-12-03T07:00:00Z', 1)), undefined);
      assert.equal(finishedState(job(), undefined), undefined);
    });
  });
});
