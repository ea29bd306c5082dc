/**
 * Where a restore stands, and what the reconcile does next. Pure: the reconcile reads the Jobs,
 * their pods and the instances, and carries out the step. One path serves both requests: a
 * cluster created from a backup (spec.restore) and a restore in place (spec.inPlaceRestore).
 *
 *   (new)      first volume holds data no restore made -> Failed, RestoreVolumeExists (nothing touched)
 *   Checking   no check Job     -> run it: read the source repository           (nothing touched)
 *              check Job done   -> the target is inside the repository's window? (Failed if not)
 *   Restoring  instances run    -> in place: stop them (StatefulSet to 0), wait for their pods
 *              no restore Job   -> in place: Patroni's DCS and the replicas' volumes go; then
 *                                  the first volume and the restore Job
 *              Job failed       -> Failed; the instances stay stopped (their data is replaced)
 *              Job succeeded    -> the first instance alone starts on the data, until it leads
 *   Restored   it leads         -> the other instances are created (cloned) as usual
 *
 * Only the first instance runs until it leads: an empty instance started alongside could win
 * Patroni's initialize race and initdb a new, empty cluster. The status records each stage
 * before the next begins, so a restart of the controller resumes where it was.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  RESTORE_REQUEST_ANNOTATION,
  type ClusterRestoreStatus,
  type PostgresCluster,
  type RestoreTarget,
} from '@pgop/api';
import { terminationMessage } from '@pgop/runtime';
import { childNames } from '../naming.js';
import { firstInstanceVolume } from '../render/restore-pod.js';
import { isPodReady, patroniMember } from '../patroni/member.js';
import { checkRestoreTarget, parseRepositoryFacts } from './preflight.js';

/**
 * What is asked: the restore of spec.restore (key "create/<cluster uid>": a cluster deleted and
 * created again under the same name asks anew) or of spec.inPlaceRestore (its requestId).
 */
export interface RestoreRequest {
  key: string;
  /** spec.inPlaceRestore.requestId; status.restore.requestId echoes it. */
  id?: string;
  inPlace: boolean;
  target: RestoreTarget;
}

/** How many instances run meanwhile: none, the first alone, or as the spec says. */
export type RestoreInstances = 'none' | 'first' | 'normal';

export type RestoreStep = { instances: RestoreInstances; status?: ClusterRestoreStatus } & (
  | { type: 'none' }
  /** Jobs of the same names left by an earlier request or cluster: gone before new ones start. */
  | { type: 'removeStale'; jobs: string[] }
  | { type: 'check' }
  | { type: 'wait' }
  | { type: 'failed' }
  | { type: 'stop' }
  | { type: 'restore' }
  | { type: 'firstInstance' }
  | { type: 'done' }
);

/** The request the cluster's spec makes, if any. */
export function restoreRequestOf(cluster: PostgresCluster): RestoreRequest | undefined {
  const inPlace = cluster.spec.inPlaceRestore;
  if (inPlace) return { key: inPlace.requestId, id: inPlace.requestId, inPlace: true, target: inPlace };
  const create = cluster.spec.restore;
  // An in-place restore reported on status.restore after the cluster's creation: the creation's is over.
  if (create && !cluster.status?.restore?.requestId)
    return { key: `create/${cluster.metadata.uid}`, inPlace: false, target: create };
  return undefined;
}

/** What the restore Job reports in its termination message (restore-job.ts). */
export interface RestoreJobResult {
  backupLabel?: string;
  timeline?: number;
  lsn?: string;
  /** PostgreSQL's "last completed transaction was at log time …", as RFC 3339. */
  time?: string;
}

export interface RestoreObservation {
  cluster: PostgresCluster;
  request: RestoreRequest;
  /** The source repository's URL. */
  source: string;
  /** The Jobs of the restore's names (stale ones included) and their pods (termination messages). */
  checkJob?: V1Job;
  checkPod?: V1Pod;
  job?: V1Job;
  jobPod?: V1Pod;
  statefulSet: { exists: boolean; replicas: number };
  /**
   * The first instance's volume (pgdata-<name>-0) as it is now: whether a restore made it (its
   * RESTORE_REQUEST_ANNOTATION), and whether it is being deleted.
   */
  firstVolume?: { madeByRestore: boolean; deleting: boolean };
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

export function parseRestoreResult(message: string | undefined): RestoreJobResult {
  try {
    const raw = JSON.parse(message ?? '') as Record<string, unknown>;
    return {
      backupLabel: typeof raw.backupLabel === 'string' && raw.backupLabel ? raw.backupLabel : undefined,
      timeline: typeof raw.timeline === 'number' ? raw.timeline : undefined,
      lsn: typeof raw.lsn === 'string' ? raw.lsn : undefined,
      time: typeof raw.time === 'string' ? logTimeToIso(raw.time) : undefined,
    };
  } catch {
    return {};
  }
}

function targetText(target: RestoreTarget): string {
  if (target.backupLabel) return `backup ${target.backupLabel}`;
  if (target.targetTime) return `${target.targetTime}${target.exclusive ? ' (exclusive)' : ''}`;
  return 'the latest point';
}

/** The status once the instances run again. */
function running(status: ClusterRestoreStatus): ClusterRestoreStatus {
  const copy = { ...status };
  delete copy.instancesStopped;
  return copy;
}

/**
 * How many instances run while the data is not (yet) being replaced: an in-place restore leaves
 * the cluster running, unless an earlier one stopped it (its volumes then hold part of a restore,
 * or nothing, and start again only on restored data); a new cluster has none.
 */
export function untouchedInstances(request: RestoreRequest, cluster: PostgresCluster): RestoreInstances {
  return request.inPlace && cluster.status?.restore?.instancesStopped !== true ? 'normal' : 'none';
}

/** A Job of an earlier request, or of an earlier cluster of this name (its collection may lag), or going. */
function isStale(job: V1Job, cluster: PostgresCluster, request: RestoreRequest): boolean {
  return (
    job.metadata?.deletionTimestamp !== undefined ||
    !job.metadata?.ownerReferences?.some((r) => r.uid === cluster.metadata.uid) ||
    job.metadata?.annotations?.[RESTORE_REQUEST_ANNOTATION] !== request.key
  );
}

const jobFailed = (job: V1Job | undefined) => (job?.status?.failed ?? 0) > 0;
const jobSucceeded = (job: V1Job | undefined) => (job?.status?.succeeded ?? 0) > 0;

/**
 * A new cluster's first volume that holds data no restore made: a deleted cluster of the same
 * name left it (volumes are retained by default). A restore never writes into it.
 */
function volumeConflict(o: RestoreObservation): string | undefined {
  const volume = o.firstVolume;
  if (o.request.inPlace || o.statefulSet.exists || !volume || volume.madeByRestore || volume.deleting)
    return undefined;
  const name = o.cluster.metadata.name!;
  const claim = firstInstanceVolume(name);
  return (
    `the PersistentVolumeClaim ${claim} already exists and was not made by a restore: it holds the data of ` +
    `an earlier cluster named ${name} (volumes are retained when a cluster is deleted), and a restore never ` +
    `writes into a volume it did not create. Restore into a cluster of another name; or, to replace that ` +
    `data, delete the claim (kubectl delete pvc ${claim}; its data is lost) and delete and apply this ` +
    `cluster again; or, to run that data, create the cluster without spec.restore`
  );
}

export function decideRestore(o: RestoreObservation): RestoreStep {
  const { cluster, request } = o;
  const reported = cluster.status?.restore;
  const current = reported?.requestId === request.id ? reported : undefined;
  const conflict = volumeConflict(o);
  if (current?.phase === 'Restored') return { type: 'none', instances: 'normal' };
  const stopped = reported?.instancesStopped === true;
  const untouched = untouchedInstances(request, cluster);
  if (current?.phase === 'Failed')
    return untouched === 'normal'
      ? { type: 'none', instances: 'normal' }
      : { type: 'failed', status: current, instances: 'none' };
  const stale = [o.checkJob, o.job].filter(
    (j): j is V1Job => j !== undefined && isStale(j, cluster, request),
  );
  if (stale.length > 0)
    return { type: 'removeStale', jobs: stale.map((j) => j.metadata!.name!), instances: untouched };
  const base = {
    source: o.source,
    ...(request.id ? { requestId: request.id } : {}),
    ...(request.inPlace && stopped ? { instancesStopped: true } : {}),
  };
  const target = targetText(request.target);
  const failed = (reason: string, message: string): RestoreStep => ({
    type: 'failed',
    instances: untouched,
    status: { ...current, ...base, phase: 'Failed', reason, message, completedAt: o.now.toISOString() },
  });

  // Before anything is written: not even the check Job runs.
  if (conflict) return failed('RestoreVolumeExists', conflict);

  if (!current || current.phase === 'Checking') {
    const checking: ClusterRestoreStatus = {
      ...base,
      phase: 'Checking',
      message: `checking ${target} against ${o.source}`,
    };
    if (!o.checkJob) return { type: 'check', status: checking, instances: untouched };
    const message = terminationMessage(o.checkPod);
    if (jobFailed(o.checkJob)) return failed('RepositoryUnreachable', message ?? 'the check Job failed');
    if (!jobSucceeded(o.checkJob)) return { type: 'wait', status: current ?? checking, instances: untouched };
    const facts = parseRepositoryFacts(message);
    if (!facts) return failed('RepositoryUnreachable', `the check reported no facts: ${message}`);
    const verdict = checkRestoreTarget(request.target, facts, cluster.spec.version);
    if (!verdict.ok) return failed(verdict.reason, verdict.message);
    // Recorded before anything is touched; the next reconcile starts the restore.
    return {
      type: 'wait',
      instances: untouched,
      status: {
        ...base,
        phase: 'Restoring',
        recoverableFrom: verdict.recoverableFrom,
        recoverableUntil: verdict.recoverableUntil,
        message: `restoring ${target} from ${o.source}`,
      },
    };
  }

  // Restoring. A new cluster's StatefulSet exists only once its data is restored.
  const firstInstance = `${childNames(cluster.metadata.name!).statefulSet}-0`;
  if (jobSucceeded(o.job) || (!request.inPlace && o.statefulSet.exists && !o.job)) {
    const result = parseRestoreResult(terminationMessage(o.jobPod));
    const restored: ClusterRestoreStatus = {
      ...current,
      ...(result.backupLabel ? { backupLabel: result.backupLabel } : {}),
      ...(result.timeline ? { timeline: result.timeline } : {}),
      ...(result.lsn ? { lsn: result.lsn } : {}),
      ...(result.time ? { lastTransactionTime: result.time } : {}),
    };
    const pod = o.pods.find((p) => p.metadata?.name === firstInstance);
    if (o.statefulSet.exists && o.leader === firstInstance && pod && isPodReady(pod)) {
      // Patroni takes over the data as a standby and promotes it once it holds the lock: the
      // cluster runs on the timeline after the restore's.
      const timeline = patroniMember(pod).timeline;
      return {
        type: 'done',
        instances: 'normal',
        status: {
          ...running(restored),
          ...(timeline ? { timeline } : {}),
          phase: 'Restored',
          message: `restored to ${target}; the other instances are cloned from ${firstInstance}`,
          completedAt: o.now.toISOString(),
        },
      };
    }
    return {
      type: 'firstInstance',
      instances: 'first',
      status: { ...restored, message: `the data is restored; starting ${firstInstance} on it` },
    };
  }
  if (jobFailed(o.job)) {
    const why = terminationMessage(o.jobPod) ?? 'the restore Job failed';
    return {
      ...failed('RestoreFailed', `${why.slice(0, 1800)} (see kubectl logs job/${o.job!.metadata?.name})`),
      instances: 'none',
    };
  }
  if (o.job) return { type: 'wait', status: current, instances: 'none' };
  const inPlace = request.inPlace ? { instancesStopped: true } : {};
  if (request.inPlace && (o.statefulSet.replicas > 0 || o.pods.length > 0))
    return {
      type: 'stop',
      instances: 'none',
      status: { ...current, ...inPlace, message: `stopping every instance to restore ${target}` },
    };
  return { type: 'restore', instances: 'none', status: { ...current, ...inPlace } };
}
