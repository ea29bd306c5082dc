/**
 * Wires the backup controller's two reconcilers to their caches: PostgresBackup (backups,
 * clusters, and the Jobs it runs) and PostgresRestore (restores, and the clusters and backups
 * they name).
 */
import type { KubeConfig, V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import {
  GROUP,
  resourceOf,
  type PostgresBackup,
  type PostgresCluster,
  type PostgresRestore,
  VERIFY_LABEL,
} from '@pgop/api';
import {
  builtIn,
  Controller,
  EventRecorder,
  Informer,
  ObjectClient,
  registerSnapshotGauges,
  type ControllerMetrics,
} from '@pgop/runtime';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Logger } from 'winston';
import type { JobSettings } from './render/backup-job.js';
import { BACKUP_LABEL } from './naming.js';
import { BackupReconciler, type BackupMetrics } from './backup-reconciler.js';
import { RestoreReconciler } from './restore-reconciler.js';
import { backupStatusGauges } from './monitoring/status-metrics.js';

export const FIELD_MANAGER = 'pgop-backup-controller';

export interface BackupControllerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  settings: JobSettings;
  identity: string;
  metrics?: ControllerMetrics;
  /** Namespaces to watch (Helm value watchNamespaces); absent or empty: all. */
  watchNamespaces?: readonly string[];
}

type Meta = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };

export function createBackupController(options: BackupControllerOptions) {
  const { kubeConfig, logger } = options;
  /** Where the install has rights (watchNamespaces); undefined: the whole cluster. */
  const namespaces = options.watchNamespaces;
  let reconciler: BackupReconciler | undefined = undefined;
  const controller = new Controller({
    name: 'postgresbackup',
    reconcile: (key) => reconciler!.reconcile(key),
    logger,
    metrics: options.metrics,
    concurrency: 2,
  });
  let restoreReconciler: RestoreReconciler | undefined = undefined;
  const restoreController = new Controller({
    name: 'postgresrestore',
    reconcile: (key) => restoreReconciler!.reconcile(key),
    logger,
    metrics: options.metrics,
    concurrency: 2,
  });
  const keyOf = (obj: Meta) => `${obj.metadata?.namespace}/${obj.metadata?.name}`;
  const enqueue = (obj: Meta) => controller.queue.add(keyOf(obj));
  /** A restore depends on the clusters and backups of its namespace (source, destination). */
  const enqueueRestoresIn = (obj: Meta) => {
    for (const r of caches.restores.list(obj.metadata?.namespace)) restoreController.queue.add(keyOf(r));
  };
  /** Jobs, CronJobs and pods carry the backup label: reconcile their PostgresBackup. */
  const enqueueOwner = (obj: Meta) => {
    const backup = obj.metadata?.labels?.[BACKUP_LABEL];
    if (backup) controller.queue.add(`${obj.metadata?.namespace}/${backup}`);
  };
  /**
   * A cluster's status (primary, repository health) matters to every backup of it; a
   * verification's temporary cluster to the backup verified.
   */
  const enqueueBackupsOf = (cluster: PostgresCluster) => {
    const verified = cluster.metadata.labels?.[VERIFY_LABEL];
    if (verified) controller.queue.add(`${cluster.metadata.namespace}/${verified}`);
    for (const b of caches.backups.list(cluster.metadata.namespace))
      if (b.spec.clusterName === cluster.metadata.name) enqueue(b);
  };
  const labelled = { labelSelector: BACKUP_LABEL, kubeConfig, logger, namespaces };
  const caches = {
    backups: new Informer<PostgresBackup>({
      kubeConfig,
      logger,
      namespaces,
      ...resourceOf('PostgresBackup'),
      onChange: (b) => {
        enqueue(b);
        enqueueRestoresIn(b);
      },
    }),
    clusters: new Informer<PostgresCluster>({
      kubeConfig,
      logger,
      namespaces,
      ...resourceOf('PostgresCluster'),
      onChange: (c) => {
        enqueueBackupsOf(c);
        enqueueRestoresIn(c);
      },
    }),
    restores: new Informer<PostgresRestore>({
      kubeConfig,
      logger,
      namespaces,
      ...resourceOf('PostgresRestore'),
      onChange: (r) => restoreController.queue.add(keyOf(r)),
    }),
    jobs: new Informer<V1Job>({
      ...labelled,
      ...builtIn('Job'),
      onChange: enqueueOwner,
    }),
    cronJobs: new Informer<V1CronJob>({
      ...labelled,
      ...builtIn('CronJob'),
      onChange: enqueueOwner,
    }),
    pods: new Informer<V1Pod>({
      ...labelled,
      ...builtIn('Pod'),
      onChange: enqueueOwner,
    }),
  };
  const client = new ObjectClient(kubeConfig, FIELD_MANAGER);
  const events = new EventRecorder(kubeConfig, {
    controller: `${GROUP}/backup-controller`,
    instance: options.identity,
    logger,
  });
  restoreReconciler = new RestoreReconciler({ caches, client, events, logger });
  reconciler = new BackupReconciler({
    caches,
    client,
    events,
    logger,
    settings: options.settings,
    ...(options.metrics ? { metrics: backupMetrics(options.metrics) } : {}),
  });
  if (options.metrics)
    registerSnapshotGauges(
      options.metrics.registry,
      backupStatusGauges(() => caches.backups.list()),
    );
  return {
    controllers: [controller, restoreController],
    informers: Object.values(caches) as Informer<object>[],
  };
}

function backupMetrics(metrics: ControllerMetrics): BackupMetrics {
  const registers = [metrics.registry];
  const labelNames = ['namespace', 'cluster'] as const;
  return {
    failures: new Counter({
      name: 'pgop_backup_failures_total',
      help: 'Backup Jobs that failed after their retries, by cluster (reason BackupJobFailed).',
      labelNames: ['namespace', 'cluster', 'reason'],
      registers,
    }),
    lastVerified: new Gauge({
      name: 'pgop_backup_last_verified_timestamp_seconds',
      help: 'When a restore verification (spec.verify) of the cluster last succeeded (Unix time).',
      labelNames,
      registers,
    }),
    lastBackup: new Gauge({
      name: 'pgop_last_backup_timestamp_seconds',
      help: 'When the newest backup of the cluster finished (Unix time).',
      labelNames,
      registers,
    }),
    duration: new Histogram({
      name: 'pgop_backup_duration_seconds',
      help: 'How long pgbackrest backup ran in a backup Job.',
      labelNames,
      buckets: [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
      registers,
    }),
  };
}
