/**
 * The PostgresCluster reconcile, as a sequence only: observe the cluster and what it owns
 * (observe.ts), let the pure deciders choose (instances/plan.ts, ha/, restore/, backup/health.ts,
 * status.ts), let each concern's runner carry out its part, and write status.
 * Level-triggered: every call starts from what is observed, so it may be interrupted anywhere.
 */
import { KINDS, type PostgresCluster } from '@pgop/api';
import {
  StatusWrites,
  type EventRecorder,
  type ObjectClient,
  type ReconcileResult,
  type Stored,
} from '@pgop/runtime';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'winston';
import { AccessRunner, type RunSql } from './access/runner.js';
import { accessStatus } from './access/declared.js';
import {
  RETRY_MS as DECLARED_ACCESS_RECHECK_MS,
  type DeclaredAccessRunner,
} from './access/declared-runner.js';
import { CertificateRunner } from './tls/runner.js';
import { SERVER_CERTIFICATE_INVALID } from './tls/server-certificate.js';
import { BackupRunner, type BackupMetrics } from './backup/runner.js';
import type { BackupRepositoryMonitor } from './backup/monitor.js';
import { checkSpec, type Blocker } from './blocker.js';
import { decideLostNodes, nextLostNodeCheckMs } from './ha/lost-nodes.js';
import { HaRunner, type HaMetrics } from './ha/runner.js';
import { decideStalePrimaryLabels, type StalePrimaryLabelDecision } from './ha/stale-primary-label.js';
import { decideSwitchover } from './ha/switchover.js';
import { imageFor, type ImageCatalog } from './images.js';
import { planInstances, type InstancePlan } from './instances/plan.js';
import { InstanceRunner } from './instances/runner.js';
import type { RewindToolsInspector } from './instances/rewind-tools.js';
import { LifecycleRunner } from './lifecycle/runner.js';
import { childNames, clusterEventTarget, clusterRef, MAJOR_VERSION_LABEL } from './naming.js';
import { observeCluster, type ClusterCaches, type ClusterObservation } from './observe.js';
import { PatroniClient } from './patroni/client.js';
import { archivingEnabled } from './pgbackrest/repository.js';
import { RestoreRunner, type RestoreProgress } from './restore/runner.js';
import { poolerStatus } from './pooler/pods.js';
import { PoolerRunner, type ExecInPooler } from './pooler/runner.js';
import { computeStatus } from './status.js';
import { DATA_VOLUME, WAL_VOLUME } from './render/statefulset.js';
import { StorageRunner } from './storage/runner.js';
import { USAGE_INTERVAL_MS, type VolumeUsageMonitor } from './storage/usage-monitor.js';
import type { OperatorPeer } from './render/network-policies.js';

const FAST_REQUEUE_MS = 2_000;
/**
 * A cluster on its way (pods starting, a replica catching up) is looked at again after 5 s,
 * doubling while its status stays the same, up to a minute: its pods' and children's changes
 * enqueue it at once anyway, and a fleet of clusters that wait (for a node, an image) must not
 * keep the controller busy.
 */
const PROGRESS_REQUEUE_MS = 5_000;
const MAX_PROGRESS_REQUEUE_MS = 60_000;
const BACKUP_RECHECK_MS = 15_000;
/** How soon a user's server certificate Secret is read again (a fix, a new CA). */
const USER_SECRET_RECHECK_MS = 15_000;

/** The size a claim template of the cluster's StatefulSet asks for: templates are immutable. */
function templateSize(o: ClusterObservation, template: string): string | undefined {
  return o.statefulSet?.spec?.volumeClaimTemplates?.find((t) => t.metadata?.name === template)?.spec
    ?.resources?.requests?.storage;
}

/** The look-again delay of a cluster on its way whose status stayed the same `rounds` times. */
export function progressRequeueMs(rounds: number): number {
  return Math.min(PROGRESS_REQUEUE_MS * 2 ** Math.min(rounds, 10), MAX_PROGRESS_REQUEUE_MS);
}

export interface ReconcilerDeps {
  caches: ClusterCaches;
  client: ObjectClient;
  events: EventRecorder;
  images: ImageCatalog;
  /** Registries spec.image may name (images.ts); empty allows any. */
  allowedImageRegistries?: readonly string[];
  logger: Logger;
  patroni?: PatroniClient;
  metrics?: HaMetrics;
  /** Absent in tests without a repository to check. */
  backupRepository?: BackupRepositoryMonitor;
  /** spec.roles and spec.databases; absent in tests without a server to apply them to. */
  declaredAccess?: DeclaredAccessRunner;
  backupMetrics?: BackupMetrics;
  /** Absent in tests without pods to exec in (instances/rewind-tools.ts). */
  rewindTools?: RewindToolsInspector;
  /** SQL on an instance (access/runner.ts). */
  runSql: RunSql;
  /** How long a deletion waits for the StatefulSet and its pods (lifecycle/deletion.ts). */
  deletionWaitSeconds?: number;
  /** The controller's pods, for the NetworkPolicies (render/network-policies.ts). */
  operator?: OperatorPeer;
  /** spec.pooler's PgBouncer image (Helm value poolerImage). */
  poolerImage?: string;
  /** Commands in pooler pods (PAUSE, RESUME); absent in tests without pods to exec in. */
  execInPooler?: ExecInPooler;
  /** How full the volumes are, for autoGrow; absent in tests without pods to exec in. */
  volumeUsage?: VolumeUsageMonitor;
}

export class ClusterReconciler {
  private readonly statusWrites: StatusWrites;
  private readonly lifecycle: LifecycleRunner;
  private readonly instances: InstanceRunner;
  private readonly ha: HaRunner;
  private readonly backup: BackupRunner;
  private readonly restores: RestoreRunner;
  private readonly access: AccessRunner;
  private readonly tls: CertificateRunner;
  private readonly pooler: PoolerRunner;
  private readonly storage: StorageRunner;

  constructor(private readonly deps: ReconcilerDeps) {
    const { caches, client, events, logger } = deps;
    this.statusWrites = new StatusWrites(client, KINDS.PostgresCluster.plural);
    this.lifecycle = new LifecycleRunner({ ...deps, statusWrites: this.statusWrites });
    this.instances = new InstanceRunner(deps);
    this.pooler = new PoolerRunner({
      ...deps,
      secrets: caches.secrets,
      services: caches.services,
      image: deps.poolerImage,
      exec: deps.execInPooler,
    });
    this.ha = new HaRunner({
      ...deps,
      ...caches,
      patroni: deps.patroni ?? new PatroniClient(),
      pooler: this.pooler,
    });
    this.backup = new BackupRunner({
      client,
      events,
      logger,
      secrets: caches.secrets,
      monitor: deps.backupRepository,
      metrics: deps.backupMetrics,
    });
    this.restores = new RestoreRunner({ ...deps, ...caches });
    this.access = new AccessRunner({ ...deps, secrets: caches.secrets });
    this.tls = new CertificateRunner({ ...deps, secrets: caches.secrets });
    this.storage = new StorageRunner({ ...deps, storageClasses: caches.storageClasses });
  }

  /** Reconciles in a row that left a cluster's status as it was. */
  private readonly unchangedRounds = new Map<string, number>();

  async reconcile(key: string): Promise<ReconcileResult> {
    const cluster = this.statusWrites.cached(key, this.deps.caches.clusters);
    if (!cluster) {
      this.backup.forget(key);
      this.deps.volumeUsage?.forget(key);
      this.deps.declaredAccess?.forget(key);
      this.instances.forgetApplied(key);
      this.unchangedRounds.delete(key);
      return {};
    }
    if (cluster.metadata.deletionTimestamp) return this.lifecycle.finalize(cluster);
    // Its watch event is on the way and enqueues this cluster again.
    if (this.statusWrites.behind(key, cluster.metadata.resourceVersion)) return {};
    if (await this.lifecycle.ensureFinalizer(cluster)) return {}; // back through the cache

    const o = observeCluster(cluster, this.deps.caches, new Date());
    const lostNodes = decideLostNodes(cluster, o.pods, o.nodes, o.now, o.leaderRenewal);
    let blocker: Blocker | undefined;
    let plan: InstancePlan | undefined;
    let switchover = cluster.status?.lastSwitchover;
    let staleLabels: StalePrimaryLabelDecision | undefined;
    let restore: RestoreProgress | undefined;
    const image = imageFor(cluster, this.deps.images);
    const backup = this.backup.observe(o);
    const storage = this.storage.decide(o, this.deps.volumeUsage?.observe(o), backup?.status?.archiving);
    if (!o.paused) {
      blocker = checkSpec(cluster, o.statefulSet, image, this.deps.allowedImageRegistries);
      if (!blocker) {
        const tls = await this.tls.ensure(o);
        blocker = tls.blocker;
        if (!blocker) {
          await this.lifecycle.ensureSecrets(cluster, tls.clientCa);
          await this.tls.publishCertificateAuthority(o, tls.clientCa);
          await this.backup.ensureRepositoryCertificates(o);
          restore = await this.restores.progress(o, image!);
          blocker = restore?.blocker;
        }
      }
      if (!blocker && restore?.instances !== 'none') {
        plan = this.planInstances(o);
        const pooler = await this.pooler.prepare(o);
        const archiving = archivingEnabled(cluster);
        await this.storage.act(o, storage);
        await this.instances.applyChildren(o, {
          image: image!,
          // A restored cluster grows once its first instance leads (restore/progress.ts).
          replicas: restore?.instances === 'first' ? 1 : plan.statefulSetReplicas,
          // A StatefulSet made now asks for the size the volumes have (a cluster whose
          // StatefulSet was deleted by hand, after autoGrow took them past the spec's).
          existingVolumeSize: templateSize(o, DATA_VOLUME) ?? storage.sizes[DATA_VOLUME],
          existingWalVolumeSize: templateSize(o, WAL_VOLUME) ?? storage.sizes[WAL_VOLUME],
          existingRepositorySize: o.volumeClaims.find(
            (c) => c.metadata?.name === childNames(o.name).repositoryVolume,
          )?.spec?.resources?.requests?.storage,
          archiving,
          repositoryServerCertificate: this.backup.repositoryServerCertificate(o),
          ...(pooler ? { pooler } : {}),
        });
        // Deleted children it does not watch: applied afresh should spec.backup.pvc (or
        // spec.pooler) return.
        const removedRepositoryHost = await this.backup.removeUnusedRepositoryHost(o);
        if ((await this.pooler.removeUnused(o)) || removedRepositoryHost) this.instances.forgetApplied(o.key);
        await this.ha.syncDynamicConfiguration(o, archiving);
        switchover = await this.ha.switchover(
          o,
          decideSwitchover({
            cluster,
            pods: o.pods,
            primary: o.primary,
            planned: plan.action,
            syncStandbys: o.syncStandbys,
            now: o.now,
          }),
        );
        await this.instances.act(o, plan.action);
        await this.ha.forceDeleteLost(o, lostNodes);
        staleLabels = decideStalePrimaryLabels(o.pods, o.leader, o.leaderAcquiredAt, o.now);
        await this.ha.removeStalePrimaryLabels(o, staleLabels);
        this.access.ensureRoles(o);
        this.deps.declaredAccess?.ensure(o);
        this.pooler.ensureAuthRole(o);
      } else if (blocker) {
        await this.deps.events.record(
          clusterEventTarget(cluster),
          'Warning',
          blocker.reason,
          'Reconcile',
          blocker.message,
        );
      }
    }

    const primaryChange = this.ha.primaryChange(o, switchover);
    const rewind = image ? this.deps.rewindTools?.observe(cluster, image, o.pods) : undefined;
    const status = computeStatus({
      cluster,
      statefulSetExists: o.statefulSet !== undefined || plan !== undefined,
      pods: o.pods,
      leader: o.leader,
      // The StatefulSet's label once it exists; the spec's version when it is being created now.
      dataVersion: o.statefulSet
        ? Number(o.statefulSet.metadata?.labels?.[MAJOR_VERSION_LABEL])
        : plan
          ? cluster.spec.version
          : undefined,
      plan,
      blocker,
      paused: o.paused,
      switchover,
      primaryChange,
      lostNodes,
      backup,
      rewind,
      restore: restore?.status,
      access: accessStatus(cluster, this.deps.declaredAccess?.outcome(key)),
      pooler: poolerStatus(cluster, o.poolerPods, this.pooler.lookupRoleReady(o)),
      storage,
      now: o.now,
    });
    // Transition times are kept when nothing flipped, so an unchanged status compares equal.
    const statusChanged = !isDeepStrictEqual(status, cluster.status ?? {});
    // false: the cluster was deleted meanwhile.
    if (statusChanged && !(await this.statusWrites.write(clusterRef(cluster), status))) return {};
    const rounds = statusChanged ? 0 : (this.unchangedRounds.get(key) ?? -1) + 1;
    this.unchangedRounds.set(key, rounds);
    if (primaryChange) this.ha.recordPrimaryChange(o, primaryChange);
    if (primaryChange && primaryChange.reason !== 'Switchover') this.pooler.reconnectAfterFailover(o);
    this.backup.recordHealth(cluster, backup?.health);
    if (status.phase !== cluster.status?.phase)
      this.recordPhaseChange(cluster, status.phase ?? 'Pending', status.readySummary ?? '');
    if (o.paused) return {};
    // The user's server certificate Secret is read, not watched (tls/runner.ts): look again.
    if (blocker)
      return blocker.reason === SERVER_CERTIFICATE_INVALID ? { requeueAfterMs: USER_SECRET_RECHECK_MS } : {};
    if (
      switchover?.phase === 'InProgress' ||
      (plan && plan.action.type !== 'none' && plan.action.type !== 'wait')
    )
      return { requeueAfterMs: FAST_REQUEUE_MS };
    const recheckMs = Math.min(
      nextLostNodeCheckMs(lostNodes, o.now) ?? Infinity,
      staleLabels?.recheckAfterMs ?? Infinity,
    );
    if (status.phase === 'Running' && recheckMs === Infinity) {
      // These look again on their own schedule when a reconcile looks: the repository monitor
      // (backup/monitor.ts), the volumes' use (storage/usage-monitor.ts), a user's certificate Secret (tls/runner.ts), password Secrets and
      // the server's roles (access/declared-runner.ts).
      const recheck = Math.min(
        cluster.spec.backup ? BACKUP_RECHECK_MS : Infinity,
        // autoGrow: the volumes are measured again (storage/usage-monitor.ts).
        cluster.spec.storage.autoGrow || cluster.spec.walStorage?.autoGrow ? USAGE_INTERVAL_MS : Infinity,
        cluster.spec.tls?.serverCertificateSecret ? USER_SECRET_RECHECK_MS : Infinity,
        status.roles || status.databases ? DECLARED_ACCESS_RECHECK_MS : Infinity,
      );
      return recheck === Infinity ? {} : { requeueAfterMs: recheck };
    }
    return { requeueAfterMs: Math.min(progressRequeueMs(rounds), recheckMs) };
  }

  private planInstances(o: ClusterObservation): InstancePlan {
    const { cluster, statefulSet } = o;
    return planInstances({
      desiredReplicas: cluster.spec.replicas,
      currentReplicas: statefulSet?.spec?.replicas,
      updateRevision: statefulSet?.status?.updateRevision,
      statefulSetObserved:
        !statefulSet || statefulSet.status?.observedGeneration === statefulSet.metadata?.generation,
      pods: o.pods,
      leader: o.leader,
      syncStandbys: o.syncStandbys,
    });
  }

  private recordPhaseChange(cluster: Stored<PostgresCluster>, phase: string, summary: string): void {
    const type = phase === 'Degraded' || phase === 'Failed' ? 'Warning' : 'Normal';
    void this.deps.events.record(
      clusterEventTarget(cluster),
      type,
      `Cluster${phase}`,
      'Reconcile',
      `cluster is ${phase} (${summary} instances ready)`,
    );
  }
}
