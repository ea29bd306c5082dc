/**
 * Carries out one step of restore/progress.ts for a cluster: creates and removes the restore's
 * Jobs, stops the instances of an in-place restore and clears what they leave behind. The
 * decisions are all in restore/progress.ts; this is the thin half that talks to the API.
 */
import type { V1Job, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import {
  CLUSTER_LABEL,
  RESTORE_REQUEST_ANNOTATION,
  type ClusterRestoreStatus,
  type PostgresBackup,
  type PostgresCluster,
} from '@pgop/api';
import { lastJobPod, type EventRecorder, type Informer, type ObjectClient, type Stored } from '@pgop/runtime';
import type { Logger } from 'winston';
import { childNames, clusterEventTarget } from '../naming.js';
import { ownRepository, repositoryUrlOf, type RepositoryOf } from '../pgbackrest/repository.js';
import { renderRestoreCheckJob, restoreCheckJobName } from '../render/restore-check-job.js';
import { renderFirstInstanceVolume, renderRestoreJob, restoreJobName } from '../render/restore-job.js';
import { firstInstanceVolume } from '../render/restore-pod.js';
import {
  decideRestore,
  restoreRequestOf,
  untouchedInstances,
  type RestoreInstances,
  type RestoreRequest,
} from './progress.js';
import { isBlocker, resolveRestoreSource } from './source.js';
import type { Blocker } from '../blocker.js';
import type { ClusterObservation } from '../observe.js';

/** What a restore step leaves for the rest of the reconcile. */
export interface RestoreProgress {
  status?: ClusterRestoreStatus;
  blocker?: Blocker;
  /** none: the StatefulSet is not applied (absent, or held at 0); first: it runs instance 0 only. */
  instances: RestoreInstances;
}

export interface RestoreRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  jobs: Informer<V1Job>;
  pods: Informer<V1Pod>;
  clusters: Informer<PostgresCluster>;
  backups: Informer<PostgresBackup>;
}

export class RestoreRunner {
  constructor(private readonly deps: RestoreRunnerDeps) {}

  /** One step of the cluster's restore; undefined when none is asked or it is over. */
  async progress(o: ClusterObservation, image: string): Promise<RestoreProgress | undefined> {
    const { cluster, statefulSet, pods: instancePods, leader, now } = o;
    const request = restoreRequestOf(cluster);
    if (!request) return undefined;
    const reported = cluster.status?.restore;
    const current = reported?.requestId === request.id ? reported : undefined;
    if (current?.phase === 'Restored') {
      await this.removeJobs(cluster, [restoreCheckJobName, restoreJobName]);
      return undefined;
    }
    const source = this.sourceOf(cluster, request);
    // Checked before anything exists; once the data is restored the source no longer matters.
    if (isBlocker(source) && !current)
      return { blocker: source, instances: untouchedInstances(request, cluster) };

    const checkJob = this.jobOf(cluster, restoreCheckJobName(cluster.metadata.name));
    const job = this.jobOf(cluster, restoreJobName(cluster.metadata.name));
    if (current && current.phase !== 'Checking' && checkJob)
      await this.removeJobs(cluster, [restoreCheckJobName]);

    const volume = request.inPlace ? undefined : await this.firstVolume(cluster);
    const step = decideRestore({
      cluster,
      request,
      ...(volume
        ? {
            firstVolume: {
              madeByRestore: volume.metadata?.annotations?.[RESTORE_REQUEST_ANNOTATION] !== undefined,
              deleting: volume.metadata?.deletionTimestamp !== undefined,
            },
          }
        : {}),
      source: isBlocker(source) ? (current?.source ?? '') : repositoryUrlOf(source),
      checkJob,
      checkPod: this.podOf(checkJob),
      job,
      jobPod: this.podOf(job),
      statefulSet: { exists: statefulSet !== undefined, replicas: statefulSet?.spec?.replicas ?? 0 },
      leader,
      pods: instancePods,
      now,
    });
    const progress: RestoreProgress = {
      ...(step.status ? { status: step.status } : {}),
      instances: step.instances,
    };
    const needsSource = step.type === 'check' || step.type === 'restore';
    if (needsSource && isBlocker(source)) return { ...progress, blocker: source };
    switch (step.type) {
      case 'removeStale':
        for (const name of step.jobs) await this.deleteJob(cluster, name);
        return progress;
      case 'check':
        for (const child of renderRestoreCheckJob(
          cluster,
          request.key,
          request.target,
          source as RepositoryOf,
          image,
        ))
          await this.deps.client.apply(child);
        await this.record(cluster, 'Normal', 'RestoreChecking', step.status!.message!);
        return progress;
      case 'stop':
        if ((statefulSet?.spec?.replicas ?? 0) > 0) {
          await this.deps.client.mergePatch(this.statefulSetRef(cluster), { spec: { replicas: 0 } });
          await this.record(cluster, 'Normal', 'RestoreStoppingInstances', step.status!.message!);
        }
        return progress;
      case 'restore':
        if (!(await this.startRestore(cluster, request, source as RepositoryOf, image))) return progress;
        await this.record(cluster, 'Normal', 'RestoreStarted', step.status!.message!);
        return progress;
      case 'failed':
        // Reported with the other blockers when the cluster cannot run: condition, phase Failed,
        // a Warning event. An in-place restore refused by its checks left the cluster running.
        if (cluster.status?.restore?.phase !== 'Failed')
          await this.record(cluster, 'Warning', step.status!.reason!, step.status!.message!);
        return step.instances === 'none'
          ? { ...progress, blocker: { reason: step.status!.reason!, message: step.status!.message! } }
          : progress;
      case 'done':
        // The cluster runs on the volume now: no longer one a restore may write into.
        if (volume?.metadata?.annotations?.[RESTORE_REQUEST_ANNOTATION] !== undefined)
          await this.deps.client.mergePatch(this.firstVolumeRef(cluster), {
            metadata: { annotations: { [RESTORE_REQUEST_ANNOTATION]: null } },
          });
        await this.record(cluster, 'Normal', 'Restored', step.status!.message!);
        return progress;
      default:
        return progress;
    }
  }

  /**
   * Starts the restore Job once its volume may be written: in place, after Patroni's DCS is gone
   * (its history and leader belong to the data being replaced). The replicas keep their volumes:
   * when they start again after the first instance leads, Patroni rewinds them onto the new
   * timeline, or clones them afresh when that fails (patroni/config.ts). False while a volume of
   * a deleted cluster of the same name is still going away.
   */
  private async startRestore(
    cluster: Stored<PostgresCluster>,
    request: RestoreRequest,
    source: RepositoryOf,
    image: string,
  ): Promise<boolean> {
    const namespace = cluster.metadata.namespace;
    if (request.inPlace) {
      for (const name of childNames(cluster.metadata.name).patroniDcsConfigMaps)
        await this.deps.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace });
    }
    const volume = await this.firstVolume(cluster);
    if (volume?.metadata?.deletionTimestamp) return false;
    if (!volume) await this.deps.client.createIfAbsent(renderFirstInstanceVolume(cluster, request.key));
    for (const child of renderRestoreJob(cluster, request, source, image))
      await this.deps.client.apply(child);
    this.deps.logger.info('restoring from a backup', {
      key: `${namespace}/${cluster.metadata.name}`,
      source: repositoryUrlOf(source),
      inPlace: request.inPlace,
    });
    return true;
  }

  private firstVolumeRef(cluster: Stored<PostgresCluster>) {
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      name: firstInstanceVolume(cluster.metadata.name),
      namespace: cluster.metadata.namespace,
    };
  }

  private firstVolume(cluster: Stored<PostgresCluster>): Promise<V1PersistentVolumeClaim | undefined> {
    return this.deps.client.read<V1PersistentVolumeClaim>(this.firstVolumeRef(cluster));
  }

  private sourceOf(cluster: Stored<PostgresCluster>, request: RestoreRequest): RepositoryOf | Blocker {
    if (request.inPlace)
      return (
        ownRepository(cluster) ?? {
          reason: 'RestoreSourceNotFound',
          message: 'spec.inPlaceRestore: the cluster has no spec.backup repository',
        }
      );
    const namespace = cluster.metadata.namespace;
    return resolveRestoreSource(
      cluster,
      (n) => this.deps.clusters.get(n, namespace),
      (n) => this.deps.backups.get(n, namespace),
    );
  }

  /** The restore Job of that name made for a cluster of this name (this one or an earlier). */
  private jobOf(cluster: Stored<PostgresCluster>, name: string): V1Job | undefined {
    const job = this.deps.jobs.get(name, cluster.metadata.namespace);
    return job?.metadata?.labels?.[CLUSTER_LABEL] === cluster.metadata.name ? job : undefined;
  }

  /** The Job's pod (one of this controller's: it carries the cluster label). */
  private podOf(job: V1Job | undefined): V1Pod | undefined {
    const pods = this.deps.pods
      .list(job?.metadata?.namespace)
      .filter((p) => p.metadata?.labels?.[CLUSTER_LABEL]);
    return lastJobPod(job, pods);
  }

  private async removeJobs(
    cluster: Stored<PostgresCluster>,
    names: ((cluster: string) => string)[],
  ): Promise<void> {
    for (const nameOf of names) {
      const name = nameOf(cluster.metadata.name);
      if (this.jobOf(cluster, name)) await this.deleteJob(cluster, name);
    }
  }

  /** A restore Job and its ConfigMap (same name). */
  private async deleteJob(cluster: Stored<PostgresCluster>, name: string): Promise<void> {
    const ref = { apiVersion: 'batch/v1', kind: 'Job', name, namespace: cluster.metadata.namespace };
    await this.deps.client.delete(ref);
    await this.deps.client.delete({ ...ref, apiVersion: 'v1', kind: 'ConfigMap' });
  }

  private statefulSetRef(cluster: Stored<PostgresCluster>) {
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: childNames(cluster.metadata.name).statefulSet,
      namespace: cluster.metadata.namespace,
    };
  }

  private record(cluster: Stored<PostgresCluster>, type: 'Normal' | 'Warning', reason: string, note: string) {
    return this.deps.events.about(clusterEventTarget(cluster))(type, reason, 'Restore', note);
  }
}
