/**
 * The PostgresCluster reconcile: read the cluster and what it owns from the caches, compute the
 * desired children and the next instance step with pure functions, apply them, write status.
 * Level-triggered: every call starts from what is observed, so it may be interrupted anywhere.
 */
import type { V1ConfigMap, V1Job, V1Node, V1Pod, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import {
  API_VERSION,
  BACKUP_HEALTHY_CONDITION,
  CLUSTER_LABEL,
  isPaused,
  KINDS,
  ROLE_LABEL,
  validatePostgresCluster,
  type PostgresBackup,
  type PostgresCluster,
  type PrimaryChange,
  type SwitchoverStatus,
} from '@pgop/api';
import {
  StatusWrites,
  isStatus,
  type ConditionUpdate,
  type EventRecorder,
  type Informer,
  type ObjectClient,
  type ReconcileResult,
} from '@pgop/runtime';
import { isDeepStrictEqual } from 'node:util';
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from 'winston';
import { imageFor, type ImageCatalog } from './images.js';
import { planInstances, type InstanceAction, type InstancePlan } from './instance-plan.js';
import { childNames, DATABASE_COMPONENT } from './naming.js';
import { PatroniClient, type PatroniCredentials } from './patroni-client.js';
import { desiredChildren } from './render/desired-state.js';
import { generatePassword, renderSecrets } from './render/secrets.js';
import { repositoryHostNames } from './render/pgbackrest.js';
import { renderRepositoryTlsSecret } from './render/repo-host.js';
import { issueRepositoryCertificates } from './repository-certificates.js';
import { MAJOR_VERSION_LABEL } from './render/statefulset.js';
import { computeStatus, currentPrimary, type Blocker } from './status.js';
import { dynamicConfigPatch } from './dynamic-config.js';
import { isPodReady } from './patroni-member.js';
import { dynamicConfiguration } from './render/patroni-config.js';
import { decideSwitchover, type SwitchoverStep } from './switchover.js';
import { RestoreRunner, type RestoreProgress } from './restore-runner.js';
import { decideLostNodes, nodeNotReadySince, type LostNodeDecision } from './lost-nodes.js';
import { detectPrimaryChange } from './primary-change.js';
import { backupHealthCondition, repositoryStatus } from './backup-health.js';
import type { BackupRepositoryMonitor } from './backup-repository.js';
import { decideStalePrimaryLabels, type StalePrimaryLabelDecision } from './stale-primary-label.js';

/** Removes what Patroni itself created (its DCS ConfigMaps), which garbage collection cannot. */
export const CLEANUP_FINALIZER = 'postgres.example.com/patroni-dcs-cleanup';
const FAST_REQUEUE_MS = 2_000;
const PROGRESS_REQUEUE_MS = 5_000;
const BACKUP_RECHECK_MS = 15_000;

export interface ClusterCaches {
  clusters: Informer<PostgresCluster>;
  statefulSets: Informer<V1StatefulSet>;
  pods: Informer<V1Pod>;
  configMaps: Informer<V1ConfigMap>;
  secrets: Informer<V1Secret>;
  nodes: Informer<V1Node>;
  /** A restore's Job (restore-job.ts). */
  jobs: Informer<V1Job>;
  /** Read to find the source of spec.restore.backupName. */
  backups: Informer<PostgresBackup>;
}

/** Counters of primary changes, for alerting (pgop_failovers_total) and dashboards. */
export interface HaMetrics {
  failovers: Counter<'namespace' | 'cluster' | 'reason'>;
  switchovers: Counter<'namespace' | 'cluster' | 'reason' | 'result'>;
}

/** Backup failures seen by the cluster controller (repository and WAL archiving). */
export interface BackupMetrics {
  failures: Counter<'namespace' | 'cluster' | 'reason'>;
  archiveFailures: Gauge<'namespace' | 'cluster'>;
  archiveAge: Gauge<'namespace' | 'cluster'>;
}

export interface ReconcilerDeps {
  caches: ClusterCaches;
  client: ObjectClient;
  events: EventRecorder;
  images: ImageCatalog;
  logger: Logger;
  patroni?: PatroniClient;
  metrics?: HaMetrics;
  /** Absent in tests without a repository to check. */
  backupRepository?: BackupRepositoryMonitor;
  backupMetrics?: BackupMetrics;
}

const clusterRef = (cluster: PostgresCluster) => ({
  apiVersion: API_VERSION,
  kind: KINDS.PostgresCluster.kind,
  name: cluster.metadata.name!,
  namespace: cluster.metadata.namespace!,
});

/** obj when the cluster owns it (not a namesake left from another cluster of the same name). */
function ownedBy<T extends { metadata?: { ownerReferences?: { uid: string }[] } }>(
  cluster: PostgresCluster,
  obj: T | undefined,
): T | undefined {
  return obj?.metadata?.ownerReferences?.some((r) => r.uid === cluster.metadata.uid) ? obj : undefined;
}

export class ClusterReconciler {
  private readonly patroni: PatroniClient;
  private readonly statusWrites: StatusWrites;
  private readonly restores: RestoreRunner;

  constructor(private readonly deps: ReconcilerDeps) {
    this.patroni = deps.patroni ?? new PatroniClient();
    this.statusWrites = new StatusWrites(deps.client, KINDS.PostgresCluster.plural);
    this.restores = new RestoreRunner({ ...deps, ...deps.caches });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const cluster = this.deps.caches.clusters.get(name, namespace);
    if (!cluster) {
      this.statusWrites.forget(key);
      this.deps.backupRepository?.forget(key);
      return {};
    }
    if (cluster.metadata.deletionTimestamp) return this.finalize(cluster);
    // Its watch event is on the way and enqueues this cluster again.
    if (this.statusWrites.behind(key, cluster.metadata.resourceVersion)) return {};
    if (!(cluster.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) {
      await this.deps.client.mergePatch(clusterRef(cluster), {
        metadata: {
          finalizers: [...(cluster.metadata.finalizers ?? []), CLEANUP_FINALIZER],
          resourceVersion: cluster.metadata.resourceVersion,
        },
      });
      return {}; // the update comes back through the cache and reconciles again
    }

    const statefulSet = ownedBy(cluster, this.deps.caches.statefulSets.get(name, namespace));
    const pods = this.podsOf(cluster);
    const { leader, acquiredAt: leaderAcquiredAt } = this.leaderLockOf(cluster);
    const primary = currentPrimary(pods, leader);
    const syncStandbys = this.syncStandbysOf(cluster);
    const paused = isPaused(cluster.metadata);
    const now = new Date();
    const lostNodes = decideLostNodes(cluster, pods, this.deps.caches.nodes.list(), now);
    let blocker: Blocker | undefined;
    let plan: InstancePlan | undefined;
    let switchover = cluster.status?.lastSwitchover;
    let staleLabels: StalePrimaryLabelDecision | undefined;
    let restore: RestoreProgress | undefined;
    if (!paused) {
      const image = imageFor(cluster, this.deps.images);
      blocker = this.check(cluster, statefulSet, image);
      if (!blocker) {
        await this.ensureSecrets(cluster);
        await this.ensureRepositoryCertificates(cluster);
        restore = await this.restores.progress(cluster, statefulSet, pods, leader, image!, now);
        blocker = restore?.blocker;
      }
      if (!blocker && restore?.instances !== 'none') {
        plan = planInstances({
          desiredReplicas: cluster.spec.replicas,
          currentReplicas: statefulSet?.spec?.replicas,
          updateRevision: statefulSet?.status?.updateRevision,
          statefulSetObserved:
            !statefulSet || statefulSet.status?.observedGeneration === statefulSet.metadata?.generation,
          pods,
          leader,
          syncStandbys,
        });
        const existingVolumeSize =
          statefulSet?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage;
        for (const child of desiredChildren(cluster, {
          image: image!,
          // A restored cluster grows once its first instance leads (restore-progress.ts).
          replicas: restore?.instances === 'first' ? 1 : plan.statefulSetReplicas,
          existingVolumeSize,
        }))
          await this.deps.client.apply(child);
        await this.removeUnusedRepositoryHost(cluster);
        await this.syncDynamicConfiguration(cluster, pods, leader);
        switchover = await this.switchover(
          cluster,
          pods,
          decideSwitchover({ cluster, pods, primary, planned: plan.action, syncStandbys, now }),
        );
        await this.act(cluster, pods, plan.action);
        await this.forceDeleteLost(cluster, lostNodes);
        staleLabels = decideStalePrimaryLabels(pods, leader, leaderAcquiredAt, now);
        await this.removeStalePrimaryLabels(cluster, leader, staleLabels);
      } else if (blocker) {
        await this.deps.events.record(
          this.target(cluster),
          'Warning',
          blocker.reason,
          'Reconcile',
          blocker.message,
        );
      }
    }

    const primaryChange = this.primaryChange(cluster, pods, primary, switchover, leaderAcquiredAt, now);
    const repositoryFacts = paused ? undefined : this.deps.backupRepository?.observe(cluster, primary);
    const backup = cluster.spec.backup
      ? {
          status: repositoryStatus(cluster, repositoryFacts),
          health: backupHealthCondition(cluster, repositoryFacts),
        }
      : undefined;
    const status = computeStatus({
      cluster,
      statefulSetExists: statefulSet !== undefined || plan !== undefined,
      pods,
      leader,
      // The StatefulSet's label once it exists; the spec's version when it is being created now.
      dataVersion: statefulSet
        ? Number(statefulSet.metadata?.labels?.[MAJOR_VERSION_LABEL])
        : plan
          ? cluster.spec.version
          : undefined,
      plan,
      blocker,
      paused,
      switchover,
      primaryChange,
      lostNodes,
      backup,
      restore: restore?.status,
      now,
    });
    // Transition times are kept when nothing flipped, so an unchanged status compares equal.
    if (!isDeepStrictEqual(status, cluster.status ?? {}))
      if (!(await this.statusWrites.write(clusterRef(cluster), status))) return {}; // deleted meanwhile
    if (primaryChange) this.recordPrimaryChange(cluster, primaryChange);
    this.recordBackupHealth(cluster, backup?.health);
    if (status.phase !== cluster.status?.phase)
      this.recordPhaseChange(cluster, status.phase ?? 'Pending', status.readySummary ?? '');
    if (paused || blocker) return {};
    if (
      switchover?.phase === 'InProgress' ||
      (plan && plan.action.type !== 'none' && plan.action.type !== 'wait')
    )
      return { requeueAfterMs: FAST_REQUEUE_MS };
    const recheckMs = Math.min(
      this.nextLostNodeCheck(lostNodes, now) ?? Infinity,
      staleLabels?.recheckAfterMs ?? Infinity,
    );
    if (status.phase === 'Running' && recheckMs === Infinity)
      // The repository monitor gathers its facts when a reconcile looks (backup-repository.ts).
      return cluster.spec.backup ? { requeueAfterMs: BACKUP_RECHECK_MS } : {};
    return { requeueAfterMs: Math.min(PROGRESS_REQUEUE_MS, recheckMs) };
  }

  /**
   * Carries out one switchover step (see switchover.ts) and returns the record to keep in
   * status. Patroni is only asked once the InProgress record has been read back from the API.
   */
  private async switchover(
    cluster: PostgresCluster,
    pods: V1Pod[],
    step: SwitchoverStep,
  ): Promise<SwitchoverStatus | undefined> {
    if (step.type === 'none') return cluster.status?.lastSwitchover;
    if (step.type === 'record') {
      this.recordSwitchover(cluster, step.record);
      return step.record;
    }
    const { record } = step;
    const ip = pods.find((p) => p.metadata?.name === record.from)?.status?.podIP;
    if (!ip) return record;
    this.deps.logger.info('switching over', { key: this.key(cluster), from: record.from, to: record.to });
    let result: SwitchoverStatus;
    try {
      const answer = await this.patroni.switchover(
        ip,
        this.patroniCredentials(cluster),
        record.from,
        record.to,
      );
      result = { ...record, phase: 'Succeeded', message: answer, completedAt: new Date().toISOString() };
    } catch (err) {
      result = {
        ...record,
        phase: 'Failed',
        message: `Patroni refused or failed the switchover: ${(err as Error).message}`.slice(0, 1024),
        completedAt: new Date().toISOString(),
      };
    }
    this.recordSwitchover(cluster, result);
    return result;
  }

  private recordSwitchover(cluster: PostgresCluster, record: SwitchoverStatus): void {
    const message = `${record.message ?? ''} (${record.reason}${record.request ? ` ${record.request}` : ''})`;
    if (record.phase === 'InProgress')
      void this.deps.events.record(
        this.target(cluster),
        'Normal',
        'SwitchoverStarted',
        'Switchover',
        message,
      );
    else {
      const ok = record.phase === 'Succeeded';
      void this.deps.events.record(
        this.target(cluster),
        ok ? 'Normal' : 'Warning',
        ok ? 'SwitchoverCompleted' : 'SwitchoverFailed',
        'Switchover',
        message,
      );
      this.deps.metrics?.switchovers.inc({
        namespace: cluster.metadata.namespace,
        cluster: cluster.metadata.name,
        reason: record.reason,
        result: record.phase,
      });
    }
  }

  /** A change of primary since the last status, classified (see primary-change.ts). */
  private primaryChange(
    cluster: PostgresCluster,
    pods: V1Pod[],
    primary: string | undefined,
    switchover: SwitchoverStatus | undefined,
    leaderAcquiredAt: string | undefined,
    now: Date,
  ): PrimaryChange | undefined {
    const previousPrimary = cluster.status?.primaryPod;
    const previousPrimaryPod = pods.find((p) => p.metadata?.name === previousPrimary);
    const node = previousPrimaryPod?.spec?.nodeName;
    return detectPrimaryChange({
      previousPrimary,
      primary,
      lastSwitchover: switchover,
      previousPrimaryPod,
      previousPrimaryNodeReady: node
        ? nodeNotReadySince(this.deps.caches.nodes.get(node)) === undefined
        : undefined,
      leaderAcquiredAt,
      now,
    });
  }

  private recordPrimaryChange(cluster: PostgresCluster, change: PrimaryChange): void {
    this.deps.logger.info('primary changed', { key: this.key(cluster), ...change });
    if (change.reason === 'Switchover') return; // its events come with the switchover
    this.deps.metrics?.failovers.inc({
      namespace: cluster.metadata.namespace,
      cluster: cluster.metadata.name,
      reason: change.reason,
    });
    void this.deps.events.record(
      this.target(cluster),
      'Warning',
      'FailoverExecuted',
      'Failover',
      `Patroni failed over from ${change.from} to ${change.to} (${change.reason})`,
    );
  }

  /** Force-deletes instance pods whose node has been NotReady for the confirmation window. */
  private async forceDeleteLost(cluster: PostgresCluster, decision: LostNodeDecision): Promise<void> {
    for (const lost of decision.due) {
      this.deps.logger.warn('force-deleting a pod on a lost node', {
        key: this.key(cluster),
        pod: lost.pod,
        node: lost.node,
        notReadySince: lost.notReadySince.toISOString(),
      });
      await this.deps.client.delete(
        { apiVersion: 'v1', kind: 'Pod', name: lost.pod, namespace: cluster.metadata.namespace! },
        { uid: lost.uid, gracePeriodSeconds: 0 },
      );
      await this.deps.events.record(
        this.target(cluster),
        'Warning',
        'PodForceDeleted',
        'LostNode',
        `force-deleted ${lost.pod}: its node ${lost.node} has been NotReady since ${lost.notReadySince.toISOString()}; the StatefulSet recreates it where its volume can be attached`,
      );
    }
  }

  /**
   * Takes the primary label off pods that no longer hold the leader lock and could not do it
   * themselves (see stale-primary-label.ts), so the primary Service stops routing to them. A pod
   * that changed since the cache saw it is left for the next reconcile.
   */
  private async removeStalePrimaryLabels(
    cluster: PostgresCluster,
    leader: string | undefined,
    decision: StalePrimaryLabelDecision,
  ): Promise<void> {
    for (const stale of decision.remove) {
      try {
        await this.deps.client.mergePatch(
          { apiVersion: 'v1', kind: 'Pod', name: stale.pod, namespace: cluster.metadata.namespace! },
          { metadata: { labels: { [ROLE_LABEL]: null }, resourceVersion: stale.resourceVersion } },
        );
      } catch (err) {
        if (isStatus(err, 409) || isStatus(err, 404)) continue;
        throw err;
      }
      this.deps.logger.warn('removed a stale primary label', {
        key: this.key(cluster),
        pod: stale.pod,
        leader,
      });
      await this.deps.events.record(
        this.target(cluster),
        'Warning',
        'StalePrimaryLabelRemoved',
        'Failover',
        `removed the primary label from ${stale.pod}: Patroni's leader is ${leader}, and ${stale.pod} did not relabel itself (its Patroni is unreachable or its node lost); the primary Service no longer routes to it`,
      );
    }
  }

  /** Milliseconds until the next pod on a NotReady node is due for force-deletion. */
  private nextLostNodeCheck(decision: LostNodeDecision, now: Date): number | undefined {
    // With no node Ready, a node's return (an informer event) triggers the next reconcile.
    if (!decision.forceDeleteEnabled || decision.noNodeReady || decision.waiting.length === 0)
      return undefined;
    const next = Math.min(...decision.waiting.map((l) => l.forceDeleteAt.getTime()));
    return Math.max(1_000, next - now.getTime() + 500);
  }

  /** Reasons not to touch the children: an invalid spec, no image, or a major version change. */
  private check(
    cluster: PostgresCluster,
    statefulSet: V1StatefulSet | undefined,
    image: string | undefined,
  ): Blocker | undefined {
    const validation = validatePostgresCluster(cluster);
    if (!validation.valid)
      return {
        reason: 'InvalidSpec',
        message: validation.issues.map((i) => `${i.field}: ${i.message}`).join('; '),
      };
    if (!image)
      return {
        reason: 'NoImageForVersion',
        message: `no PostgreSQL image is configured for version ${cluster.spec.version}: set spec.image, or install the operator with an image for it (Helm value postgresImages)`,
      };
    const running = statefulSet?.metadata?.labels?.[MAJOR_VERSION_LABEL];
    if (running !== undefined && running !== String(cluster.spec.version))
      return {
        reason: 'MajorVersionChangeRefused',
        message: `spec.version ${cluster.spec.version} differs from the major version of the data (${running}): in-place major upgrades are not supported yet; set spec.version back to ${running}, or restore a backup into a new cluster of version ${cluster.spec.version}`,
      };
    return undefined;
  }

  /** Creates each credential Secret that does not exist yet; never rewrites one. */
  private async ensureSecrets(cluster: PostgresCluster): Promise<void> {
    const names = childNames(cluster.metadata.name!);
    const wanted = [names.superuserSecret, names.replicationSecret, names.patroniApiSecret];
    if (wanted.every((n) => this.deps.caches.secrets.get(n, cluster.metadata.namespace))) return;
    const secrets = renderSecrets(cluster, {
      superuser: generatePassword(),
      replication: generatePassword(),
      patroniApi: generatePassword(),
    });
    for (const secret of secrets) {
      if (this.deps.caches.secrets.get(secret.metadata!.name!, cluster.metadata.namespace)) continue;
      if ((await this.deps.client.createIfAbsent(secret)) === 'created')
        this.deps.logger.info('created credentials', { key: this.key(cluster), name: secret.metadata!.name });
    }
  }

  /** A PVC repository's TLS certificates: issued when the Secret does not exist, never rewritten. */
  private async ensureRepositoryCertificates(cluster: PostgresCluster): Promise<void> {
    if (!cluster.spec.backup?.pvc) return;
    const name = childNames(cluster.metadata.name!).repositoryTlsSecret;
    if (this.deps.caches.secrets.get(name, cluster.metadata.namespace)) return;
    const certificates = issueRepositoryCertificates(
      `${cluster.metadata.namespace}/${cluster.metadata.name} pgBackRest CA`,
      repositoryHostNames(cluster.metadata.name!, cluster.metadata.namespace!),
    );
    if (
      (await this.deps.client.createIfAbsent(renderRepositoryTlsSecret(cluster, certificates))) === 'created'
    )
      this.deps.logger.info('issued the repository TLS certificates', { key: this.key(cluster), name });
  }

  /**
   * spec.backup.pvc removed while status still names the PVC repository (this pass writes the new
   * status after it): the repository host goes. Its volume stays, with the backups.
   */
  private async removeUnusedRepositoryHost(cluster: PostgresCluster): Promise<void> {
    if (cluster.spec.backup?.pvc || !cluster.status?.backup?.repository?.startsWith('pvc://')) return;
    const name = childNames(cluster.metadata.name!).repositoryHost;
    const namespace = cluster.metadata.namespace!;
    await this.deps.client.delete({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace });
    await this.deps.client.delete({ apiVersion: 'v1', kind: 'Service', name, namespace });
  }

  /** Applies spec changes Patroni keeps in its DCS (parameters, replication mode) through the leader. */
  private async syncDynamicConfiguration(
    cluster: PostgresCluster,
    pods: V1Pod[],
    leader: string | undefined,
  ): Promise<void> {
    const names = childNames(cluster.metadata.name!);
    const stored = this.deps.caches.configMaps.get(names.patroniDynamicConfigMap, cluster.metadata.namespace)
      ?.metadata?.annotations?.config;
    const leaderPod = pods.find((p) => p.metadata?.name === leader && isPodReady(p));
    if (!stored || !leaderPod?.status?.podIP) return;
    const patch = dynamicConfigPatch(
      dynamicConfiguration(cluster),
      JSON.parse(stored) as Record<string, unknown>,
    );
    if (!patch) return;
    this.deps.logger.info('updating Patroni configuration', { key: this.key(cluster), patch });
    await this.patroni.patchConfig(leaderPod.status.podIP, this.patroniCredentials(cluster), patch);
    await this.deps.events.record(
      this.target(cluster),
      'Normal',
      'ConfigurationApplied',
      'Reconcile',
      `Patroni configuration updated: ${JSON.stringify(patch)}`,
    );
  }

  private async act(cluster: PostgresCluster, pods: V1Pod[], action: InstanceAction): Promise<void> {
    const key = this.key(cluster);
    if (action.type === 'replacePod') {
      const pod = pods.find((p) => p.metadata?.name === action.pod);
      if (!pod) return;
      this.deps.logger.info('replacing instance', { key, pod: action.pod, reason: action.reason });
      await this.deps.client.delete(
        { apiVersion: 'v1', kind: 'Pod', name: action.pod, namespace: cluster.metadata.namespace! },
        { uid: pod.metadata?.uid },
      );
      await this.deps.events.record(
        this.target(cluster),
        'Normal',
        'InstanceReplaced',
        'RollingUpdate',
        `replaced ${action.pod} to apply the current spec`,
      );
    }
  }

  /**
   * Deletion: the StatefulSet first, then, once its pods are gone (so Patroni cannot write
   * again), Patroni's own ConfigMaps; then the finalizer goes and garbage collection removes
   * the rest. PVCs follow spec.persistentVolumeClaimRetentionPolicy.whenDeleted through the
   * StatefulSet's own retention policy.
   */
  private async finalize(cluster: PostgresCluster): Promise<ReconcileResult> {
    const finalizers = cluster.metadata.finalizers ?? [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) return {};
    const namespace = cluster.metadata.namespace!;
    const names = childNames(cluster.metadata.name!);
    const statefulSet = ownedBy(cluster, this.deps.caches.statefulSets.get(names.statefulSet, namespace));
    if (statefulSet) {
      if (!statefulSet.metadata?.deletionTimestamp)
        await this.deps.client.delete({
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: names.statefulSet,
          namespace,
        });
      return { requeueAfterMs: FAST_REQUEUE_MS };
    }
    if (this.podsOf(cluster).length > 0) return { requeueAfterMs: FAST_REQUEUE_MS };
    for (const name of names.patroniDcsConfigMaps)
      await this.deps.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace });
    await this.deps.client.mergePatch(clusterRef(cluster), {
      metadata: {
        finalizers: finalizers.filter((f) => f !== CLEANUP_FINALIZER),
        resourceVersion: cluster.metadata.resourceVersion,
      },
    });
    this.deps.logger.info('cleaned up after deletion', { key: this.key(cluster) });
    return {};
  }

  private podsOf(cluster: PostgresCluster): V1Pod[] {
    return this.deps.caches.pods
      .list(cluster.metadata.namespace)
      .filter(
        (p) =>
          p.metadata?.labels?.[CLUSTER_LABEL] === cluster.metadata.name &&
          p.metadata?.labels?.['app.kubernetes.io/component'] === DATABASE_COMPONENT,
      );
  }

  /**
   * Patroni's leader lock (the leader ConfigMap's annotations): the member holding it, and when
   * it took it (acquireTime).
   */
  private leaderLockOf(cluster: PostgresCluster): { leader?: string; acquiredAt?: string } {
    const names = childNames(cluster.metadata.name!);
    const annotations = this.deps.caches.configMaps.get(
      names.patroniLeaderConfigMap,
      cluster.metadata.namespace,
    )?.metadata?.annotations;
    return { leader: annotations?.leader || undefined, acquiredAt: annotations?.acquireTime };
  }

  /**
   * The synchronous standbys Patroni lists in its -sync ConfigMap, in Sync and Quorum modes
   * (undefined otherwise, or when it lists none: then any replica may do).
   */
  private syncStandbysOf(cluster: PostgresCluster): string[] | undefined {
    if ((cluster.spec.replication?.mode ?? 'Async') === 'Async') return undefined;
    const names = childNames(cluster.metadata.name!);
    const listed = this.deps.caches.configMaps.get(names.patroniSyncConfigMap, cluster.metadata.namespace)
      ?.metadata?.annotations?.sync_standby;
    const standbys = (listed ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return standbys.length > 0 ? standbys : undefined;
  }

  private patroniCredentials(cluster: PostgresCluster): PatroniCredentials {
    const name = childNames(cluster.metadata.name!).patroniApiSecret;
    const data = this.deps.caches.secrets.get(name, cluster.metadata.namespace)?.data ?? {};
    const decode = (k: string) => Buffer.from(data[k] ?? '', 'base64').toString('utf8');
    return { username: decode('username'), password: decode('password') };
  }

  /** A Warning event and a counted failure when BackupHealthy turns False (or changes reason). */
  private recordBackupHealth(cluster: PostgresCluster, health: ConditionUpdate | undefined): void {
    const labels = { namespace: cluster.metadata.namespace, cluster: cluster.metadata.name };
    const archiving = cluster.status?.backup?.archiving;
    if (archiving) {
      this.deps.backupMetrics?.archiveFailures.set(labels, archiving.failedCount ?? 0);
      if (archiving.lastArchivedTime)
        this.deps.backupMetrics?.archiveAge.set(
          labels,
          (Date.now() - Date.parse(archiving.lastArchivedTime)) / 1000,
        );
    }
    if (!health) return;
    const previous = cluster.status?.conditions?.find((c) => c.type === BACKUP_HEALTHY_CONDITION);
    if (previous?.status === health.status && previous.reason === health.reason) return;
    if (health.status === 'False') {
      this.deps.backupMetrics?.failures.inc({ ...labels, reason: health.reason });
      void this.deps.events.record(
        this.target(cluster),
        'Warning',
        health.reason,
        'BackupCheck',
        health.message,
      );
    } else if (health.status === 'True' && previous?.status === 'False')
      void this.deps.events.record(
        this.target(cluster),
        'Normal',
        'BackupHealthy',
        'BackupCheck',
        health.message,
      );
  }

  private recordPhaseChange(cluster: PostgresCluster, phase: string, summary: string): void {
    const type = phase === 'Degraded' || phase === 'Failed' ? 'Warning' : 'Normal';
    void this.deps.events.record(
      this.target(cluster),
      type,
      `Cluster${phase}`,
      'Reconcile',
      `cluster is ${phase} (${summary} instances ready)`,
    );
  }

  private target(cluster: PostgresCluster) {
    return { apiVersion: API_VERSION, kind: KINDS.PostgresCluster.kind, metadata: cluster.metadata };
  }

  private key(cluster: PostgresCluster): string {
    return `${cluster.metadata.namespace}/${cluster.metadata.name}`;
  }
}
