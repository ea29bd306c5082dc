/** What the backup Jobs share: their settings from the environment, and the cluster's primary pod. */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KINDS, ROLE_LABEL, ROLES, VERSION, type PostgresCluster } from '@pgop/api';

export const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`environment variable ${name} is not set`);
  return value;
};

/** The pod holding the primary role now: named by the cluster's status and labelled primary. */
export async function primaryPod(
  kubeConfig: KubeConfig,
  namespace: string,
  clusterName: string,
): Promise<string> {
  const cluster = (await kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: KINDS.PostgresCluster.plural,
    name: clusterName,
  })) as PostgresCluster;
  const name = cluster.status?.primaryPod;
  if (!name)
    throw new Error(`PostgresCluster ${clusterName} has no primary yet (status.primaryPod is empty)`);
  const pod = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ name, namespace });
  if (pod.metadata?.labels?.[ROLE_LABEL] !== ROLES.primary)
    throw new Error(`${name} is not labelled primary: a failover is in progress`);
  return name;
}
