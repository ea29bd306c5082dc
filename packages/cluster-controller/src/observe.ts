/**
 * One typed observation of a cluster and what it owns, read from the caches at the start of a
 * reconcile and handed to the deciders and runners, so each of them sees the same facts and none
 * reads the caches behind the reconciler's back. Pure reads; nothing here writes.
 */
import type {
  V1ConfigMap,
  V1Job,
  V1NetworkPolicy,
  V1Service,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1StatefulSet,
  V1StorageClass,
} from '@kubernetes/client-node';
import { CLUSTER_LABEL, isPaused, type PostgresBackup, type PostgresCluster } from '@pgop/api';
import type { Informer, Stored } from '@pgop/runtime';
import { nodeNotReadySince, type LeaderLock } from './ha/lost-nodes.js';
import { childNames, clusterKey, DATABASE_COMPONENT, POOLER_COMPONENTS } from './naming.js';

const POOLER_COMPONENT_VALUES: string[] = Object.values(POOLER_COMPONENTS);
import { HA_TIMING } from './patroni/config.js';
import { currentPrimary } from './status.js';

export interface ClusterCaches {
  clusters: Informer<PostgresCluster>;
  statefulSets: Informer<V1StatefulSet>;
  pods: Informer<V1Pod>;
  configMaps: Informer<V1ConfigMap>;
  secrets: Informer<V1Secret>;
  nodes: Informer<V1Node>;
  /** A restore's Job (render/restore-job.ts). */
  jobs: Informer<V1Job>;
  /** Read to find the source of spec.restore.backupName. */
  backups: Informer<PostgresBackup>;
  /** The cluster's NetworkPolicies (render/network-policies.ts). */
  networkPolicies: Informer<V1NetworkPolicy>;
  /** Its Services: one deleted by someone is made again at once (instances/runner.ts). */
  services: Informer<V1Service>;
  /** The data volumes' and a PVC repository's claims, sized by storage/. */
  persistentVolumeClaims: Informer<V1PersistentVolumeClaim>;
  /** Whether a claim's StorageClass allows expansion (cluster-scoped). */
  storageClasses: Informer<V1StorageClass>;
}

export interface ClusterObservation {
  cluster: Stored<PostgresCluster>;
  /** namespace/name, for logs. */
  key: string;
  name: string;
  namespace: string;
  /** The StatefulSet of this cluster (not a namesake left by another cluster of the name). */
  statefulSet?: V1StatefulSet;
  /** The instance pods. */
  pods: V1Pod[];
  /** The PgBouncer pods of spec.pooler, both kinds (pooler/pods.ts tells them apart). */
  poolerPods: V1Pod[];
  /** The NetworkPolicies this cluster owns. */
  networkPolicies: V1NetworkPolicy[];
  /** The claims labelled with this cluster: its data volumes and a PVC repository's. */
  volumeClaims: V1PersistentVolumeClaim[];
  /** The member holding Patroni's leader lock, and when it took it (acquireTime). */
  leader?: string;
  leaderAcquiredAt?: string;
  /** Patroni's last renewal of the lock (renewTime, ttl). */
  leaderRenewal?: LeaderLock;
  /** The pod holding the lock and labelled primary. */
  primary?: string;
  /** The synchronous standbys Patroni lists, in Sync and Quorum modes (else any replica may do). */
  syncStandbys?: string[];
  nodes: readonly V1Node[];
  paused: boolean;
  now: Date;
}

/** obj when the cluster owns it (not a namesake left from another cluster of the same name). */
export function ownedBy<T extends { metadata?: { ownerReferences?: { uid: string }[] } }>(
  cluster: Stored<PostgresCluster>,
  obj: T | undefined,
): T | undefined {
  return obj?.metadata?.ownerReferences?.some((r) => r.uid === cluster.metadata.uid) ? obj : undefined;
}

export function observeCluster(
  cluster: Stored<PostgresCluster>,
  caches: ClusterCaches,
  now: Date,
): ClusterObservation {
  const name = cluster.metadata.name;
  const namespace = cluster.metadata.namespace;
  const names = childNames(name);
  const pods = instancePodsOf(cluster, caches);
  const lock = caches.configMaps.get(names.patroniLeaderConfigMap, namespace)?.metadata?.annotations;
  const leader = lock?.leader || undefined;
  return {
    cluster,
    key: clusterKey(cluster),
    name,
    namespace,
    statefulSet: ownedBy(cluster, caches.statefulSets.get(names.statefulSet, namespace)),
    pods,
    poolerPods: caches.pods
      .list(namespace)
      .filter(
        (p) =>
          p.metadata?.labels?.[CLUSTER_LABEL] === name &&
          POOLER_COMPONENT_VALUES.includes(p.metadata?.labels?.['app.kubernetes.io/component'] ?? ''),
      ),
    networkPolicies: caches.networkPolicies.list(namespace).filter((p) => ownedBy(cluster, p)),
    volumeClaims: caches.persistentVolumeClaims
      .list(namespace)
      .filter((c) => c.metadata?.labels?.[CLUSTER_LABEL] === name),
    leader,
    leaderAcquiredAt: lock?.acquireTime,
    leaderRenewal: leaderRenewalOf(lock),
    primary: currentPrimary(pods, leader),
    syncStandbys: syncStandbysOf(cluster, caches),
    nodes: caches.nodes.list(),
    paused: isPaused(cluster.metadata),
    now,
  };
}

export function instancePodsOf(
  cluster: Stored<PostgresCluster>,
  caches: Pick<ClusterCaches, 'pods'>,
): V1Pod[] {
  return caches.pods
    .list(cluster.metadata.namespace)
    .filter(
      (p) =>
        p.metadata?.labels?.[CLUSTER_LABEL] === cluster.metadata.name &&
        p.metadata?.labels?.['app.kubernetes.io/component'] === DATABASE_COMPONENT,
    );
}

/** False when the node is known and not Ready; undefined when it is not known. */
export function nodeReady(o: ClusterObservation, nodeName: string | undefined): boolean | undefined {
  if (!nodeName) return undefined;
  return nodeNotReadySince(o.nodes.find((n) => n.metadata?.name === nodeName)) === undefined;
}

/** Patroni's last renewal of the leader lock (its ConfigMap's renewTime and ttl annotations). */
function leaderRenewalOf(annotations: Record<string, string> | undefined): LeaderLock | undefined {
  const renewedAt = new Date(annotations?.renewTime ?? '');
  if (!annotations?.leader || Number.isNaN(renewedAt.getTime())) return undefined;
  return { holder: annotations.leader, renewedAt, ttlSeconds: Number(annotations.ttl) || HA_TIMING.ttl };
}

/**
 * The synchronous standbys Patroni lists in its -sync ConfigMap, in Sync and Quorum modes
 * (undefined otherwise, or when it lists none: then any replica may do).
 */
function syncStandbysOf(cluster: Stored<PostgresCluster>, caches: ClusterCaches): string[] | undefined {
  if ((cluster.spec.replication?.mode ?? 'Async') === 'Async') return undefined;
  const listed = caches.configMaps.get(
    childNames(cluster.metadata.name).patroniSyncConfigMap,
    cluster.metadata.namespace,
  )?.metadata?.annotations?.sync_standby;
  const standbys = (listed ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return standbys.length > 0 ? standbys : undefined;
}
