/**
 * The PostgresRestore reconcile: carries out restore-plan.ts's action (create the new cluster,
 * ask the existing one to restore in place, or delete a failed attempt's cluster) and records
 * the outcome in status, with an event at each change of phase. Everything it knows comes from
 * the objects, so a restart of the controller resumes where it was.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  API_VERSION,
  isPaused,
  KINDS,
  RESTORED_CONDITION,
  type PostgresBackup,
  type PostgresCluster,
  type PostgresRestore,
  type PostgresRestoreStatus,
} from '@pgop/api';
import {
  mergeConditions,
  StatusWrites,
  type Condition,
  type EventRecorder,
  type Informer,
  type ObjectClient,
  type ReconcileResult,
} from '@pgop/runtime';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'winston';
import { planRestore, type RestoreOutcome } from './restore-plan.js';

export interface RestoreCaches {
  restores: Informer<PostgresRestore>;
  clusters: Informer<PostgresCluster>;
  backups: Informer<PostgresBackup>;
}

export interface RestoreReconcilerDeps {
  caches: RestoreCaches;
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
}

/** Look again this often while the cluster controller works (its status changes enqueue too). */
const ACTIVE_REQUEUE_MS = 30_000;

export class RestoreReconciler {
  private readonly statusWrites: StatusWrites;

  constructor(private readonly deps: RestoreReconcilerDeps) {
    this.statusWrites = new StatusWrites(deps.client, KINDS.PostgresRestore.plural);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const restore = this.statusWrites.cached(key, this.deps.caches.restores);
    if (!restore || restore.metadata.deletionTimestamp || isPaused(restore.metadata)) return {};
    if (this.statusWrites.behind(key, restore.metadata.resourceVersion)) return {};
    const { name, namespace } = restore.metadata;
    const { newCluster, inPlace } = restore.spec.destination;
    const destinationName = newCluster?.name ?? inPlace!.clusterName;
    const plan = planRestore({
      restore,
      destination: this.deps.caches.clusters.get(destinationName, namespace),
      clusterNamed: (n) => this.deps.caches.clusters.get(n, namespace),
      backupNamed: (n) => this.deps.caches.backups.get(n, namespace),
    });
    const { action } = plan;
    const clusterRef = (clusterName: string) => ({
      apiVersion: API_VERSION,
      kind: KINDS.PostgresCluster.kind,
      name: clusterName,
      namespace,
    });
    switch (action.type) {
      case 'createCluster':
        // The custom object as the client sees any object (its timestamps are strings on the wire).
        await this.deps.client.createIfAbsent(action.cluster as unknown as KubernetesObject);
        this.record(
          restore,
          'Normal',
          'RestoreStarted',
          `created PostgresCluster ${destinationName} from the backup`,
        );
        break;
      case 'requestInPlace': {
        const { requestId, backupLabel, targetTime, exclusive } = action.inPlaceRestore!;
        // A merge patch keeps fields it does not name: an earlier request's target is cleared.
        await this.deps.client.mergePatch(clusterRef(action.clusterName), {
          spec: {
            inPlaceRestore: {
              requestId,
              backupLabel: backupLabel ?? null,
              targetTime: targetTime ?? null,
              exclusive: exclusive ?? null,
            },
          },
        });
        this.record(
          restore,
          'Normal',
          'RestoreStarted',
          `asked PostgresCluster ${destinationName} to restore in place`,
        );
        break;
      }
      case 'deleteCluster':
        this.deps.logger.info('deleting the cluster of a failed restore', { key, cluster: action.name });
        await this.deps.client.delete(clusterRef(action.name), { uid: action.uid });
        break;
    }
    const status = restoreStatus(restore, plan.outcome, new Date());
    if (!isDeepStrictEqual(status, restore.status ?? {})) {
      await this.statusWrites.write(
        { apiVersion: API_VERSION, kind: KINDS.PostgresRestore.kind, name, namespace },
        status,
      );
      if (status.phase !== restore.status?.phase) this.recordPhase(restore, plan.outcome);
    }
    const done = status.phase === 'Succeeded' || (status.phase === 'Failed' && action.type === 'none');
    return done ? {} : { requeueAfterMs: ACTIVE_REQUEUE_MS };
  }

  private recordPhase(restore: PostgresRestore, outcome: RestoreOutcome): void {
    if (outcome.phase === 'Succeeded') this.record(restore, 'Normal', 'RestoreSucceeded', outcome.message);
    if (outcome.phase === 'Failed') this.record(restore, 'Warning', outcome.reason, outcome.message);
  }

  private record(restore: PostgresRestore, type: 'Normal' | 'Warning', reason: string, note: string): void {
    const target = { apiVersion: API_VERSION, kind: KINDS.PostgresRestore.kind, metadata: restore.metadata };
    void this.deps.events.about(target)(type, reason, 'Restore', note);
  }
}

/** The status for an outcome: times of this generation's attempt, and the Restored condition. */
export function restoreStatus(
  restore: PostgresRestore,
  outcome: RestoreOutcome,
  now: Date,
): PostgresRestoreStatus {
  const previous = restore.status ?? {};
  const sameAttempt = previous.observedGeneration === restore.metadata.generation;
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const finished = outcome.phase === 'Succeeded' || outcome.phase === 'Failed';
  const condition = {
    type: RESTORED_CONDITION,
    status: outcome.phase === 'Succeeded' ? 'True' : outcome.phase === 'Failed' ? 'False' : 'Unknown',
    reason: outcome.reason,
    message: outcome.message,
  } as const;
  return {
    phase: outcome.phase,
    startTime: (sameAttempt && previous.startTime) || stamp,
    ...(finished ? { completionTime: (sameAttempt && previous.completionTime) || stamp } : {}),
    ...(outcome.restoredTo ? { restoredTo: outcome.restoredTo } : {}),
    observedGeneration: restore.metadata.generation,
    conditions: mergeConditions(
      previous.conditions as Condition[] | undefined,
      [condition],
      restore.metadata.generation,
      now,
    ),
  };
}
