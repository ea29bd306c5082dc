/**
 * PostgresBackup status from what is observed: finished Jobs and their results, the schedule,
 * and the cluster's own view of its repository. Pure.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  BACKUP_HEALTHY_CONDITION,
  type BackupRun,
  type PostgresBackup,
  type PostgresBackupStatus,
  type PostgresCluster,
} from '@pgop/api';
import { conditionOf, type ConditionUpdate } from '@pgop/runtime';
import { CronExpressionParser } from 'cron-parser';
import type { JobResult } from './job-result.js';
import { humanSize } from './pgbackrest-info.js';

/** How the last backup Job ended; BackupHealthy combines it with the cluster's repository check. */
export const LAST_BACKUP_SUCCEEDED = 'LastBackupSucceeded';

/** The next run of a five-field UTC schedule (or @-macro), as the CronJob controller computes it. */
export function nextScheduled(schedule: string | undefined, now: Date): string | undefined {
  if (!schedule) return undefined;
  try {
    const next = CronExpressionParser.parse(schedule, { currentDate: now, tz: 'UTC' }).next();
    return next.toISOString()?.replace(/\.000Z$/, 'Z');
  } catch {
    return undefined;
  }
}

export interface FinishedJob {
  job: V1Job;
  succeeded: boolean;
  completedAt: string;
  /** From its pod's termination message; absent when the pod is gone or wrote none. */
  result?: JobResult;
}

const timestamp = (at: Date | string | undefined) => new Date(at ?? 0).toISOString().replace(/\.000Z$/, 'Z');

/**
 * Complete or Failed for good (after its retries), or undefined while it runs. A Job whose last
 * pod's container exited 0 has succeeded already: pgop's Jobs run one container that is never
 * restarted in place (restartPolicy Never, one completion); the kubelet reports the pod's phase
 * about a second later, and the Job controller marks the Job Complete about two seconds later.
 */
export function finishedState(
  job: V1Job,
  lastPod: V1Pod | undefined,
): { succeeded: boolean; completedAt: string } | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True' || (c.type !== 'Complete' && c.type !== 'Failed')) continue;
    return { succeeded: c.type === 'Complete', completedAt: timestamp(c.lastTransitionTime) };
  }
  const terminated = lastPod?.status?.containerStatuses?.[0]?.state?.terminated;
  if (lastPod?.status?.phase === 'Succeeded' || terminated?.exitCode === 0)
    return { succeeded: true, completedAt: timestamp(terminated?.finishedAt) };
  return undefined;
}

/** status after the finished Jobs, oldest first; the conditions come from backupConditions. */
export function withFinishedJobs(
  status: PostgresBackupStatus,
  finished: readonly FinishedJob[],
): PostgresBackupStatus {
  let next = { ...status };
  for (const f of finished) {
    const name = f.job.metadata!.name!;
    const result = f.result;
    if (f.succeeded && result?.ok) {
      const newest = result.backups[0];
      next = {
        ...next,
        ...(newest ? { lastBackup: newest.stop, lastBackupSize: humanSize(newest.databaseSize) } : {}),
        backupCount: result.backupCount,
        backups: result.backups,
      };
    }
    const run = (previous: BackupRun | undefined): BackupRun | undefined =>
      previous?.job === name && previous.phase === 'Running'
        ? {
            ...previous,
            phase: f.succeeded ? 'Succeeded' : 'Failed',
            ...(result?.label ? { backup: result.label } : {}),
            ...(!f.succeeded ? { message: failureMessage(f) } : {}),
            completedAt: f.completedAt,
          }
        : previous;
    const oneOff = run(next.oneOff);
    const lastTrigger = next.lastTrigger && { ...next.lastTrigger, ...run(next.lastTrigger) };
    next = { ...next, ...(oneOff ? { oneOff } : {}), ...(lastTrigger ? { lastTrigger } : {}) };
  }
  return next;
}

export function failureMessage(f: FinishedJob): string {
  const why =
    f.result?.error ?? f.job.status?.conditions?.find((c) => c.type === 'Failed')?.message ?? 'no output';
  return `backup Job ${f.job.metadata?.name} failed after its retries: ${why}`.slice(0, 2048);
}

/**
 * LastBackupSucceeded from the newest finished Job (kept when none finished now), and
 * BackupHealthy: False with the cluster's reason while its repository or archiving fails (the
 * cluster controller checks those), else False with BackupJobFailed after a failed Job.
 */
export function backupConditions(
  backup: PostgresBackup,
  cluster: PostgresCluster | undefined,
  newestFinished: FinishedJob | undefined,
): ConditionUpdate[] {
  const previous = backup.status?.conditions?.find((c) => c.type === LAST_BACKUP_SUCCEEDED);
  const last: ConditionUpdate | undefined = newestFinished
    ? newestFinished.succeeded
      ? {
          type: LAST_BACKUP_SUCCEEDED,
          status: 'True',
          reason: 'BackupSucceeded',
          message: `backup ${newestFinished.result?.label ?? ''} by Job ${newestFinished.job.metadata?.name} succeeded`,
        }
      : {
          type: LAST_BACKUP_SUCCEEDED,
          status: 'False',
          reason: 'BackupJobFailed',
          message: failureMessage(newestFinished),
        }
    : previous && {
        type: previous.type,
        status: previous.status,
        reason: previous.reason,
        message: previous.message,
      };

  const condition = conditionOf(BACKUP_HEALTHY_CONDITION);
  const health = ((): ConditionUpdate => {
    const name = backup.spec.clusterName;
    if (!cluster)
      return condition(
        'False',
        'ClusterNotFound',
        `PostgresCluster ${name} does not exist in this namespace`,
      );
    if (!cluster.spec.backup)
      return condition(
        'False',
        'NoRepository',
        `PostgresCluster ${name} has no spec.backup: there is nowhere to back up to`,
      );
    const repository = cluster.status?.conditions?.find((c) => c.type === BACKUP_HEALTHY_CONDITION);
    if (repository?.status === 'False')
      return condition('False', repository.reason, `PostgresCluster ${name}: ${repository.message}`);
    if (last?.status === 'False') return condition('False', last.reason, last.message);
    if (!cluster.status?.backup?.stanzaCreated)
      return condition(
        'Unknown',
        'WaitingForRepository',
        `PostgresCluster ${name} has not created its pgBackRest stanza yet`,
      );
    return condition(
      'True',
      last ? 'BackupSucceeded' : 'RepositoryReady',
      last?.message ?? `the repository of ${name} is ready`,
    );
  })();
  return last ? [health, last] : [health];
}
