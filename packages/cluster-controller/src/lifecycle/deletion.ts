/**
 * The steps of a cluster's deletion, and how long each may wait. Pure; the reconciler carries
 * them out (finalize).
 *
 * Patroni's ConfigMaps go only once no instance can write them again: after the StatefulSet and
 * its pods are gone. But a pod on a lost node never goes (its kubelet cannot confirm), and a
 * StatefulSet held by another finalizer may not either: waiting for them forever would make the
 * cluster, and its namespace, impossible to delete. So each wait is bounded, by
 * DELETION_WAIT_SECONDS (PGOP_DELETION_WAIT_SECONDS) from the deletion request; past it pgop removes the ConfigMaps and its
 * finalizer anyway, says so in a Warning event, and the pods left are Kubernetes' to collect.
 */
export const DELETION_WAIT_SECONDS = 300;

export interface DeletionObservation {
  /** The cluster's StatefulSet exists (owned by it), and whether it is being deleted. */
  statefulSet?: { deleting: boolean };
  /** Instance pods still in the API, with their node. */
  pods: { name: string; node?: string }[];
  deletionRequestedAt: Date;
  now: Date;
  /** DELETION_WAIT_SECONDS unless the operator was started with another bound. */
  waitSeconds: number;
}

export type DeletionStep =
  | { type: 'deleteStatefulSet' }
  /** Waiting for the StatefulSet or its pods; `until` is when pgop stops waiting. */
  | { type: 'wait'; for: string; until: Date }
  /** Remove Patroni's ConfigMaps and the finalizer; `forced` names what did not go in time. */
  | { type: 'cleanUp'; forced?: string };

export function decideDeletion(o: DeletionObservation): DeletionStep {
  if (o.statefulSet && !o.statefulSet.deleting) return { type: 'deleteStatefulSet' };
  const pods = o.pods.map((p) => (p.node ? `${p.name} (on ${p.node})` : p.name)).join(', ');
  const pending = o.statefulSet
    ? 'the StatefulSet to be deleted'
    : o.pods.length > 0
      ? `the instance pods to stop: ${pods}`
      : undefined;
  if (!pending) return { type: 'cleanUp' };
  const until = new Date(o.deletionRequestedAt.getTime() + o.waitSeconds * 1000);
  return o.now < until ? { type: 'wait', for: pending, until } : { type: 'cleanUp', forced: pending };
}
