/**
 * Pods still labelled primary while Patroni's leader lock names another pod. Patroni labels its
 * own pod, so a primary that died with its node, or is cut off from the API server, cannot take
 * its label off, and the <cluster>-primary Service keeps sending new connections to it until
 * Kubernetes marks the pod NotReady (40-50 s after the node's last heartbeat). The lock is the
 * truth: once a new leader has held it longer than a Patroni loop (in which a live old primary
 * relabels itself, as in every switchover), pgop removes the stale label. A Patroni that is still
 * alive puts its right label back at its next loop. Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { hasPrimaryLabel } from '../patroni/member.js';
import { HA_TIMING } from '../patroni/config.js';

/** A live Patroni relabels its pod within one loop of a leader change. */
export const STALE_PRIMARY_LABEL_GRACE_MS = (HA_TIMING.loop_wait + 1) * 1000;

export interface StalePrimaryLabel {
  pod: string;
  /** The pod version seen: the label is removed only from that version. */
  resourceVersion?: string;
}

export interface StalePrimaryLabelDecision {
  remove: StalePrimaryLabel[];
  /** A stale label inside the grace period: look again then. */
  recheckAfterMs?: number;
}

export function decideStalePrimaryLabels(
  pods: V1Pod[],
  leader: string | undefined,
  leaderAcquiredAt: string | undefined,
  now: Date,
): StalePrimaryLabelDecision {
  if (!leader) return { remove: [] };
  const stale = pods.filter((p) => hasPrimaryLabel(p) && p.metadata?.name !== leader);
  if (stale.length === 0) return { remove: [] };
  // Without a readable acquireTime the lock is not new: no reason to wait.
  const heldMs = now.getTime() - (Date.parse(leaderAcquiredAt ?? '') || 0);
  if (heldMs < STALE_PRIMARY_LABEL_GRACE_MS)
    return { remove: [], recheckAfterMs: STALE_PRIMARY_LABEL_GRACE_MS - heldMs };
  return {
    remove: stale.map((p) => ({ pod: p.metadata!.name!, resourceVersion: p.metadata?.resourceVersion })),
  };
}
