/**
 * Instances on lost nodes. When a node stops reporting, its pods stay Running or Terminating in
 * the API forever: the kubelet that would confirm their end is gone, and the StatefulSet will
 * not create a pod of the same name until the old one is removed. Patroni has long failed over
 * by then (the old primary's lease ran out); what is left is getting the instance back. After a
 * confirmation window pgop force-deletes such pods so the StatefulSet recreates them. Pure.
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
}

/** When the node's Ready condition left True, or undefined while it is Ready (or unknown to us). */
export function nodeNotReadySince(node: V1Node | undefined): Date | undefined {
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'True') return undefined;
  return ready.lastTransitionTime ? new Date(ready.lastTransitionTime) : undefined;
}

export function decideLostNodes(
  cluster: PostgresCluster,
  pods: V1Pod[],
  nodeNamed: (name: string) => V1Node | undefined,
  now: Date,
): LostNodeDecision {
  const ha = cluster.spec.highAvailability;
  const forceDeleteEnabled = ha?.forceDeletePodsOnLostNodes ?? true;
  const windowMs = (ha?.lostNodeConfirmationSeconds ?? DEFAULT_LOST_NODE_CONFIRMATION_SECONDS) * 1000;
  const lost: LostInstance[] = [];
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node) continue;
    const since = nodeNotReadySince(nodeNamed(node));
    if (!since) continue;
    lost.push({
      pod: pod.metadata!.name!,
      uid: pod.metadata?.uid,
      node,
      notReadySince: since,
      forceDeleteAt: new Date(since.getTime() + windowMs),
    });
  }
  const isDue = (l: LostInstance) => forceDeleteEnabled && l.forceDeleteAt <= now;
  return { due: lost.filter(isDue), waiting: lost.filter((l) => !isDue(l)), forceDeleteEnabled };
}
