/**
 * Where a cluster created from a backup (spec.restore) stands, and what the reconcile does next.
 * Pure: the reconcile reads the Job, its pod and the instances, and carries out the step.
 *
 *   no Job          -> create the first instance's volume and the restore Job   (Restoring)
 *   Job running     -> wait                                                    (Restoring)
 *   Job failed      -> report; keep the Job and its pod for their logs          (Failed)
 *   Job succeeded   -> StatefulSet with one instance, Patroni starts on the data (Restoring)
 *   instance 0 leads-> the other instances are created (cloned); Job removed   (Restored)
 *
 * Only the first instance runs until it leads: an empty instance started alongside could win
 * Patroni's initialize race and initdb a new, empty cluster.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { ClusterRestoreStatus, PostgresCluster } from '@pgop/api';
import { childNames } from './naming.js';
import { isPodReady, patroniMember } from './patroni-member.js';

export type RestoreStep =
  | { type: 'none' }
  | { type: 'createJob'; status: ClusterRestoreStatus }
  | { type: 'wait'; status: ClusterRestoreStatus }
  | { type: 'failed'; status: ClusterRestoreStatus }
  | { type: 'firstInstance'; status: ClusterRestoreStatus }
  | { type: 'done'; status: ClusterRestoreStatus };

/** What the restore Job reports in its termination message (restore-job.ts). */
export interface RestoreJobResult {
  timeline?: number;
  lsn?: string;
  /** PostgreSQL's "last completed transaction was at log time …", as RFC 3339. */
  time?: string;
}

export interface RestoreObservation {
  cluster: PostgresCluster;
  /** The source repository's URL. */
  source: string;
  job?: V1Job;
  /** The Job's pod, for its termination message. */
  jobPod?: V1Pod;
  statefulSetExists: boolean;
  leader?: string;
  pods: V1Pod[];
  now: Date;
}

/** PostgreSQL's log time ("2026-11-25 04:41:09.932266+00") as RFC 3339, or undefined. */
export function logTimeToIso(text: string | undefined): string | undefined {
  const match = text?.trim().match(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(?::?(\d\d))?$/);
  if (!match) return undefined;
  const [, date, time, hours, minutes] = match;
  const parsed = new Date(`${date}T${time}${hours}:${minutes ?? '00'}`);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed.toISOString();
}

/** The Job's termination message: its result when it succeeded, the error when it failed. */
export function terminationMessage(pod: V1Pod | undefined): string | undefined {
  return pod?.status?.containerStatuses?.[0]?.state?.terminated?.message?.trim() || undefined;
}

export function parseRestoreResult(message: string | undefined): RestoreJobResult {
  try {
    const raw = JSON.parse(message ?? '') as { timeline?: unknown; lsn?: unknown; time?: unknown };
    return {
      timeline: typeof raw.timeline === 'number' ? raw.timeline : undefined,
      lsn: typeof raw.lsn === 'string' ? raw.lsn : undefined,
      time: typeof raw.time === 'string' ? logTimeToIso(raw.time) : undefined,
    };
  } catch {
    return {};
  }
}

function targetText(cluster: PostgresCluster): string {
  const r = cluster.spec.restore!;
  if (r.backupLabel) return `backup ${r.backupLabel}`;
  if (r.targetTime) return `${r.targetTime}${r.exclusive ? ' (exclusive)' : ''}`;
  return 'the latest point';
}

export function decideRestore(o: RestoreObservation): RestoreStep {
  const { cluster } = o;
  const current = cluster.status?.restore;
  if (!cluster.spec.restore || current?.phase === 'Restored') return { type: 'none' };
  if (current?.phase === 'Failed') return { type: 'failed', status: current };
  const base = { source: o.source };
  const firstInstance = `${childNames(cluster.metadata.name!).statefulSet}-0`;

  if (o.statefulSetExists) {
    const pod = o.pods.find((p) => p.metadata?.name === firstInstance);
    if (o.leader === firstInstance && pod && isPodReady(pod)) {
      // Patroni takes over the data as a standby and promotes it once it holds the lock: the
      // cluster runs on the timeline after the restore's.
      const timeline = patroniMember(pod).timeline;
      return {
        type: 'done',
        status: {
          ...current,
          ...base,
          ...(timeline ? { timeline } : {}),
          phase: 'Restored',
          message: `restored to ${targetText(cluster)}; the other instances are cloned from ${firstInstance}`,
          completedAt: o.now.toISOString(),
        },
      };
    }
    return {
      type: 'firstInstance',
      status: {
        ...current,
        ...base,
        phase: 'Restoring',
        message: `the data is restored; waiting for ${firstInstance} to start on it and lead`,
      },
    };
  }

  const job = o.job;
  const restoring: ClusterRestoreStatus = {
    ...base,
    phase: 'Restoring',
    message: `restoring ${targetText(cluster)} from ${o.source}`,
  };
  if (!job) return { type: 'createJob', status: restoring };
  if ((job.status?.failed ?? 0) > 0) {
    const why = terminationMessage(o.jobPod) ?? 'the restore Job failed';
    return {
      type: 'failed',
      status: {
        ...base,
        phase: 'Failed',
        message: `${why.slice(0, 1800)} (see kubectl logs job/${job.metadata?.name}; delete and create the cluster again to retry)`,
        completedAt: o.now.toISOString(),
      },
    };
  }
  if ((job.status?.succeeded ?? 0) > 0) {
    const result = parseRestoreResult(terminationMessage(o.jobPod));
    return {
      type: 'firstInstance',
      status: {
        ...base,
        phase: 'Restoring',
        message: `the data is restored; starting ${firstInstance} on it`,
        ...(result.timeline ? { timeline: result.timeline } : {}),
        ...(result.lsn ? { lsn: result.lsn } : {}),
        ...(result.time ? { lastTransactionTime: result.time } : {}),
      },
    };
  }
  return { type: 'wait', status: current ?? restoring };
}
