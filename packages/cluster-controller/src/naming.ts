/**
 * Names and labels of everything pgop creates for a PostgresCluster. One place, so the
 * renderers, the reconcile and the tests cannot disagree.
 */
import {
  API_VERSION,
  APP_LABELS,
  CLUSTER_LABEL,
  controllerReference,
  KINDS,
  MANAGED_BY,
  ROLE_LABEL,
  ROLES,
  type PostgresCluster,
} from '@pgop/api';

/** Removes what Patroni itself created (its DCS ConfigMaps), which garbage collection cannot. */
export const CLEANUP_FINALIZER = 'postgres.example.com/patroni-dcs-cleanup';
/** The pod annotation that changes when the rendered Patroni configuration changes. */
export const CONFIG_HASH_ANNOTATION = 'postgres.example.com/config-hash';
/** On the StatefulSet: the PostgreSQL major its data volumes hold. */
export const MAJOR_VERSION_LABEL = 'postgres.example.com/major-version';
/**
 * On a credential Secret kept with the retained volumes of a deleted cluster, until the next
 * cluster of that name adopts it.
 */
export const RETAINED_ANNOTATION = 'postgres.example.com/retained-with-volumes';
/** On a claim autoGrow grew: when (ISO time), counted from by minIntervalMinutes (storage/auto-grow.ts). */
export const GROWN_AT_ANNOTATION = 'postgres.example.com/auto-grown-at';

export const DATABASE_COMPONENT = 'database';
export const REPOSITORY_HOST_COMPONENT = 'repo-host';
/** The PgBouncer pods of spec.pooler: to the primary, and to the replicas. */
export const POOLER_COMPONENTS = { readWrite: 'pooler', readOnly: 'pooler-ro' } as const;
export type PoolerKind = keyof typeof POOLER_COMPONENTS;

export function childNames(clusterName: string) {
  /** ConfigMaps Patroni creates itself for its DCS (scope = cluster name); removed on delete. */
  const patroniLeaderConfigMap = `${clusterName}-leader`;
  /** Patroni's dynamic configuration (annotation `config`). */
  const patroniDynamicConfigMap = `${clusterName}-config`;
  /** Patroni's synchronous replication state (annotation `sync_standby`). */
  const patroniSyncConfigMap = `${clusterName}-sync`;
  return {
    statefulSet: clusterName,
    podsService: `${clusterName}-pods`,
    primaryService: `${clusterName}-primary`,
    replicaService: `${clusterName}-replica`,
    patroniConfigMap: `${clusterName}-patroni`,
    superuserSecret: `${clusterName}-superuser`,
    /** The application role's credentials and connection strings (access/application.ts). */
    applicationSecret: `${clusterName}-app`,
    /** The role Patroni runs pg_rewind as (access/roles.ts). */
    rewindSecret: `${clusterName}-rewind`,
    replicationSecret: `${clusterName}-replication`,
    /** The cluster's CA and the instances' certificates (tls/cluster-certificates.ts). */
    tlsSecret: `${clusterName}-tls`,
    instanceServiceAccount: `${clusterName}-instance`,
    disruptionBudget: clusterName,
    /** Ingress to the instances (render/network-policies.ts). */
    networkPolicy: clusterName,
    /** A PVC repository: its volume, the pgBackRest TLS server (Deployment and Service), its certificates. */
    repositoryVolume: `${clusterName}-repository`,
    repositoryHost: `${clusterName}-repo-host`,
    repositoryTlsSecret: `${clusterName}-pgbackrest-tls`,
    repositoryHostNetworkPolicy: `${clusterName}-repo-host`,
    /** spec.pooler: per kind a Deployment, Service and PodDisruptionBudget of this name. */
    pooler: { readWrite: `${clusterName}-pooler`, readOnly: `${clusterName}-pooler-ro` } as Record<
      PoolerKind,
      string
    >,
    /** PgBouncer's configuration (pooler/config.ts), its certificates, and its ingress. */
    poolerConfigMap: `${clusterName}-pooler`,
    poolerTlsSecret: `${clusterName}-pooler-tls`,
    poolerNetworkPolicy: `${clusterName}-pooler`,
    patroniLeaderConfigMap,
    patroniDynamicConfigMap,
    patroniSyncConfigMap,
    patroniDcsConfigMaps: [
      patroniLeaderConfigMap,
      patroniDynamicConfigMap,
      patroniSyncConfigMap,
      `${clusterName}-failover`,
    ],
  };
}

/** Labels on every child object of the cluster. */
export function clusterLabels(cluster: PostgresCluster, component: string): Record<string, string> {
  return {
    [CLUSTER_LABEL]: cluster.metadata.name!,
    [APP_LABELS.name]: 'postgresql',
    [APP_LABELS.instance]: cluster.metadata.name!,
    [APP_LABELS.component]: component,
    [APP_LABELS.partOf]: 'pgop',
    [APP_LABELS.managedBy]: MANAGED_BY,
  };
}

/** The StatefulSet's pod selector (immutable once created). */
export function instanceSelector(clusterName: string): Record<string, string> {
  return { [CLUSTER_LABEL]: clusterName, [APP_LABELS.component]: DATABASE_COMPONENT };
}

/** A pooler Deployment's pod selector. */
export function poolerSelector(clusterName: string, kind: PoolerKind): Record<string, string> {
  return { [CLUSTER_LABEL]: clusterName, [APP_LABELS.component]: POOLER_COMPONENTS[kind] };
}

/** The pods of both pooler kinds of a cluster, as a NetworkPolicy selects them. */
export function anyPoolerPodSelector(clusterName: string) {
  return {
    matchLabels: { [CLUSTER_LABEL]: clusterName },
    matchExpressions: [
      { key: APP_LABELS.component, operator: 'In', values: Object.values(POOLER_COMPONENTS) },
    ],
  };
}

/** The repository host Deployment's pod selector. */
export function repositoryHostSelector(clusterName: string): Record<string, string> {
  return { [CLUSTER_LABEL]: clusterName, [APP_LABELS.component]: REPOSITORY_HOST_COMPONENT };
}

export function roleSelector(clusterName: string, role: keyof typeof ROLES): Record<string, string> {
  return { ...instanceSelector(clusterName), [ROLE_LABEL]: ROLES[role] };
}

/** "k1=v1,k2=v2", the form of status.selector (scale subresource). */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Metadata of a child: name, namespace, labels and the controller owner reference. */
export function childMetadata(cluster: PostgresCluster, name: string, component: string) {
  return {
    name,
    namespace: cluster.metadata.namespace!,
    labels: clusterLabels(cluster, component),
    ownerReferences: [controllerReference(KINDS.PostgresCluster.kind, cluster.metadata)],
  };
}

/** namespace/name: the cluster's work-queue key, and its key in logs. */
export function clusterKey(cluster: PostgresCluster): string {
  return `${cluster.metadata.namespace}/${cluster.metadata.name}`;
}

/** The cluster as the object of an API request (client.mergePatch, status writes). */
export function clusterRef(cluster: PostgresCluster) {
  return {
    apiVersion: API_VERSION,
    kind: KINDS.PostgresCluster.kind,
    name: cluster.metadata.name!,
    namespace: cluster.metadata.namespace!,
  };
}

/** The cluster as the subject of an event. */
export function clusterEventTarget(cluster: PostgresCluster) {
  return { apiVersion: API_VERSION, kind: KINDS.PostgresCluster.kind, metadata: cluster.metadata };
}
