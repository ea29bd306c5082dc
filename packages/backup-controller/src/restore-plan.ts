/**
 * What the backup controller does for a PostgresRestore, decided from the restore, the
 * destination PostgresCluster and the source objects. Pure. The restore itself is the cluster
 * controller's: this side checks what it can see without the repository, hands the request over
 * through the PostgresCluster's spec (spec.restore of a new cluster, or spec.inPlaceRestore),
 * and reads the outcome back from its status.restore (docs/restore.md, "The contract").
 *
 *   Pending    local checks (source exists, destination free or confirmed), then the request;
 *              the cluster controller checks the target against the repository
 *   Running    the cluster controller restores
 *   Succeeded  the cluster runs on the restored data (final: a later spec change does nothing)
 *   Failed     with the reason; a new cluster is deleted (it never held anything). Changing the
 *              spec (a new generation) tries again.
 */
import {
  RESTORE_LABEL,
  RESTORE_REQUEST_ANNOTATION,
  type ClusterRestore,
  type ClusterRestoreStatus,
  type PostgresBackup,
  type PostgresCluster,
  type PostgresRestore,
  type PostgresRestoreStatus,
  type RestorePhase,
} from '@pgop/api';

export type RestoreAction =
  | { type: 'none' }
  | { type: 'createCluster'; cluster: PostgresCluster }
  | { type: 'requestInPlace'; clusterName: string; inPlaceRestore: PostgresCluster['spec']['inPlaceRestore'] }
  /** The new cluster of a failed (or an earlier) attempt: delete it, then look again. */
  | { type: 'deleteCluster'; name: string; uid: string };

export interface RestoreOutcome {
  phase: RestorePhase;
  /** The Restored condition's reason and message. */
  reason: string;
  message: string;
  restoredTo?: PostgresRestoreStatus['restoredTo'];
}

export interface RestorePlan {
  action: RestoreAction;
  outcome: RestoreOutcome;
}

export interface RestoreWorld {
  restore: PostgresRestore;
  /** The destination PostgresCluster (newCluster.name or inPlace.clusterName), if it exists. */
  destination?: PostgresCluster;
  clusterNamed: (name: string) => PostgresCluster | undefined;
  backupNamed: (name: string) => PostgresBackup | undefined;
}

/** The request this generation of the restore makes: <uid>/<generation>. */
export function requestIdOf(restore: PostgresRestore): string {
  return `${restore.metadata.uid}/${restore.metadata.generation ?? 1}`;
}

const failed = (reason: string, message: string): RestorePlan => ({
  action: { type: 'none' },
  outcome: { phase: 'Failed', reason, message },
});

/** The source's cluster, when the source names one that exists (a PostgresBackup's cluster). */
function sourceCheck(world: RestoreWorld): { clusterName?: string; failure?: RestorePlan } {
  const { source } = world.restore.spec;
  const namespace = world.restore.metadata.namespace;
  if (source.backupName) {
    const backup = world.backupNamed(source.backupName);
    if (!backup)
      return {
        failure: failed(
          'RestoreSourceNotFound',
          `spec.source.backupName: PostgresBackup ${source.backupName} does not exist in namespace ${namespace}`,
        ),
      };
    return { clusterName: backup.spec.clusterName };
  }
  if (!source.repository && !world.clusterNamed(source.clusterName!))
    return {
      failure: failed(
        'RestoreSourceNotFound',
        `spec.source.clusterName: PostgresCluster ${source.clusterName} does not exist in namespace ${namespace}; give spec.source.repository to restore from the repository of a deleted cluster`,
      ),
    };
  return { clusterName: source.clusterName };
}

/** spec.target in the cluster's terms (the target fields of spec.restore and spec.inPlaceRestore). */
function clusterTarget(restore: PostgresRestore) {
  const t = restore.spec.target ?? {};
  return {
    ...(t.backupLabel ? { backupLabel: t.backupLabel } : {}),
    ...(t.time ? { targetTime: t.time } : {}),
    ...(t.time && t.exclusive ? { exclusive: true } : {}),
  };
}

/** The cluster controller's account (status.restore) as the restore's outcome. */
function outcomeOf(reported: ClusterRestoreStatus, clusterName: string): RestoreOutcome {
  const message = `${clusterName}: ${reported.message ?? reported.phase}`;
  switch (reported.phase) {
    case 'Checking':
      return { phase: 'Pending', reason: 'Checking', message };
    case 'Restoring':
      return { phase: 'Running', reason: 'Restoring', message };
    case 'Failed':
      return { phase: 'Failed', reason: reported.reason ?? 'RestoreFailed', message };
    case 'Restored':
      return {
        phase: 'Succeeded',
        reason: 'Restored',
        message,
        restoredTo: {
          ...(reported.backupLabel ? { backupLabel: reported.backupLabel } : {}),
          ...(reported.lastTransactionTime ? { time: reported.lastTransactionTime } : {}),
          ...(reported.timeline ? { timeline: reported.timeline } : {}),
          ...(reported.lsn ? { lsn: reported.lsn } : {}),
        },
      };
  }
}

export function planRestore(world: RestoreWorld): RestorePlan {
  const { restore, destination } = world;
  const requestId = requestIdOf(restore);
  const status = restore.status ?? {};
  const current = status.observedGeneration === restore.metadata.generation;
  if (status.phase === 'Succeeded' || (current && status.phase === 'Failed'))
    return terminal(world, requestId);
  const { newCluster, inPlace } = restore.spec.destination;
  const source = sourceCheck(world);
  if (source.failure) return source.failure;

  if (newCluster) {
    const request = destination?.metadata.annotations?.[RESTORE_REQUEST_ANNOTATION];
    if (destination && !request?.startsWith(`${restore.metadata.uid}/`))
      return failed(
        'ClusterExists',
        `spec.destination.newCluster.name: PostgresCluster ${newCluster.name} already exists; choose another name, or restore in place (destination.inPlace)`,
      );
    if (destination && request !== requestId)
      return {
        action: { type: 'deleteCluster', name: newCluster.name, uid: destination.metadata.uid! },
        outcome: {
          phase: 'Pending',
          reason: 'Retrying',
          message: `removing ${newCluster.name} of the earlier attempt`,
        },
      };
    if (!destination) {
      const restoreSpec: ClusterRestore = { ...restore.spec.source, ...clusterTarget(restore) };
      return {
        action: {
          type: 'createCluster',
          cluster: {
            apiVersion: restore.apiVersion,
            kind: 'PostgresCluster',
            metadata: {
              name: newCluster.name,
              namespace: restore.metadata.namespace!,
              labels: { [RESTORE_LABEL]: restore.metadata.name! },
              annotations: { [RESTORE_REQUEST_ANNOTATION]: requestId },
            },
            spec: { ...newCluster.spec, restore: restoreSpec },
          },
        },
        outcome: {
          phase: 'Pending',
          reason: 'Creating',
          message: `creating PostgresCluster ${newCluster.name}`,
        },
      };
    }
    const reported = destination.status?.restore;
    if (!reported)
      return {
        action: { type: 'none' },
        outcome: {
          phase: 'Pending',
          reason: 'Checking',
          message: `${newCluster.name}: waiting for the cluster controller`,
        },
      };
    return { action: { type: 'none' }, outcome: outcomeOf(reported, newCluster.name) };
  }

  const name = inPlace!.clusterName;
  if (!destination)
    return failed(
      'ClusterNotFound',
      `spec.destination.inPlace.clusterName: PostgresCluster ${name} does not exist`,
    );
  if (source.clusterName !== name || restore.spec.source.repository)
    return failed(
      'RestoreSourceInvalid',
      `spec.source must name the cluster restored in place (${name}) or a PostgresBackup of it: in place, a cluster is restored from its own repository`,
    );
  if (!destination.spec.backup)
    return failed(
      'RestoreSourceInvalid',
      `PostgresCluster ${name} has no spec.backup repository to restore from`,
    );
  const reported = destination.status?.restore;
  const asked = destination.spec.inPlaceRestore?.requestId;
  if (asked !== requestId && !destination.spec.allowInPlaceRestore)
    return {
      action: { type: 'none' },
      outcome: {
        phase: 'Pending',
        reason: 'InPlaceRestoreNotAllowed',
        message: `PostgresCluster ${name} does not allow in-place restores: someone who may edit it sets spec.allowInPlaceRestore: true, and this restore proceeds`,
      },
    };
  if (asked !== requestId) {
    const busy = reported && (reported.phase === 'Checking' || reported.phase === 'Restoring');
    if (busy)
      return {
        action: { type: 'none' },
        outcome: {
          phase: 'Pending',
          reason: 'ClusterBusy',
          message: `${name} is being restored by another request (${reported.requestId ?? 'its creation'})`,
        },
      };
    return {
      action: {
        type: 'requestInPlace',
        clusterName: name,
        inPlaceRestore: { requestId, ...clusterTarget(restore) },
      },
      outcome: { phase: 'Pending', reason: 'Checking', message: `asked ${name} to restore in place` },
    };
  }
  if (reported?.requestId !== requestId)
    return {
      action: { type: 'none' },
      outcome: {
        phase: 'Pending',
        reason: 'Checking',
        message: `${name}: waiting for the cluster controller`,
      },
    };
  return { action: { type: 'none' }, outcome: outcomeOf(reported, name) };
}

/** Succeeded, or Failed for this generation: keep the outcome; a failed new cluster goes. */
function terminal(world: RestoreWorld, requestId: string): RestorePlan {
  const { restore, destination } = world;
  const conditions = restore.status?.conditions ?? [];
  const restored = conditions.find((c) => c.type === 'Restored');
  const outcome: RestoreOutcome = {
    phase: restore.status!.phase!,
    reason: restored?.reason ?? restore.status!.phase!,
    message: restored?.message ?? '',
    ...(restore.status?.restoredTo ? { restoredTo: restore.status.restoredTo } : {}),
  };
  const ours = destination?.metadata.annotations?.[RESTORE_REQUEST_ANNOTATION] === requestId;
  if (
    outcome.phase === 'Failed' &&
    restore.spec.destination.newCluster &&
    ours &&
    !destination?.metadata.deletionTimestamp
  )
    return {
      action: { type: 'deleteCluster', name: destination!.metadata.name!, uid: destination!.metadata.uid! },
      outcome,
    };
  return { action: { type: 'none' }, outcome };
}
