/**
 * The PostgresCluster controller, wired: the caches it reads (clusters, and the StatefulSets,
 * pods, ConfigMaps and Secrets labelled with a cluster), the events that enqueue a cluster, and
 * the reconcile. main.ts runs it under leader election; the integration tests run it directly.
 */
import type {
  KubeConfig,
  V1ConfigMap,
  V1Job,
  V1NetworkPolicy,
  V1Service,
  V1Node,
  V1PersistentVolumeClaim,
  V1StorageClass,
  V1Pod,
  V1Secret,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { CLUSTER_LABEL, GROUP, resourceOf, type PostgresBackup, type PostgresCluster } from '@pgop/api';
import {
  builtIn,
  execInPod,
  Controller,
  EventRecorder,
  Informer,
  ObjectClient,
  onRelevantChange,
  registerSnapshotGauges,
  type ControllerMetrics,
} from '@pgop/runtime';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'winston';
import type { ImageCatalog } from './images.js';
import { nodeFingerprint } from './ha/lost-nodes.js';
import { podFingerprint } from './patroni/member.js';
import { BackupRepositoryMonitor } from './backup/monitor.js';
import { RewindToolsInspector } from './instances/rewind-tools.js';
import type { BackupMetrics } from './backup/runner.js';
import type { HaMetrics } from './ha/runner.js';
import { ClusterReconciler } from './reconciler.js';
import { VolumeUsageMonitor } from './storage/usage-monitor.js';
import { execSql } from './access/runner.js';
import { DeclaredAccessRunner } from './access/declared-runner.js';
import type { OperatorPeer } from './render/network-policies.js';
import { clusterStatusGauges } from './monitoring/status-metrics.js';
import { POOLER_CONTAINER } from './pooler/config.js';

export const FIELD_MANAGER = 'pgop-cluster-controller';

export interface ClusterControllerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  images: ImageCatalog;
  /** Registries spec.image may name; empty or absent allows any. */
  allowedImageRegistries?: readonly string[];
  /** This process, for events (the pod name). */
  identity: string;
  metrics?: ControllerMetrics;
  /** Namespaces to watch (Helm value watchNamespaces); absent or empty: all. */
  watchNamespaces?: readonly string[];
  concurrency?: number;
  /** How long a deletion waits for the instances to stop (lifecycle/deletion.ts); default 300. */
  deletionWaitSeconds?: number;
  /** This controller's pods, let in to Patroni's API by the clusters' NetworkPolicies. */
  operator?: OperatorPeer;
  /** spec.pooler's PgBouncer image (Helm value poolerImage, PGOP_POOLER_IMAGE). */
  poolerImage?: string;
}

type Meta = {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

export function createClusterController(options: ClusterControllerOptions) {
  const { kubeConfig, logger } = options;
  /** Where the install has rights (watchNamespaces); undefined: the whole cluster. */
  const namespaces = options.watchNamespaces;
  let reconciler: ClusterReconciler | undefined = undefined;
  const controller = new Controller({
    name: 'postgrescluster',
    reconcile: (key) => reconciler!.reconcile(key),
    logger,
    metrics: options.metrics,
    concurrency: options.concurrency ?? 4,
  });

  const enqueue = (obj: Meta) => controller.queue.add(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
  /** Children and Patroni's objects carry the cluster label: reconcile their cluster. */
  const enqueueCluster = (obj: Meta) => {
    const cluster = obj.metadata?.labels?.[CLUSTER_LABEL];
    if (cluster) controller.queue.add(`${obj.metadata?.namespace}/${cluster}`);
  };
  /** Of a ConfigMap: our data, and the leader and dynamic configuration Patroni keeps there. */
  const configMapFingerprint = (cm: V1ConfigMap) =>
    JSON.stringify([
      cm.metadata?.labels,
      cm.data,
      cm.metadata?.annotations?.leader,
      cm.metadata?.annotations?.config,
      cm.metadata?.annotations?.sync_standby,
    ]);

  /** A node that stops (or starts again) being Ready: reconcile every cluster with a pod on it. */
  const enqueueClustersOnNode = (node: V1Node) => {
    for (const pod of caches.pods.list()) if (pod.spec?.nodeName === node.metadata?.name) enqueueCluster(pod);
  };

  /**
   * A cluster waiting to be restored from a source that did not exist yet (RestoreSourceNotFound):
   * a PostgresBackup or PostgresCluster appearing in its namespace may be that source.
   */
  const enqueueWaitingRestores = (obj: Meta) => {
    for (const c of caches.clusters.list(obj.metadata?.namespace))
      if (c.spec.restore && !c.status?.restore) enqueue(c);
  };

  const labelled = { labelSelector: CLUSTER_LABEL, kubeConfig, logger, namespaces };
  const caches = {
    clusters: new Informer<PostgresCluster>({
      kubeConfig,
      logger,
      namespaces,
      ...resourceOf('PostgresCluster'),
      onChange: (c) => {
        enqueue(c);
        enqueueWaitingRestores(c);
      },
    }),
    statefulSets: new Informer<V1StatefulSet>({
      ...labelled,
      ...builtIn('StatefulSet'),
      onChange: enqueueCluster,
    }),
    pods: new Informer<V1Pod>({
      ...labelled,
      ...builtIn('Pod'),
      onChange: onRelevantChange(podFingerprint, enqueueCluster),
    }),
    configMaps: new Informer<V1ConfigMap>({
      ...labelled,
      ...builtIn('ConfigMap'),
      onChange: onRelevantChange(configMapFingerprint, enqueueCluster),
    }),
    secrets: new Informer<V1Secret>({
      ...labelled,
      ...builtIn('Secret'),
      onChange: enqueueCluster,
    }),
    jobs: new Informer<V1Job>({
      ...labelled,
      ...builtIn('Job'),
      onChange: enqueueCluster,
    }),
    backups: new Informer<PostgresBackup>({
      kubeConfig,
      logger,
      namespaces,
      ...resourceOf('PostgresBackup'),
      onChange: enqueueWaitingRestores,
    }),
    networkPolicies: new Informer<V1NetworkPolicy>({
      ...labelled,
      ...builtIn('NetworkPolicy'),
      onChange: enqueueCluster,
    }),
    services: new Informer<V1Service>({
      ...labelled,
      ...builtIn('Service'),
      onChange: enqueueCluster,
    }),
    persistentVolumeClaims: new Informer<V1PersistentVolumeClaim>({
      ...labelled,
      ...builtIn('PersistentVolumeClaim'),
      onChange: enqueueCluster,
    }),
    storageClasses: new Informer<V1StorageClass>({
      kubeConfig,
      logger,
      ...builtIn('StorageClass'),
      // Rare, and may allow expansion a cluster waits for.
      onChange: () => {
        for (const c of caches.clusters.list()) enqueue(c);
      },
    }),
    nodes: new Informer<V1Node>({
      kubeConfig,
      logger,
      ...builtIn('Node'),
      onChange: onRelevantChange(nodeFingerprint, enqueueClustersOnNode),
    }),
  };

  const client = new ObjectClient(kubeConfig, FIELD_MANAGER);
  const events = new EventRecorder(kubeConfig, {
    controller: `${GROUP}/cluster-controller`,
    instance: options.identity,
    logger,
  });
  reconciler = new ClusterReconciler({
    caches,
    client,
    events,
    images: options.images,
    ...(options.operator ? { operator: options.operator } : {}),
    allowedImageRegistries: options.allowedImageRegistries ?? [],
    logger,
    ...(options.deletionWaitSeconds !== undefined
      ? { deletionWaitSeconds: options.deletionWaitSeconds }
      : {}),
    metrics: options.metrics && haMetrics(options.metrics),
    runSql: execSql(kubeConfig),
    ...(options.poolerImage ? { poolerImage: options.poolerImage } : {}),
    execInPooler: (namespace, pod, command, timeoutMs) =>
      execInPod(kubeConfig, { namespace, pod, container: POOLER_CONTAINER }, command, { timeoutMs }),
    backupRepository: new BackupRepositoryMonitor(kubeConfig, logger, (key) => controller.queue.add(key)),
    declaredAccess: new DeclaredAccessRunner({
      kubeConfig,
      client,
      events,
      logger,
      runSql: execSql(kubeConfig),
      enqueue: (key) => controller.queue.add(key),
    }),
    volumeUsage: new VolumeUsageMonitor(
      (namespace, pod, container, command, timeoutMs) =>
        execInPod(kubeConfig, { namespace, pod, container }, command, { timeoutMs }),
      execSql(kubeConfig),
      logger,
      (key) => controller.queue.add(key),
    ),
    backupMetrics: options.metrics && backupMetrics(options.metrics),
    rewindTools: new RewindToolsInspector(kubeConfig, logger, (key) => controller.queue.add(key)),
  });
  if (options.metrics)
    registerSnapshotGauges(
      options.metrics.registry,
      clusterStatusGauges(() => caches.clusters.list()),
    );
  return { controller, informers: Object.values(caches) as Informer<object>[] };
}

function backupMetrics(metrics: ControllerMetrics): BackupMetrics {
  const registers = [metrics.registry];
  const labelNames = ['namespace', 'cluster'] as const;
  return {
    failures: new Counter({
      name: 'pgop_backup_failures_total',
      help: 'Times BackupHealthy turned False, by cluster and reason (S3AccessDenied, ArchivingFailing, ...).',
      labelNames: ['namespace', 'cluster', 'reason'],
      registers,
    }),
    archiveFailures: new Gauge({
      name: 'pgop_wal_archive_failures',
      help: 'Failed WAL archive attempts on the primary (pg_stat_archiver.failed_count).',
      labelNames,
      registers,
    }),
    archiveAge: new Gauge({
      name: 'pgop_wal_archive_age_seconds',
      help: 'Seconds since the primary last archived a WAL file, as of the last check.',
      labelNames,
      registers,
    }),
  };
}

function haMetrics(metrics: ControllerMetrics): HaMetrics {
  const registers = [metrics.registry];
  return {
    failovers: new Counter({
      name: 'pgop_failovers_total',
      help: 'Changes of primary pgop did not ask for (Patroni failovers), by cluster and reason.',
      labelNames: ['namespace', 'cluster', 'reason'],
      registers,
    }),
    switchovers: new Counter({
      name: 'pgop_switchovers_total',
      help: 'Switchovers pgop asked Patroni for, by cluster, reason and result.',
      labelNames: ['namespace', 'cluster', 'reason', 'result'],
      registers,
    }),
  };
}
