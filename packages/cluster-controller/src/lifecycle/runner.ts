/**
 * A cluster's life at its two ends: the cleanup finalizer and the credential Secrets when it is
 * created (generated, or adopted from a deleted cluster of the same name whose volumes were
 * kept), and its deletion (deletion.ts decides each step). This is the thin half that talks to
 * the API.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { controllerReference, KINDS, type PostgresCluster } from '@pgop/api';
import {
  findCondition,
  mergeConditions,
  type EventRecorder,
  type ObjectClient,
  type ReconcileResult,
  type StatusWrites,
  type Stored,
} from '@pgop/runtime';
import type { Logger } from 'winston';
import {
  childNames,
  CLEANUP_FINALIZER,
  clusterEventTarget,
  clusterKey,
  clusterRef,
  RETAINED_ANNOTATION,
} from '../naming.js';
import { instancePodsOf, ownedBy, type ClusterCaches } from '../observe.js';
import { generatePassword, renderSecrets } from '../render/secrets.js';
import { decideDeletion, DELETION_WAIT_SECONDS } from './deletion.js';

/** How soon a deletion that waits for its instances looks again. */
const DELETION_RECHECK_MS = 2_000;

export interface LifecycleRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  caches: Pick<ClusterCaches, 'statefulSets' | 'pods' | 'secrets'>;
  statusWrites: StatusWrites;
  /** How long a deletion waits for the StatefulSet and its pods (deletion.ts). */
  deletionWaitSeconds?: number;
}

/** The Secrets whose passwords the data's roles have. */
function credentialSecretNames(cluster: Stored<PostgresCluster>): string[] {
  const names = childNames(cluster.metadata.name);
  return [names.applicationSecret, names.superuserSecret, names.replicationSecret, names.rewindSecret];
}

export class LifecycleRunner {
  constructor(private readonly deps: LifecycleRunnerDeps) {}

  /** Adds the cleanup finalizer; true when it had to (the update comes back through the cache). */
  async ensureFinalizer(cluster: Stored<PostgresCluster>): Promise<boolean> {
    if ((cluster.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return false;
    await this.deps.client.mergePatch(clusterRef(cluster), {
      metadata: {
        finalizers: [...(cluster.metadata.finalizers ?? []), CLEANUP_FINALIZER],
        resourceVersion: cluster.metadata.resourceVersion,
      },
    });
    return true;
  }

  /**
   * Creates each credential Secret that does not exist yet; never rewrites one. A Secret kept
   * with the volumes of a deleted cluster of this name (finalize) is adopted: its passwords are
   * the ones that data's roles have.
   */
  async ensureSecrets(cluster: Stored<PostgresCluster>, ca: string | undefined): Promise<void> {
    const wanted = credentialSecretNames(cluster);
    for (const name of wanted) {
      const kept = this.deps.caches.secrets.get(name, cluster.metadata.namespace);
      if (kept?.metadata?.annotations?.[RETAINED_ANNOTATION] === undefined || ownedBy(cluster, kept))
        continue;
      await this.setCredentialsOwner(cluster, kept, 'adopt');
      this.deps.logger.info('adopted credentials kept with the volumes of an earlier cluster', {
        key: clusterKey(cluster),
        name,
      });
    }
    if (wanted.every((n) => this.deps.caches.secrets.get(n, cluster.metadata.namespace))) return;
    const secrets = renderSecrets(cluster, ca, {
      superuser: generatePassword(),
      replication: generatePassword(),
      application: generatePassword(),
      rewind: generatePassword(),
    });
    for (const secret of secrets) {
      if (this.deps.caches.secrets.get(secret.metadata!.name!, cluster.metadata.namespace)) continue;
      if ((await this.deps.client.createIfAbsent(secret)) === 'created')
        this.deps.logger.info('created credentials', {
          key: clusterKey(cluster),
          name: secret.metadata!.name,
        });
    }
  }

  /**
   * Deletion (deletion.ts decides): the StatefulSet first, then, once its pods are gone (so
   * Patroni cannot write again), Patroni's own ConfigMaps; then the finalizer goes and garbage
   * collection removes the rest. Each wait is bounded; while waiting, condition Ready says for
   * what and until when. PVCs follow spec.persistentVolumeClaimRetentionPolicy.whenDeleted
   * through the StatefulSet's own retention policy.
   */
  async finalize(cluster: Stored<PostgresCluster>): Promise<ReconcileResult> {
    const finalizers = cluster.metadata.finalizers ?? [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) return {};
    const namespace = cluster.metadata.namespace;
    const names = childNames(cluster.metadata.name);
    const statefulSet = ownedBy(cluster, this.deps.caches.statefulSets.get(names.statefulSet, namespace));
    const now = new Date();
    const waitSeconds = this.deps.deletionWaitSeconds ?? DELETION_WAIT_SECONDS;
    const step = decideDeletion({
      ...(statefulSet
        ? { statefulSet: { deleting: statefulSet.metadata?.deletionTimestamp !== undefined } }
        : {}),
      pods: instancePodsOf(cluster, this.deps.caches).map((p) => ({
        name: p.metadata!.name!,
        node: p.spec?.nodeName,
      })),
      deletionRequestedAt: new Date(cluster.metadata.deletionTimestamp!),
      now,
      waitSeconds,
    });
    if (step.type === 'deleteStatefulSet') {
      await this.deps.client.delete({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: names.statefulSet,
        namespace,
      });
      return { requeueAfterMs: DELETION_RECHECK_MS };
    }
    if (step.type === 'wait') {
      const message = `deleting: waiting for ${step.for}; pgop stops waiting at ${step.until.toISOString()}`;
      const ready = findCondition(cluster.status?.conditions, 'Ready');
      if (ready?.reason !== 'Deleting' || ready.message !== message)
        await this.deps.statusWrites.write(clusterRef(cluster), {
          ...cluster.status,
          conditions: mergeConditions(
            cluster.status?.conditions,
            [{ type: 'Ready', status: 'False', reason: 'Deleting', message }],
            cluster.metadata.generation,
            now,
          ),
        });
      return { requeueAfterMs: DELETION_RECHECK_MS };
    }
    if (step.forced) {
      this.deps.logger.warn('deletion did not wait any longer', {
        key: clusterKey(cluster),
        waitedFor: step.forced,
      });
      await this.deps.events.record(
        clusterEventTarget(cluster),
        'Warning',
        'DeletionForced',
        'Delete',
        `waited ${waitSeconds} s for ${step.forced}; removing Patroni's ConfigMaps and the finalizer anyway. A pod left on a lost node goes once its node is deleted or returns; if its Patroni still runs, it may write its ConfigMaps again (delete them before creating a cluster of the same name)`,
      );
    }
    for (const name of names.patroniDcsConfigMaps)
      await this.deps.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace });
    if ((cluster.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain') === 'Retain')
      await this.keepCredentials(cluster);
    await this.deps.client.mergePatch(clusterRef(cluster), {
      metadata: {
        finalizers: finalizers.filter((f) => f !== CLEANUP_FINALIZER),
        resourceVersion: cluster.metadata.resourceVersion,
      },
    });
    this.deps.logger.info('cleaned up after deletion', { key: clusterKey(cluster) });
    return {};
  }

  /**
   * The volumes stay, so the credentials their roles have stay too: the Secrets lose their owner
   * (garbage collection would delete them with the cluster) and are marked for adoption by the
   * next cluster of this name. Without them, that cluster would generate passwords the data does
   * not have (replicas could not clone, applications could not log in).
   */
  private async keepCredentials(cluster: Stored<PostgresCluster>): Promise<void> {
    for (const name of credentialSecretNames(cluster)) {
      const secret = ownedBy(cluster, this.deps.caches.secrets.get(name, cluster.metadata.namespace));
      if (secret) await this.setCredentialsOwner(cluster, secret, 'keep');
    }
    this.deps.logger.info('kept the credentials with the retained volumes', { key: clusterKey(cluster) });
  }

  /**
   * A credential Secret's owner reference and retained mark, and nothing else (its data is never
   * rewritten): kept past the cluster (no owner, marked), or adopted by it (owned, unmarked).
   */
  private async setCredentialsOwner(
    cluster: Stored<PostgresCluster>,
    secret: V1Secret,
    how: 'keep' | 'adopt',
  ) {
    await this.deps.client.mergePatch(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        name: secret.metadata!.name!,
        namespace: cluster.metadata.namespace,
      },
      {
        metadata: {
          ownerReferences:
            how === 'adopt' ? [controllerReference(KINDS.PostgresCluster.kind, cluster.metadata)] : [],
          annotations: {
            [RETAINED_ANNOTATION]:
              how === 'adopt' ? null : `kept with the volumes of ${cluster.metadata.uid}`,
          },
          resourceVersion: secret.metadata!.resourceVersion,
        },
      },
    );
  }
}
