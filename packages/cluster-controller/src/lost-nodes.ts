/**
 * Instances on lost nodes. When a node stops reporting, its pods stay Running or Terminating in
 * the API forever: the kubelet that would confirm their end is gone, and the StatefulSet will
 * not create a pod of the same name until the old one is removed. Patroni has long failed over
 * by then (the old primary's lease ran out); what is left is getting the instance back. After a
 * confirmation window pgop force-deletes such pods so the StatefulSet recreates them. Pure.
 *
 * When no node at all is Ready, the nodes are not what failed: the API server (or the network to
 * it) was down, so no kubelet could report, and the node controller marks every node NotReady
 * when it returns; kubelets can take a minute or more to report again. Force-deleting then would
 * kill every healthy instance, the primary included. Like the node lifecycle controller's "full
 * disruption" mode, pgop then deletes nothing, and the window of a node that stays NotReady
 * starts again when the first node came back Ready: a node slower to report after the outage
 * gets the whole window too.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';

export const DEFAULT_LOST_NODE_CONFIRMATION_SECONDS = 60;

export interface LostInstance {
  pod: string;
  uid?: string;
  node: string;
  notReadySince: Date;
  forceDeleteAt: Date;
}

export interface LostNodeDecision {
  /** Force-delete these now. */
  due: LostInstance[];
  /** On a NotReady node, inside the confirmation window (or force-delete is off). */
  waiting: LostInstance[];
  forceDeleteEnabled: boolean;
  /** No node is Ready: a control-plane outage, not lost nodes; nothing is force-deleted. */
  noNodeReady: boolean;
}

const readyCondition = (node: V1Node | undefined) =>
  node?.status?.conditions?.find((c) => c.type === 'Ready');

/** When the node's Ready condition left True, or undefined while it is Ready (or unknown to us). */
export function nodeNotReadySince(node: V1Node | undefined): Date | undefined {
  const ready = readyCondition(node);
  if (!ready || ready.status === 'True') return undefined;
  return ready.lastTransitionTime ? new Date(ready.lastTransitionTime) : undefined;
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
): LostNodeDecision {
  const nodeNamed = new Map(nodes.map((n) => [n.metadata?.name, n]));
  const lastNodeBack = latestReadyTransition(nodes);
  const noNodeReady = nodes.length > 0 && lastNodeBack === undefined;
  const ha = cluster.spec.highAvailability;
  const forceDeleteEnabled = ha?.forceDeletePodsOnLostNodes ?? true;
  const windowMs = (ha?.lostNodeConfirmationSeconds ?? DEFAULT_LOST_NODE_CONFIRMATION_SECONDS) * 1000;
  const lost: LostInstance[] = [];
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node) continue;
    const since = nodeNotReadySince(nodeNamed.get(node));
    if (!since) continue;
    const windowStart = Math.max(since.getTime(), lastNodeBack?.getTime() ?? 0);
    lost.push({
      pod: pod.metadata!.name!,
      uid: pod.metadata?.uid,
      node,
      notReadySince: since,
      forceDeleteAt: new Date(windowStart + windowMs),
    });
  }
  const isDue = (l: LostInstance) => forceDeleteEnabled && !noNodeReady && l.forceDeleteAt <= now;
  return {
    due: lost.filter(isDue),
    waiting: lost.filter((l) => !isDue(l)),
    forceDeleteEnabled,
    noNodeReady,
  };
}
