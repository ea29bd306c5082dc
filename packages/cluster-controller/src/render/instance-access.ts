/**
 * The identity of the instance pods: a ServiceAccount and a Role with only what Patroni's
 * Kubernetes DCS needs: its own cluster's ConfigMaps (leader lock, config, sync state, failover
 * requests) and its own cluster's pods (it labels its pod with its role and status), by name.
 * Code that reaches an instance (SQL's COPY ... TO PROGRAM does) can therefore neither re-image
 * or relabel another workload's pod nor rewrite another cluster's Patroni state.
 *
 * What RBAC cannot narrow: `create` (the name is not known when it is authorized; Patroni creates
 * its ConfigMaps on first start) and `list`/`watch` (Patroni reads its cluster through a label
 * selector). Both are harmless here: a created ConfigMap changes nothing existing, and what is
 * listed holds no credential. docs/security.md has the whole table.
 */
import type { V1PolicyRule, V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import { MAX_REPLICAS, type PostgresCluster } from '@pgop/api';
import { childMetadata, childNames } from '../naming.js';

/** Every pod name the StatefulSet can give an instance (ordinals below MAX_REPLICAS). */
export function instancePodNames(clusterName: string): string[] {
  return Array.from({ length: MAX_REPLICAS }, (_, ordinal) => `${clusterName}-${ordinal}`);
}

export function patroniRules(clusterName: string): V1PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'list', 'watch'] },
    {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: childNames(clusterName).patroniDcsConfigMaps,
      verbs: ['get', 'patch', 'update'],
    },
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    {
      apiGroups: [''],
      resources: ['pods'],
      resourceNames: instancePodNames(clusterName),
      verbs: ['get', 'patch', 'update'],
    },
  ];
}

export function renderInstanceAccess(cluster: PostgresCluster): [V1ServiceAccount, V1Role, V1RoleBinding] {
  const name = childNames(cluster.metadata.name!).instanceServiceAccount;
  const metadata = childMetadata(cluster, name, 'patroni');
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: patroniRules(cluster.metadata.name!),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: cluster.metadata.namespace! }],
    },
  ];
}
