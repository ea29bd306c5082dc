/**
 * The PostgresBackup reconcile: keep the CronJob of the schedule, start the one-off and the
 * triggered backups (each exactly once: Job names are derived from what asked for them, and
 * status records each before the next can start), record what finished Jobs report, then
 * delete those Jobs and their pods. Everything it knows of the cluster comes from the
 * PostgresCluster's spec and status.
 */
import type { V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  BACKUP_HEALTHY_CONDITION,
  BACKUP_TRIGGER_ANNOTATION,
  isPaused,
  KINDS,
  validatePostgresBackup,
  type PostgresBackup,
  type PostgresBackupStatus,
  type PostgresCluster,
} from '@pgop/api';
import {
  lastJobPod,
  mergeConditions,
  terminationMessage,
  StatusWrites,
  AppliedObjects,
  UNWATCHED,
  type Condition,
  type EventRecorder,
  type Informer,
  type ObjectClient,
  type ReconcileResult,
} from '@pgop/runtime';
import { isDeepStrictEqual } from 'node:util';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Logger } from 'winston';
import {
  backupConditions,
  failureMessage,
  finishedState,
  nextScheduled,
  withFinishedJobs,
  type FinishedJob,
} from './backup-status.js';
import { decodeJobResult } from './job-result.js';
import { renderCronJob, renderJob, renderJobAccess, type JobSettings } from './render/backup-job.js';
import { BACKUP_LABEL, BACKUP_REASON_LABEL, names, VERIFY_REASON } from './naming.js';
import { verifiedCondition } from './verification/decide.js';
import { VerificationRunner } from './verification/runner.js';

export interface BackupCaches {
  backups: Informer<PostgresBackup>;
  clusters: Informer<PostgresCluster>;
  jobs: Informer<V1Job>;
  cronJobs: Informer<V1CronJob>;
  pods: Informer<V1Pod>;
}

export interface BackupMetrics {
  failures: Counter<'namespace' | 'cluster' | 'reason'>;
  lastVerified: Gauge<'namespace' | 'cluster'>;
  lastBackup: Gauge<'namespace' | 'cluster'>;
  duration: Histogram<'namespace' | 'cluster'>;
}

export interface BackupReconcilerDeps {
  caches: BackupCaches;
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  settings: JobSettings;
  metrics?: BackupMetrics;
}

/** While a Job runs, look again this often (its pod's end also enqueues the backup). */
const RUNNING_REQUEUE_MS = 10_000;

export class BackupReconciler {
  private readonly statusWrites: StatusWrites;
  private readonly verification: VerificationRunner;
  /** The Jobs' ServiceAccount and RoleBinding and the CronJob, applied only when they would change. */
  private readonly applied: AppliedObjects;

  constructor(private readonly deps: BackupReconcilerDeps) {
    this.statusWrites = new StatusWrites(deps.client, KINDS.PostgresBackup.plural);
    this.applied = new AppliedObjects(deps.client);
    this.verification = new VerificationRunner({
      ...deps,
      ...deps.caches,
      lastVerified: deps.metrics?.lastVerified,
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const cached = this.statusWrites.cached(key, this.deps.caches.backups);
    if (!cached) this.applied.forget(key);
    if (!cached || cached.metadata.deletionTimestamp || isPaused(cached.metadata)) return {};
    // Acting on a status older than our own last write could start a recorded backup again;
    // the write's watch event is on its way and enqueues this object.
    if (this.statusWrites.behind(key, cached.metadata.resourceVersion)) return {};
    const { namespace } = cached.metadata;
    const validation = validatePostgresBackup(cached);
    if (!validation.valid) {
      const message = validation.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
      await this.writeStatus(cached, {
        ...cached.status,
        conditions: this.conditions(cached, [
          { type: BACKUP_HEALTHY_CONDITION, status: 'False', reason: 'Invalid', message },
        ]),
      });
      return {};
    }
    const backup = validation.value;
    const cluster = this.deps.caches.clusters.get(backup.spec.clusterName, namespace);
    const repositoryReady =
      cluster?.spec.backup !== undefined && cluster.status?.backup?.stanzaCreated === true;
    const now = new Date();
    let status: PostgresBackupStatus = { ...backup.status };

    for (const child of renderJobAccess(backup, this.deps.settings))
      await this.applied.apply(key, child, UNWATCHED);
    await this.keepSchedule(key, backup, repositoryReady);
    if (repositoryReady) status = await this.startOnDemand(backup, status, now);

    const finished = this.finishedJobs(backup);
    status = withFinishedJobs(status, finished);
    const scheduled = nextScheduled(backup.spec.schedule, now);
    status = { ...status, nextScheduled: scheduled };
    if (!scheduled) delete status.nextScheduled;
    const verification = cluster
      ? await this.verification.step(backup, cluster, now)
      : backup.status?.verification;
    status = { ...status, verification };
    if (!verification) delete status.verification;
    const conditions = backupConditions(backup, cluster, finished.at(-1));
    if (backup.spec.verify) conditions.push(verifiedCondition(backup, verification));
    status = {
      ...status,
      observedGeneration: backup.metadata.generation,
      conditions: this.conditions(backup, conditions),
    };
    await this.writeStatus(backup, status);
    this.verification.record(backup, verification);
    for (const f of finished) this.recordFinished(backup, f);
    // Recorded: the Jobs and their pods can go (pods with them, by background propagation).
    for (const f of finished)
      await this.deps.client.delete(
        { apiVersion: 'batch/v1', kind: 'Job', name: f.job.metadata!.name!, namespace },
        { uid: f.job.metadata!.uid! },
      );

    const running =
      this.ownedJobs(backup).some((j) => !finishedState(j, this.lastPod(j))) ||
      verification?.phase === 'Running';
    if (running) return { requeueAfterMs: RUNNING_REQUEUE_MS };
    const next = Math.min(
      ...[scheduled, verification?.next].filter((t) => t !== undefined).map((t) => Date.parse(t)),
    );
    return Number.isFinite(next) ? { requeueAfterMs: Math.max(1_000, next - now.getTime() + 1_000) } : {};
  }

  private conditions(backup: PostgresBackup, updates: Parameters<typeof mergeConditions>[1]): Condition[] {
    return mergeConditions(
      backup.status?.conditions as Condition[] | undefined,
      updates,
      backup.metadata.generation,
      new Date(),
    );
  }

  /** The CronJob while there is a schedule, suspended until the repository is ready; none without. */
  private async keepSchedule(key: string, backup: PostgresBackup, repositoryReady: boolean): Promise<void> {
    const name = names.cronJob(backup);
    if (backup.spec.schedule) {
      const cronJob = renderCronJob(backup, this.deps.settings);
      cronJob.spec!.suspend = !repositoryReady;
      await this.applied.apply(key, cronJob, this.deps.caches.cronJobs.get(name, backup.metadata.namespace));
    } else if (this.deps.caches.cronJobs.get(name, backup.metadata.namespace))
      await this.deps.client.delete({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name,
        namespace: backup.metadata.namespace,
      });
  }

  /**
   * The one-off backup (no schedule) and a new trigger value each start one Job. The Job is
   * created first (its name is derived from the request, so a repeat finds it: 409), then
   * status records it: a restart in between creates nothing twice.
   */
  private async startOnDemand(backup: PostgresBackup, status: PostgresBackupStatus, now: Date) {
    const startedAt = now.toISOString().replace(/\.\d+Z$/, 'Z');
    let next = status;
    if (!backup.spec.schedule && !status.oneOff) {
      const job = names.onceJob(backup);
      await this.deps.client.createIfAbsent(renderJob(backup, this.deps.settings, 'once', job));
      next = { ...next, oneOff: { job, phase: 'Running', startedAt } };
    }
    const value = backup.metadata.annotations?.[BACKUP_TRIGGER_ANNOTATION];
    if (value && value !== status.lastTrigger?.value) {
      const job = names.triggerJob(backup, value);
      await this.deps.client.createIfAbsent(renderJob(backup, this.deps.settings, 'trigger', job));
      next = { ...next, lastTrigger: { value, job, phase: 'Running', startedAt } };
      void this.deps.events.record(
        this.target(backup),
        'Normal',
        'BackupTriggered',
        'Backup',
        `trigger ${value}: Job ${job}`,
      );
    }
    return next;
  }

  /**
   * This backup's backup Jobs: its own and its CronJob's (both carry its label from the
   * template); verification Jobs are not backups.
   */
  private ownedJobs(backup: PostgresBackup): V1Job[] {
    return this.deps.caches.jobs
      .list(backup.metadata.namespace)
      .filter(
        (j) =>
          j.metadata?.labels?.[BACKUP_LABEL] === backup.metadata.name &&
          j.metadata?.labels?.[BACKUP_REASON_LABEL] !== VERIFY_REASON &&
          !j.metadata?.deletionTimestamp,
      );
  }

  /** Finished Jobs with what their last pod reported, oldest first. */
  private finishedJobs(backup: PostgresBackup): FinishedJob[] {
    const finished: FinishedJob[] = [];
    for (const job of this.ownedJobs(backup)) {
      const pod = this.lastPod(job);
      const state = finishedState(job, pod);
      if (!state) continue;
      const result = decodeJobResult(terminationMessage(pod));
      finished.push({ job, ...state, ...(result ? { result } : {}) });
    }
    return finished.sort((a, b) => a.completedAt.localeCompare(b.completedAt));
  }

  private lastPod(job: V1Job): V1Pod | undefined {
    return lastJobPod(job, this.deps.caches.pods.list(job.metadata?.namespace));
  }

  private recordFinished(backup: PostgresBackup, f: FinishedJob): void {
    const labels = { namespace: backup.metadata.namespace, cluster: backup.spec.clusterName };
    if (f.succeeded) {
      const newest = f.result?.backups[0];
      if (newest) this.deps.metrics?.lastBackup.set(labels, Date.parse(newest.stop) / 1000);
      if (f.result?.durationSeconds !== undefined)
        this.deps.metrics?.duration.observe(labels, f.result.durationSeconds);
      const expired = f.result?.expired.length ? `; retention removed ${f.result.expired.join(', ')}` : '';
      void this.deps.events.record(
        this.target(backup),
        'Normal',
        'BackupCompleted',
        'Backup',
        `backup ${f.result?.label ?? ''} completed by Job ${f.job.metadata?.name}${expired}`,
      );
    } else {
      this.deps.metrics?.failures.inc({ ...labels, reason: 'BackupJobFailed' });
      void this.deps.events.record(
        this.target(backup),
        'Warning',
        'BackupJobFailed',
        'Backup',
        failureMessage(f),
      );
    }
  }

  private async writeStatus(backup: PostgresBackup, status: PostgresBackupStatus): Promise<void> {
    if (isDeepStrictEqual(status, backup.status ?? {})) return;
    await this.statusWrites.write(
      {
        apiVersion: API_VERSION,
        kind: KINDS.PostgresBackup.kind,
        name: backup.metadata.name!,
        namespace: backup.metadata.namespace!,
      },
      status,
    );
  }

  private target(backup: PostgresBackup) {
    return { apiVersion: API_VERSION, kind: KINDS.PostgresBackup.kind, metadata: backup.metadata };
  }
}
