/**
 * Restore verification (spec.verify): when the schedule is due, or a new value of the verify
 * annotation asks, restore the latest backup into a temporary cluster, run the check query in
 * it, delete it, and report BackupVerified. Pure: the reconcile carries out the step.
 *
 *   due              -> create the temporary cluster (spec.restore: the latest point)   Running
 *   restore failed   -> Failed with the cluster controller's reason and message
 *   restored, ready  -> the check Job; its result decides                              Succeeded/Failed
 *   over             -> the temporary cluster and the Job are deleted
 *
 * A verification that takes longer than VERIFY_TIMEOUT_MS fails (a restore stuck on a volume
 * that cannot be bound, say), so a stuck one never blocks the next.
 */
import type { V1Job } from '@kubernetes/client-node';
import {
  BACKUP_VERIFIED_CONDITION,
  VERIFY_TRIGGER_ANNOTATION,
  type PostgresBackup,
  type PostgresCluster,
  type VerificationStatus,
} from '@pgop/api';
import type { ConditionUpdate } from '@pgop/runtime';
import { CronExpressionParser } from 'cron-parser';
import type { VerifyResult } from './result.js';

export const VERIFY_TIMEOUT_MS = 2 * 3600_000;

export type VerificationStep =
  | { type: 'none' }
  | { type: 'wait' }
  | { type: 'createCluster' }
  | { type: 'runCheck' }
  /** The temporary cluster and Job of a finished verification go. */
  | { type: 'cleanUp' };

export interface VerificationWorld {
  backup: PostgresBackup;
  /** The temporary cluster's name. */
  clusterName: string;
  /** The temporary cluster, if it exists. */
  cluster?: PostgresCluster;
  /** The check Job of the current verification, with what its pod reported. */
  job?: V1Job;
  result?: VerifyResult;
  now: Date;
}

export interface VerificationDecision {
  step: VerificationStep;
  status?: VerificationStatus;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** The schedule's first time after `after`, or undefined for a schedule it cannot read. */
export function nextVerification(schedule: string, after: Date): Date | undefined {
  try {
    return CronExpressionParser.parse(schedule, { currentDate: after, tz: 'UTC' }).next().toDate();
  } catch {
    return undefined;
  }
}

export function decideVerification(w: VerificationWorld): VerificationDecision {
  const { backup, cluster, now } = w;
  const verify = backup.spec.verify;
  const current = backup.status?.verification;
  if (!verify) return { step: cluster ? { type: 'cleanUp' } : { type: 'none' }, status: undefined };
  const since = new Date(current?.startedAt ?? backup.metadata.creationTimestamp ?? now);
  const next = nextVerification(verify.schedule, since);
  const withNext = (s: VerificationStatus): VerificationStatus => {
    const upcoming = nextVerification(verify.schedule, now);
    return upcoming ? { ...s, next: iso(upcoming) } : s;
  };

  if (current?.phase === 'Running') {
    const finish = (base: VerificationStatus, phase: 'Succeeded' | 'Failed', message: string) => ({
      step: { type: 'cleanUp' } as const,
      status: withNext({
        ...base,
        phase,
        message: message.slice(0, 2000),
        completedAt: iso(now),
        ...(phase === 'Succeeded' ? { lastSucceeded: iso(now) } : {}),
      }),
    });
    const restore = cluster?.status?.restore;
    if (now.getTime() - Date.parse(current.startedAt) > VERIFY_TIMEOUT_MS)
      return finish(
        current,
        'Failed',
        `did not finish within ${VERIFY_TIMEOUT_MS / 3600_000} hours (${restore?.message ?? 'no restore status'})`,
      );
    // Created at the start; absent only until the cache sees it (create is idempotent).
    if (!cluster) return { step: { type: 'createCluster' }, status: current };
    if (restore?.phase === 'Failed')
      return finish(
        current,
        'Failed',
        `the restore failed: ${restore.reason ?? 'RestoreFailed'}: ${restore.message ?? ''}`,
      );
    const restored: VerificationStatus = {
      ...current,
      ...(restore?.backupLabel ? { backupLabel: restore.backupLabel } : {}),
      ...(restore?.lastTransactionTime ? { lastTransactionTime: restore.lastTransactionTime } : {}),
    };
    const ready = restore?.phase === 'Restored' && cluster.status?.phase === 'Running';
    if (!ready)
      return { step: { type: 'wait' }, status: { ...restored, message: restore?.message ?? 'restoring' } };
    if (!w.job)
      return { step: { type: 'runCheck' }, status: { ...restored, message: 'running the check query' } };
    if (!(w.job.status?.succeeded || w.job.status?.failed))
      return { step: { type: 'wait' }, status: restored };
    const point = `backup ${restored.backupLabel ?? '?'}, last transaction ${restored.lastTransactionTime ?? '?'}`;
    if (w.job.status?.succeeded && w.result?.ok)
      return finish(
        restored,
        'Succeeded',
        `restored ${point}; the check query returned ${w.result.rows ?? 0} ${w.result.rows === 1 ? 'row' : 'rows'} as the read-only role`,
      );
    return finish(restored, 'Failed', `restored ${point}, but ${w.result?.error ?? 'the check Job failed'}`);
  }

  if (cluster) return { step: { type: 'cleanUp' }, status: current && withNext(current) };
  const trigger = backup.metadata.annotations?.[VERIFY_TRIGGER_ANNOTATION];
  const asked = trigger !== undefined && trigger !== '' && trigger !== current?.trigger;
  const due = asked || (next !== undefined && next <= now);
  // Nothing to restore yet: the schedule waits for the first backup.
  if (!due || !(backup.status?.backupCount ?? 0)) {
    const waiting: VerificationStatus | undefined = current && withNext(current);
    return { step: { type: 'none' }, status: waiting };
  }
  return {
    step: { type: 'createCluster' },
    status: {
      phase: 'Running',
      cluster: w.clusterName,
      startedAt: iso(now),
      message: 'restoring the latest backup into a temporary cluster',
      ...(asked ? { trigger } : current?.trigger ? { trigger: current.trigger } : {}),
      ...(current?.lastSucceeded ? { lastSucceeded: current.lastSucceeded } : {}),
    },
  };
}

/** BackupVerified: the last verification's outcome; a running one keeps the previous. */
export function verifiedCondition(
  backup: PostgresBackup,
  v: VerificationStatus | undefined,
): ConditionUpdate {
  const type = BACKUP_VERIFIED_CONDITION;
  const previous = backup.status?.conditions?.find((c) => c.type === type);
  if (!v)
    return {
      type,
      status: 'Unknown',
      reason: 'NotYetVerified',
      message: 'no verification has run yet (it waits for the first backup)',
    };
  if (v.phase === 'Running')
    return previous
      ? { type, status: previous.status, reason: previous.reason, message: previous.message }
      : { type, status: 'Unknown', reason: 'Verifying', message: v.message ?? 'verifying' };
  if (v.phase === 'Succeeded')
    return { type, status: 'True', reason: 'Verified', message: `${v.lastSucceeded}: ${v.message ?? ''}` };
  const last = v.lastSucceeded ? `; last good verification ${v.lastSucceeded}` : '; never verified';
  return { type, status: 'False', reason: 'VerificationFailed', message: `${v.message ?? ''}${last}` };
}
