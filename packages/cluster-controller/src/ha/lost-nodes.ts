/**
 * Instances on lost nodes. When a node stops reporting, its pods stay Running or Terminating in
 * the API forever: the kubelet that would confirm their end is gone, and the StatefulSet will
 * not create a pod of the same name until the old one is removed. Patroni has long failed over
 * by then (the old primary's lease ran out); what is left is getting the instance back. Pure.
 *
 * NotReady only means that the kubelet does not report: the node may be alive and cut off from
 * the API server, its PostgreSQL still running on the volume. Force-deleting its pod then lets
 * the StatefulSet start a second postmaster on the same data wherever the storage does not
 * fence (Kubernetes' own StatefulSet guarantees rest on this). So by default pgop force-deletes
 * only on proof that the node is gone:
 * - the Node object was deleted (the provider's node controller, or an administrator);
 * - the node carries `node.kubernetes.io/out-of-service` (Kubernetes' non-graceful node
 *   shutdown: an administrator's word that the node is powered off);
 * - the node carries the provider's shutdown taint `node.cloudprovider.kubernetes.io/shutdown`.
 * spec.highAvailability.lostNodeConfirmationSeconds opts in to the old behaviour: force-delete
 * after the node has been NotReady that long, proof or not (the risk is in docs/ha.md).
 *
 * Never, with or without proof, while the pod's Patroni still renews the leader lock: a Patroni
 * that renews it is running and reaching the API server, whatever the node's status says.
 *
 * When no node at all is Ready, the nodes are not what failed: the API server (or the network to
 * it) was down, so no kubelet could report, and the node controller marks every node NotReady
 * when it returns. Like the node lifecycle controller's "full disruption" mode, the window then
 * deletes nothing, and the window of a node that stays NotReady starts again when the first node
 * came back Ready.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';

export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';
export const SHUTDOWN_TAINT = 'node.cloudprovider.kubernetes.io/shutdown';

export interface LostInstance {
  pod: string;
  uid?: string;
  node: string;
  /** When its node left Ready (undefined when the Node object is gone). */
  notReadySince?: Date;
  /** What proves the node gone, if anything does. */
  proof?: string;
  /** With a confirmation window: when it ends. */
  forceDeleteAt?: Date;
  /** Its Patroni renewed the leader lock within the lock's ttl: it runs, whatever the node says. */
  renewsLeaderLock: boolean;
}

export interface LostNodeDecision {
  /** Force-delete these now. */
  due: LostInstance[];
  /** On a NotReady node without proof, inside the window, or renewing the lock (or force-delete is off). */
  waiting: LostInstance[];
  forceDeleteEnabled: boolean;
  /** Seconds of the opt-in confirmation window; undefined: only on proof. */
  windowSeconds?: number;
  /** No node is Ready: a control-plane outage, not lost nodes; the window deletes nothing. */
  noNodeReady: boolean;
  /** When to look again without an event (the end of a window or of a fresh lock), if ever. */
  recheckAt?: Date;
}

/** Patroni's leader lock as its ConfigMap shows it. */
export interface LeaderLock {
  holder: string;
  renewedAt: Date;
  ttlSeconds: number;
}

const readyCondition = (node: V1Node | undefined) =>
  node?.status?.conditions?.find((c) => c.type === 'Ready');

/** When the node's Ready condition left True, or undefined while it is Ready (or unknown to us). */
export function nodeNotReadySince(node: V1Node | undefined): Date | undefined {
  const ready = readyCondition(node);
  if (!ready || ready.status === 'True') return undefined;
  return ready.lastTransitionTime ? new Date(ready.lastTransitionTime) : undefined;
}

/** What in a Node the decision reads: a change of it makes the clusters on the node reconcile. */
export function nodeFingerprint(node: V1Node): string {
  const taints = (node.spec?.taints ?? [])
    .map((t) => t.key)
    .filter((k) => k === OUT_OF_SERVICE_TAINT || k === SHUTDOWN_TAINT);
  return `${String(nodeNotReadySince(node))} ${taints.sort().join(',')}`;
}

function proofOfLoss(nodeName: string, node: V1Node | undefined): string | undefined {
  if (!node) return `the Node ${nodeName} was deleted`;
  const taint = (node.spec?.taints ?? []).find(
    (t) => t.key === OUT_OF_SERVICE_TAINT || t.key === SHUTDOWN_TAINT,
  );
  return taint ? `the Node ${nodeName} is tainted ${taint.key}` : undefined;
}

/** The latest time a node became Ready, or undefined when no node is Ready. */
function latestReadyTransition(nodes: readonly V1Node[]): Date | undefined {
  const times = nodes
    .map(readyCondition)
    .filter((c) => c?.status === 'True')
    .map((c) => (c!.lastTransitionTime ? new Date(c!.lastTransitionTime).getTime() : 0));
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}

export function decideLostNodes(
  cluster: PostgresCluster,
  pods: V1Pod[],
  nodes: readonly V1Node[],
  now: Date,
  lock?: LeaderLock,
): LostNodeDecision {
  const nodeNamed = new Map(nodes.map((n) => [n.metadata?.name, n]));
  const lastNodeBack = latestReadyTransition(nodes);
  const noNodeReady = nodes.length > 0 && lastNodeBack === undefined;
  const ha = cluster.spec.highAvailability;
  const forceDeleteEnabled = ha?.forceDeletePodsOnLostNodes ?? true;
  const windowSeconds = ha?.lostNodeConfirmationSeconds;
  const lockExpiresAt = lock && new Date(lock.renewedAt.getTime() + lock.ttlSeconds * 1000);
  const lost: LostInstance[] = [];
  for (const pod of pods) {
    const nodeName = pod.spec?.nodeName;
    // No nodes known at all: the cache is empty, which proves nothing.
    if (!nodeName || nodes.length === 0) continue;
    const node = nodeNamed.get(nodeName);
    const since = nodeNotReadySince(node);
    const proof = proofOfLoss(nodeName, node);
    if (node && !since) continue; // Ready (or no Ready condition yet)
    const windowStart = since && Math.max(since.getTime(), lastNodeBack?.getTime() ?? 0);
    const name = pod.metadata!.name!;
    lost.push({
      pod: name,
      uid: pod.metadata?.uid,
      node: nodeName,
      ...(since ? { notReadySince: since } : {}),
      ...(proof ? { proof } : {}),
      ...(windowSeconds !== undefined && windowStart !== undefined
        ? { forceDeleteAt: new Date(windowStart + windowSeconds * 1000) }
        : {}),
      renewsLeaderLock: lock?.holder === name && lockExpiresAt! > now,
    });
  }
  const isDue = (l: LostInstance) =>
    forceDeleteEnabled &&
    !l.renewsLeaderLock &&
    (l.proof !== undefined || (!noNodeReady && l.forceDeleteAt !== undefined && l.forceDeleteAt <= now));
  const waiting = lost.filter((l) => !isDue(l));
  const rechecks = forceDeleteEnabled
    ? waiting.flatMap((l) => [
        ...(l.renewsLeaderLock ? [lockExpiresAt!.getTime()] : []),
        ...(l.forceDeleteAt && !noNodeReady ? [l.forceDeleteAt.getTime()] : []),
      ])
    : [];
  return {
    due: lost.filter(isDue),
    waiting,
    forceDeleteEnabled,
    ...(windowSeconds !== undefined ? { windowSeconds } : {}),
    noNodeReady,
    ...(rechecks.length > 0 ? { recheckAt: new Date(Math.min(...rechecks)) } : {}),
  };
}

/** Why a lost instance is, or would be, force-deleted: for events, logs and the condition. */
export function lostBecause(l: LostInstance): string {
  if (l.proof) return l.proof;
  return `its node ${l.node} has been NotReady since ${l.notReadySince?.toISOString() ?? 'an unknown time'}`;
}

/**
 * Milliseconds until a pod on a NotReady node may be due (a window or a fresh lock ends); proof
 * (a deleted Node, a taint) and a node's return arrive as informer events.
 */
export function nextLostNodeCheckMs(decision: LostNodeDecision, now: Date): number | undefined {
  if (!decision.recheckAt) return undefined;
  return Math.max(1_000, decision.recheckAt.getTime() - now.getTime() + 500);
}
