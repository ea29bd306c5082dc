/**
 * At most one instance may be evicted at a time (node drains, cluster upgrades), so a drain
 * never takes the primary and its replicas down together.
 */
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { childMetadata, childNames, DATABASE_COMPONENT, instanceSelector } from '../naming.js';

export function renderDisruptionBudget(cluster: PostgresCluster): V1PodDisruptionBudget {
  const name = cluster.metadata.name!;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(cluster, childNames(name).disruptionBudget, DATABASE_COMPONENT),
    spec: { maxUnavailable: 1, selector: { matchLabels: instanceSelector(name) } },
  };
}
