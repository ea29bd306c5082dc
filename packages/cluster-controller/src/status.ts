/**
 * PostgresCluster status from what is observed. Pure. The phase tells a person where the
 * cluster is (Pending → Creating → Running, then Updating, Degraded or Failed); the conditions
 * tell tools (Ready for `kubectl wait`, Progressing, Degraded), each with a reason.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  BACKUP_HEALTHY_CONDITION,
  DATABASES_READY_CONDITION,
  PRIMARY_HISTORY_LIMIT,
  ROLES_READY_CONDITION,
  VOLUMES_HAVE_SPACE_CONDITION,
  type DatabaseStatus,
  type RoleStatus,
  type BackupRepositoryStatus,
  type ClusterRestoreStatus,
  type ClusterPhase,
  type PostgresCluster,
  type PostgresClusterStatus,
  type PrimaryChange,
  type SwitchoverStatus,
} from '@pgop/api';
import { mergeConditions, type Condition, type ConditionUpdate } from '@pgop/runtime';
import type { Blocker } from './blocker.js';
import type { InstancePlan } from './instances/plan.js';
import { instanceSelector, selectorString } from './naming.js';
import { lostBecause, OUT_OF_SERVICE_TAINT, type LostNodeDecision } from './ha/lost-nodes.js';
import { hasPrimaryLabel, isPodReady } from './patroni/member.js';
import { withHistory } from './ha/primary-change.js';
import { POOLER_READY } from './pooler/pods.js';

export interface StatusObservation {
  cluster: PostgresCluster;
  statefulSetExists: boolean;
  pods: V1Pod[];
  leader?: string;
  /** The PostgreSQL major of the data (the StatefulSet's), once instances exist. */
  dataVersion?: number;
  plan?: InstancePlan;
  blocker?: Blocker;
  paused: boolean;
  /** The switchover record to keep (as is, or as the reconcile just changed it). */
  switchover?: SwitchoverStatus;
  /** A change of primary seen in this reconcile. */
  primaryChange?: PrimaryChange;
  lostNodes?: LostNodeDecision;
  /** status.backup and the BackupHealthy condition (backup/health.ts); absent without spec.backup. */
  backup?: { status?: BackupRepositoryStatus; health?: ConditionUpdate };
  /** RewindAvailable, once found out (instances/rewind-tools.ts). */
  rewind?: ConditionUpdate;
  /** status.restore for a cluster created from a backup (restore/progress.ts). */
  restore?: ClusterRestoreStatus;
  /** status.roles, status.databases and their conditions (access/declared.ts). */
  access?: { roles?: RoleStatus[]; databases?: DatabaseStatus[]; conditions: ConditionUpdate[] };
  /** status.pooler and PoolerReady (pooler/pods.ts); absent without spec.pooler. */
  pooler?: { status?: PostgresClusterStatus['pooler']; condition?: ConditionUpdate };
  /** status.volumes, VolumesResized (storage/expansion.ts) and VolumesHaveSpace (storage/auto-grow.ts). */
  storage?: {
    volumes: NonNullable<PostgresClusterStatus['volumes']>;
    condition?: ConditionUpdate;
    autoGrow?: { condition?: ConditionUpdate };
  };
  now: Date;
}

/** The pod holding Patroni's leader lock, once Patroni has also labelled it primary. */
export function currentPrimary(pods: V1Pod[], leader: string | undefined): string | undefined {
  return pods.find((p) => p.metadata?.name === leader && !p.metadata?.deletionTimestamp && hasPrimaryLabel(p))
    ?.metadata?.name;
}

const WAS_RUNNING: readonly ClusterPhase[] = ['Running', 'Updating', 'Degraded', 'Failed'];

export function computeStatus(o: StatusObservation): PostgresClusterStatus {
  const { cluster } = o;
  const previous = cluster.status ?? {};
  const desired = cluster.spec.replicas;
  const pods = o.pods.filter((p) => !p.metadata?.deletionTimestamp);
  const ready = pods.filter(isPodReady).length;
  const primary = currentPrimary(pods, o.leader);
  const wasRunning = WAS_RUNNING.includes(previous.phase ?? 'Pending');
  const changing = o.plan !== undefined && (o.plan.action.type !== 'none' || o.plan.outdatedPods.length > 0);
  const allReady = primary !== undefined && ready === desired && pods.length === desired;

  let phase: ClusterPhase;
  if (o.blocker && !o.statefulSetExists) phase = 'Failed';
  else if (!o.statefulSetExists) phase = o.restore?.phase === 'Restoring' ? 'Creating' : 'Pending';
  else if (!wasRunning) phase = allReady ? 'Running' : 'Creating';
  // In place: every instance is stopped while the data is replaced.
  else if (o.restore?.phase === 'Restoring') phase = 'Updating';
  else if (ready === 0) phase = 'Failed';
  else if (!primary) phase = 'Degraded';
  // An update ends when every instance is back: the last replaced pod is still starting.
  else if (changing || pods.length !== desired || (previous.phase === 'Updating' && !allReady))
    phase = 'Updating';
  else phase = allReady ? 'Running' : 'Degraded';

  const conditions: ConditionUpdate[] = [
    allReady
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'AllInstancesReady',
          message: `${ready}/${desired} instances ready; primary ${primary}`,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: primary ? 'InstancesNotReady' : 'NoPrimary',
          message: `${ready}/${desired} instances ready; ${primary ? `primary ${primary}` : 'no primary elected yet'}`,
        },
    progressing(o, phase),
    degraded(wasRunning, primary, ready, desired),
    nodeLost(o.lostNodes),
    ...(o.backup?.health ? [o.backup.health] : []),
    ...(o.rewind ? [o.rewind] : []),
    ...(o.access?.conditions ?? []),
    ...(o.pooler?.condition ? [o.pooler.condition] : []),
    ...(o.storage?.condition ? [o.storage.condition] : []),
    ...(o.storage?.autoGrow?.condition ? [o.storage.autoGrow.condition] : []),
  ];
  const change = o.primaryChange;
  const failover = change && change.reason !== 'Switchover' ? change : previous.lastFailover;
  const history = change
    ? withHistory(previous.primaryHistory, change, PRIMARY_HISTORY_LIMIT)
    : previous.primaryHistory;
  // Kept while no instance holds the role, so the next change knows where it came from.
  const primaryPod = primary ?? previous.primaryPod;

  return {
    phase,
    replicas: pods.length,
    readyReplicas: ready,
    readySummary: `${ready}/${desired}`,
    ...(o.dataVersion !== undefined ? { version: o.dataVersion } : {}),
    ...(primaryPod ? { primaryPod } : {}),
    ...(failover ? { lastFailover: failover } : {}),
    ...(o.switchover ? { lastSwitchover: o.switchover } : {}),
    ...(history ? { primaryHistory: history } : {}),
    ...(o.backup?.status ? { backup: o.backup.status } : {}),
    ...((o.restore ?? previous.restore) ? { restore: o.restore ?? previous.restore } : {}),
    ...(o.access?.roles ? { roles: o.access.roles } : {}),
    ...(o.access?.databases ? { databases: o.access.databases } : {}),
    ...(o.pooler?.status ? { pooler: o.pooler.status } : {}),
    ...(o.storage?.volumes.length ? { volumes: o.storage.volumes } : {}),
    selector: selectorString(instanceSelector(cluster.metadata.name!)),
    observedGeneration: cluster.metadata.generation,
    conditions: mergeConditions(
      // BackupHealthy goes with spec.backup, RolesReady and DatabasesReady with their lists,
      // PoolerReady with spec.pooler, VolumesHaveSpace with an autoGrow.
      (previous.conditions as Condition[] | undefined)?.filter(
        (c) =>
          (c.type !== BACKUP_HEALTHY_CONDITION || o.backup?.health) &&
          (c.type !== ROLES_READY_CONDITION || o.access?.roles) &&
          (c.type !== DATABASES_READY_CONDITION || o.access?.databases) &&
          (c.type !== POOLER_READY || o.pooler?.condition) &&
          (c.type !== VOLUMES_HAVE_SPACE_CONDITION ||
            cluster.spec.storage.autoGrow ||
            cluster.spec.walStorage?.autoGrow),
      ),
      conditions,
      cluster.metadata.generation,
      o.now,
    ),
  };
}

function progressing(o: StatusObservation, phase: ClusterPhase): ConditionUpdate {
  if (o.paused)
    return {
      type: 'Progressing',
      status: 'False',
      reason: 'Paused',
      message: 'reconciling is paused by the postgres.example.com/paused annotation',
    };
  if (o.blocker) return { type: 'Progressing', status: 'False', ...o.blocker };
  if (o.restore?.phase === 'Restoring')
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'Restoring',
      message: o.restore.message ?? 'restoring',
    };
  const action = o.plan?.action;
  if (action?.type === 'switchover')
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'Switchover',
      message: `switching over from ${action.from} to ${action.to} (${action.reason})`,
    };
  if (action?.type === 'replacePod')
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'RollingUpdate',
      message: `replacing ${action.pod}; ${o.plan!.outdatedPods.length} instance(s) to update`,
    };
  if (action?.type === 'wait')
    return { type: 'Progressing', status: 'True', reason: action.reason, message: action.message };
  if (phase === 'Running')
    return {
      type: 'Progressing',
      status: 'False',
      reason: 'UpToDate',
      message: 'every instance runs the current spec',
    };
  return {
    type: 'Progressing',
    status: 'True',
    reason: phase === 'Pending' || phase === 'Creating' ? 'Creating' : 'Reconciling',
    message: `cluster is ${phase}`,
  };
}

function degraded(
  wasRunning: boolean,
  primary: string | undefined,
  ready: number,
  desired: number,
): ConditionUpdate {
  if (!wasRunning)
    return {
      type: 'Degraded',
      status: 'False',
      reason: 'NotRunningYet',
      message: 'the cluster has not been running yet',
    };
  if (!primary)
    return {
      type: 'Degraded',
      status: 'True',
      reason: 'NoPrimary',
      message: 'no instance holds the primary role',
    };
  if (ready < desired)
    return {
      type: 'Degraded',
      status: 'True',
      reason: 'InstancesNotReady',
      message: `${desired - ready} of ${desired} instances not ready`,
    };
  return {
    type: 'Degraded',
    status: 'False',
    reason: 'AllInstancesReady',
    message: 'every instance is ready',
  };
}

function nodeLost(decision: LostNodeDecision | undefined): ConditionUpdate {
  const lost = [...(decision?.due ?? []), ...(decision?.waiting ?? [])];
  if (lost.length === 0)
    return {
      type: 'NodeLost',
      status: 'False',
      reason: 'NodesReady',
      message: 'every instance is on a Ready node',
    };
  const which = lost.map((l) => `${l.pod}: ${lostBecause(l)}`).join('; ');
  const condition = (reason: string, message: string): ConditionUpdate => ({
    type: 'NodeLost',
    status: 'True',
    reason,
    message: `${which}. ${message}`,
  });
  if (!decision!.forceDeleteEnabled)
    return condition(
      'ForceDeleteDisabled',
      'spec.highAvailability.forceDeletePodsOnLostNodes is false: delete the pods yourself once the node is known to be down',
    );
  const renewing = lost.filter((l) => l.renewsLeaderLock).map((l) => l.pod);
  if (renewing.length > 0)
    return condition(
      'LeaderLockRenewed',
      `${renewing.join(', ')} still renews Patroni's leader lock, so it runs: pgop force-deletes nothing Patroni keeps alive`,
    );
  if (decision!.windowSeconds === undefined)
    return condition(
      'AwaitingProof',
      `A NotReady node may still run its pods: pgop force-deletes them only once the node is known to be gone (the Node deleted, or tainted ${OUT_OF_SERVICE_TAINT} once it is powered off: kubectl taint node <node> ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute)`,
    );
  if (decision!.noNodeReady)
    return condition(
      'NoNodeReady',
      'No node in the Kubernetes cluster is Ready, which points at the control plane (API server) rather than lost nodes: pgop force-deletes nothing until a node is Ready again',
    );
  const next = lost
    .map((l) => l.forceDeleteAt?.getTime())
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b)[0];
  return condition(
    'AwaitingConfirmation',
    next === undefined
      ? 'waiting'
      : `Force-deleted from ${new Date(next).toISOString()} if the node is still NotReady (spec.highAvailability.lostNodeConfirmationSeconds)`,
  );
}
