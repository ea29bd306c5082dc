/**
 * The identity of the instance pods: a ServiceAccount and a Role with only what Patroni's
 * Kubernetes DCS needs: its ConfigMaps (leader lock, config, sync state, failover requests)
 * and its pods (it labels its own pod with its role and status).
 */
import type { V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { childMetadata, childNames } from '../naming.js';

export const PATRONI_RULES = [
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['create', 'get', 'list', 'patch', 'update', 'watch', 'delete'],
  },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
];

export function renderInstanceAccess(cluster: PostgresCluster): [V1ServiceAccount, V1Role, V1RoleBinding] {
  const name = childNames(cluster.metadata.name!).instanceServiceAccount;
  const metadata = childMetadata(cluster, name, 'patroni');
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: PATRONI_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: cluster.metadata.namespace! }],
    },
  ];
}
