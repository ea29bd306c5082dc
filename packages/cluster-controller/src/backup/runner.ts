/**
 * Carries out the repository side of spec.backup for a cluster: the PVC repository's TLS
 * certificates, the repository host's removal when spec.backup.pvc goes, and what the
 * repository's health (health.ts, from the facts monitor.ts gathers) shows as status, events and
 * metrics. The decisions are in health.ts; this is the thin half that talks to the API.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { BACKUP_HEALTHY_CONDITION, type BackupRepositoryStatus, type PostgresCluster } from '@pgop/api';
import {
  secretData,
  type ConditionUpdate,
  type EventRecorder,
  type Informer,
  type ObjectClient,
  type Stored,
} from '@pgop/runtime';
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from 'winston';
import { clusterEventTarget, childNames } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { decideRepositoryCertificates, issueRepositoryCertificates } from '../pgbackrest/certificates.js';
import { CA_KEY } from '../tls/certificates.js';
import { saveCertificates } from '../tls/runner.js';
import { TLS_FILES } from '../pgbackrest/config.js';
import { repositoryHostNames } from '../pgbackrest/repository.js';
import { renderRepositoryTlsSecret } from '../render/repo-host.js';
import { backupHealthCondition, repositoryStatus } from './health.js';
import type { BackupRepositoryMonitor } from './monitor.js';

/** Backup failures seen by the cluster controller (repository and WAL archiving). */
export interface BackupMetrics {
  failures: Counter<'namespace' | 'cluster' | 'reason'>;
  archiveFailures: Gauge<'namespace' | 'cluster'>;
  archiveAge: Gauge<'namespace' | 'cluster'>;
}

export interface BackupRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  secrets: Informer<V1Secret>;
  /** Absent in tests without a repository to check. */
  monitor?: BackupRepositoryMonitor;
  metrics?: BackupMetrics;
}

/** status.backup and the BackupHealthy condition; absent without spec.backup. */
export interface BackupState {
  status?: BackupRepositoryStatus;
  health?: ConditionUpdate;
}

export class BackupRunner {
  constructor(private readonly deps: BackupRunnerDeps) {}

  /**
   * A PVC repository's TLS certificates (pgbackrest/certificates.ts decides): issued when the
   * Secret does not exist, renewed from the kept CA when a third of their life is left. The
   * repository host rolls onto a renewed certificate (its pod template carries its hash); the
   * instances read theirs at each pgBackRest call.
   */
  async ensureRepositoryCertificates(o: ClusterObservation): Promise<void> {
    if (!o.cluster.spec.backup?.pvc) return;
    const name = childNames(o.name).repositoryTlsSecret;
    const secret = this.deps.secrets.get(name, o.namespace);
    const data = secret ? secretData(secret) : undefined;
    const step = decideRepositoryCertificates(data, new Date());
    if (step.type === 'none') return;
    const ca = step.keepCa ? { certificate: data![TLS_FILES.ca.key]!, key: data![CA_KEY]! } : undefined;
    const certificates = await issueRepositoryCertificates(
      `${o.namespace}/${o.name} pgBackRest CA`,
      repositoryHostNames(o.name, o.namespace),
      ca,
    );
    await saveCertificates(this.deps, o, secret, renderRepositoryTlsSecret(o.cluster, certificates), {
      what: 'repository TLS certificates',
      reason: step.reason,
      afterwards: 'the repository host restarts onto them',
    });
  }

  /** The repository host's current server certificate, so its pods roll when it is renewed. */
  repositoryServerCertificate(o: ClusterObservation): string | undefined {
    if (!o.cluster.spec.backup?.pvc) return undefined;
    const secret = this.deps.secrets.get(childNames(o.name).repositoryTlsSecret, o.namespace);
    return secret ? secretData(secret)[TLS_FILES.serverCertificate.key] : undefined;
  }

  /**
   * spec.backup.pvc removed while status still names the PVC repository (this pass writes the new
   * status after it): the repository host goes. Its volume stays, with the backups. True when
   * it deleted.
   */
  async removeUnusedRepositoryHost(o: ClusterObservation): Promise<boolean> {
    const { cluster } = o;
    if (cluster.spec.backup?.pvc || !cluster.status?.backup?.repository?.startsWith('pvc://')) return false;
    const name = childNames(o.name).repositoryHost;
    await this.deps.client.delete({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name,
      namespace: o.namespace,
    });
    await this.deps.client.delete({ apiVersion: 'v1', kind: 'Service', name, namespace: o.namespace });
    return true;
  }

  /**
   * What the repository's facts mean for status; undefined without spec.backup. Looking also
   * starts the monitor's next checks (and drops its facts once the repository is gone).
   */
  observe(o: ClusterObservation): BackupState | undefined {
    const facts = o.paused ? undefined : this.deps.monitor?.observe(o.cluster, o.primary);
    if (!o.cluster.spec.backup) return undefined;
    return { status: repositoryStatus(o.cluster, facts), health: backupHealthCondition(o.cluster, facts) };
  }

  forget(key: string): void {
    this.deps.monitor?.forget(key);
  }

  /** A Warning event and a counted failure when BackupHealthy turns False (or changes reason). */
  recordHealth(cluster: Stored<PostgresCluster>, health: ConditionUpdate | undefined): void {
    const labels = { namespace: cluster.metadata.namespace, cluster: cluster.metadata.name };
    const archiving = cluster.status?.backup?.archiving;
    if (archiving) {
      this.deps.metrics?.archiveFailures.set(labels, archiving.failedCount ?? 0);
      if (archiving.lastArchivedTime)
        this.deps.metrics?.archiveAge.set(
          labels,
          (Date.now() - Date.parse(archiving.lastArchivedTime)) / 1000,
        );
    }
    if (!health) return;
    const previous = cluster.status?.conditions?.find((c) => c.type === BACKUP_HEALTHY_CONDITION);
    if (previous?.status === health.status && previous.reason === health.reason) return;
    const events = this.deps.events.about(clusterEventTarget(cluster));
    if (health.status === 'False') {
      this.deps.metrics?.failures.inc({ ...labels, reason: health.reason });
      void events('Warning', health.reason, 'BackupCheck', health.message);
    } else if (health.status === 'True' && previous?.status === 'False')
      void events('Normal', 'BackupHealthy', 'BackupCheck', health.message);
  }
}
