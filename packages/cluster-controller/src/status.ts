/**
 * PostgresCluster status from what is observed. Pure. The phase tells a person where the
 * cluster is (Pending → Creating → Running, then Updating, Degraded or Failed); the conditions
 * tell tools (Ready for `kubectl wait`, Progressing, Degraded), each with a reason.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterPhase, PostgresCluster, PostgresClusterStatus } from '@pgop/api';
import { mergeConditions, type Condition, type ConditionUpdate } from '@pgop/runtime';
import type { InstancePlan } from './instance-plan.js';
import { instanceSelector, selectorString } from './naming.js';
import { hasPrimaryLabel, isPodReady } from './patroni-member.js';

/** A problem that stops pgop from applying the spec (the children are left as they are). */
export interface Blocker {
  reason: string;
  message: string;
}

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
  now: Date;
}

const WAS_RUNNING: readonly ClusterPhase[] = ['Running', 'Updating', 'Degraded', 'Failed'];

export function computeStatus(o: StatusObservation): PostgresClusterStatus {
  const { cluster } = o;
  const previous = cluster.status ?? {};
  const desired = cluster.spec.replicas;
  const pods = o.pods.filter((p) => !p.metadata?.deletionTimestamp);
  const ready = pods.filter(isPodReady).length;
  const primary = pods.find((p) => p.metadata?.name === o.leader && hasPrimaryLabel(p))?.metadata?.name;
  const wasRunning = WAS_RUNNING.includes(previous.phase ?? 'Pending');
  const changing = o.plan !== undefined && (o.plan.action.type !== 'none' || o.plan.outdatedPods.length > 0);
  const allReady = primary !== undefined && ready === desired && pods.length === desired;

  let phase: ClusterPhase;
  if (o.blocker && !o.statefulSetExists) phase = 'Failed';
  else if (!o.statefulSetExists) phase = 'Pending';
  else if (!wasRunning) phase = allReady ? 'Running' : 'Creating';
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
  ];

  return {
    phase,
    replicas: pods.length,
    readyReplicas: ready,
    readySummary: `${ready}/${desired}`,
    ...(o.dataVersion !== undefined ? { version: o.dataVersion } : {}),
    ...(primary ? { primaryPod: primary } : {}),
    selector: selectorString(instanceSelector(cluster.metadata.name!)),
    observedGeneration: cluster.metadata.generation,
    conditions: mergeConditions(
      previous.conditions as Condition[] | undefined,
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
