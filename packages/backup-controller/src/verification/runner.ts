/**
 * Carries out one step of restore verification (decide.ts) for a PostgresBackup: creates the
 * temporary cluster from the newest backup, runs the check Job against it, removes both when
 * done, and says what the outcome shows (the BackupVerified condition, an event, a metric). The
 * decisions are in decide.ts; this is the thin half that talks to the API.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  KINDS,
  VERIFY_LABEL,
  type PostgresBackup,
  type PostgresCluster,
  type VerificationStatus,
} from '@pgop/api';
import {
  lastJobPod,
  terminationMessage,
  type EventRecorder,
  type Informer,
  type ObjectClient,
} from '@pgop/runtime';
import type { Gauge } from 'prom-client';
import { BACKUP_LABEL, BACKUP_REASON_LABEL, names, VERIFY_REASON } from '../naming.js';
import type { JobSettings } from '../render/backup-job.js';
import { renderVerifyCluster, renderVerifyJob } from '../render/verification.js';
import { decideVerification } from './decide.js';
import { decodeVerifyResult } from './result.js';

export interface VerificationRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  settings: JobSettings;
  clusters: Informer<PostgresCluster>;
  jobs: Informer<V1Job>;
  pods: Informer<V1Pod>;
  lastVerified?: Gauge<'namespace' | 'cluster'>;
}

export class VerificationRunner {
  constructor(private readonly deps: VerificationRunnerDeps) {}

  /** One step of restore verification (decide.ts), carried out; returns its status. */
  async step(
    backup: PostgresBackup,
    source: PostgresCluster,
    now: Date,
  ): Promise<VerificationStatus | undefined> {
    const namespace = backup.metadata.namespace!;
    const clusterName = names.verifyCluster(backup);
    const found = this.deps.clusters.get(clusterName, namespace);
    // Only the temporary cluster this backup made; a namesake is never touched.
    const cluster = found?.metadata.labels?.[VERIFY_LABEL] === backup.metadata.name ? found : undefined;
    const current = backup.status?.verification;
    const jobName = current?.phase === 'Running' ? names.verifyJob(backup, current.startedAt) : undefined;
    const job = jobName ? this.deps.jobs.get(jobName, namespace) : undefined;
    const result = decodeVerifyResult(terminationMessage(lastJobPod(job, this.deps.pods.list(namespace))));
    const decision = decideVerification({ backup, clusterName, cluster, job, result, now });
    switch (decision.step.type) {
      case 'createCluster':
        if (!cluster) {
          // The custom object as the client sees any object (timestamps are strings on the wire).
          const temporary = renderVerifyCluster(backup, source) as unknown as V1Job;
          await this.deps.client.createIfAbsent(temporary);
        }
        break;
      case 'runCheck':
        await this.deps.client.createIfAbsent(
          renderVerifyJob(backup, this.deps.settings, current!.startedAt),
        );
        break;
      case 'cleanUp':
        if (cluster && !cluster.metadata.deletionTimestamp)
          await this.deps.client.delete(
            { apiVersion: API_VERSION, kind: KINDS.PostgresCluster.kind, name: clusterName, namespace },
            { uid: cluster.metadata.uid! },
          );
        for (const j of this.deps.jobs.list(namespace))
          if (
            j.metadata?.labels?.[BACKUP_LABEL] === backup.metadata.name &&
            j.metadata?.labels?.[BACKUP_REASON_LABEL] === VERIFY_REASON &&
            !j.metadata?.deletionTimestamp
          )
            await this.deps.client.delete({
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: j.metadata.name!,
              namespace,
            });
        break;
    }
    return decision.status;
  }

  /** An event and the metric when a verification ends. */
  record(backup: PostgresBackup, v: VerificationStatus | undefined): void {
    if (!v || v.phase === 'Running' || backup.status?.verification?.phase !== 'Running') return;
    const events = this.deps.events.about({
      apiVersion: API_VERSION,
      kind: KINDS.PostgresBackup.kind,
      metadata: backup.metadata,
    });
    if (v.phase === 'Succeeded') {
      const labels = { namespace: backup.metadata.namespace, cluster: backup.spec.clusterName };
      this.deps.lastVerified?.set(labels, Date.parse(v.lastSucceeded!) / 1000);
      void events('Normal', 'BackupVerified', 'Verify', v.message ?? '');
    } else void events('Warning', 'VerificationFailed', 'Verify', v.message ?? '');
  }
}
