/**
 * Failover detection. Patroni moves the primary role on its own; pgop notices the leader lock
 * moving from the pod in status.primaryPod to another, and classifies the change from what it
 * sees: a switchover pgop asked for, or a failover with the old primary's likely cause. Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { PrimaryChange, SwitchoverStatus } from '@pgop/api';
import { isPodReady } from '../patroni/member.js';

/** A switchover started this long before the new leader took the lock still explains it. */
const SWITCHOVER_MATCH_WINDOW_MS = 5 * 60_000;

export interface PrimaryChangeObservation {
  /** status.primaryPod: the last primary pgop recorded. */
  previousPrimary?: string;
  /** The pod holding the leader lock and labelled primary now. */
  primary?: string;
  lastSwitchover?: SwitchoverStatus;
  /** The old primary's pod as it is now, if it exists. */
  previousPrimaryPod?: V1Pod;
  /** False when the old primary's node is not Ready. */
  previousPrimaryNodeReady?: boolean;
  /** Patroni's acquireTime on the leader ConfigMap. */
  leaderAcquiredAt?: string;
  now: Date;
}

export function detectPrimaryChange(o: PrimaryChangeObservation): PrimaryChange | undefined {
  const { previousPrimary: from, primary: to } = o;
  if (!from || !to || from === to) return undefined;
  const acquired = o.leaderAcquiredAt ? new Date(o.leaderAcquiredAt) : undefined;
  const time = acquired && !Number.isNaN(acquired.getTime()) ? acquired : o.now;
  return { time: time.toISOString(), from, to, reason: classify(o, time) };
}

function classify(o: PrimaryChangeObservation, time: Date): PrimaryChange['reason'] {
  if (explainedBySwitchover(o, time)) return 'Switchover';
  if (o.previousPrimaryNodeReady === false) return 'NodeNotReady';
  const pod = o.previousPrimaryPod;
  if (!pod || pod.metadata?.deletionTimestamp || !isPodReady(pod)) return 'PrimaryUnavailable';
  return 'PrimaryChanged';
}

/** Clock skew between pgop and the pods can put acquireTime slightly off pgop's own times. */
const CLOCK_SKEW_MS = 30_000;

/**
 * A switchover explains the change only while it may still be the one moving the lock: from the
 * old primary, not failed, recent, and once succeeded only to where it ended and no later than
 * that. A switchover that ended elsewhere, or before the lock moved again, explains nothing: the
 * primary may have come back to its old pod since, and lost the lock to a failover.
 */
function explainedBySwitchover(o: PrimaryChangeObservation, time: Date): boolean {
  const s = o.lastSwitchover;
  if (!s || s.from !== o.previousPrimary || s.phase === 'Failed') return false;
  const sinceStart = time.getTime() - new Date(s.startedAt).getTime();
  if (sinceStart <= -CLOCK_SKEW_MS || sinceStart >= SWITCHOVER_MATCH_WINDOW_MS) return false;
  if (s.phase !== 'Succeeded') return true;
  if (s.to !== o.primary) return false;
  return !s.completedAt || time.getTime() - new Date(s.completedAt).getTime() < CLOCK_SKEW_MS;
}

/** The new history: the change first, at most limit entries. */
export function withHistory(
  history: PrimaryChange[] | undefined,
  change: PrimaryChange,
  limit: number,
): PrimaryChange[] {
  return [change, ...(history ?? [])].slice(0, limit);
}
