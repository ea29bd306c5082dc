/**
 * The next step for the instances of a cluster, decided from what is observed. Pure, and one
 * step at a time: the reconcile carries out the step, and the next reconcile decides again from
 * the new state (so a restart of the operator at any moment loses nothing).
 *
 * Rules:
 * - scale-down never removes the current primary: switch over to a surviving ordinal first;
 * - a rolling change replaces replicas one at a time, each back, ready and streaming before
 *   the next; then switches over to an updated replica; then replaces the old primary;
 * - nothing is replaced while any instance is missing, not ready or not streaming.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  hasPrimaryLabel,
  isPodReady,
  isStreamingReplica,
  ordinalOf,
  patroniMember,
  switchoverCandidates,
} from '../patroni/member.js';

export type InstanceAction =
  | { type: 'none' }
  | { type: 'wait'; reason: string; message: string }
  | { type: 'switchover'; from: string; to: string; reason: 'ScaleDown' | 'RollingUpdate' }
  | { type: 'replacePod'; pod: string; reason: string };

export interface InstancePlan {
  /** The StatefulSet's replicas to apply now. */
  statefulSetReplicas: number;
  action: InstanceAction;
  /** Pods still to be replaced by the rolling change (empty when up to date). */
  outdatedPods: string[];
}

export interface InstanceObservation {
  desiredReplicas: number;
  /** spec.replicas of the existing StatefulSet (undefined: not created yet). */
  currentReplicas?: number;
  /** The StatefulSet's status.updateRevision: pods on another revision are outdated. */
  updateRevision?: string;
  pods: V1Pod[];
  /** The StatefulSet controller has seen the latest template (its updateRevision is current). */
  statefulSetObserved: boolean;
  /** The member holding Patroni's leader lock. */
  leader?: string;
  /** Synchronous standbys (Sync and Quorum modes): the only members Patroni switches over to. */
  syncStandbys?: string[];
}

const nameOf = (pod: V1Pod) => pod.metadata!.name!;

function isOutdated(pod: V1Pod, updateRevision: string | undefined): boolean {
  const revision = pod.metadata?.labels?.['controller-revision-hash'];
  return (updateRevision !== undefined && revision !== updateRevision) || patroniMember(pod).pendingRestart;
}

export function planInstances(o: InstanceObservation): InstancePlan {
  const current = o.currentReplicas ?? o.desiredReplicas;
  const pods = o.pods.filter((p) => ordinalOf(nameOf(p)) < current);
  const outdatedPods = pods.filter((p) => isOutdated(p, o.updateRevision)).map(nameOf);
  const leaderPod = o.pods.find((p) => nameOf(p) === o.leader && hasPrimaryLabel(p));

  if (o.desiredReplicas < current) {
    if (leaderPod && ordinalOf(nameOf(leaderPod)) >= o.desiredReplicas) {
      const to = switchoverCandidates(
        o.pods.filter((p) => ordinalOf(nameOf(p)) < o.desiredReplicas),
        o.syncStandbys,
      )[0];
      const action: InstanceAction = to
        ? { type: 'switchover', from: nameOf(leaderPod), to: nameOf(to), reason: 'ScaleDown' }
        : {
            type: 'wait',
            reason: 'NoSwitchoverCandidate',
            message: `scale-down waits: the primary ${nameOf(leaderPod)} would be removed and no remaining instance is a ready, streaming replica to switch over to`,
          };
      return { statefulSetReplicas: current, action, outdatedPods };
    }
    return { statefulSetReplicas: o.desiredReplicas, action: { type: 'none' }, outdatedPods };
  }

  const statefulSetReplicas = o.desiredReplicas;
  if (outdatedPods.length === 0) return { statefulSetReplicas, action: { type: 'none' }, outdatedPods };

  const unsettled = pods.filter((p) => !isPodReady(p) || (!hasPrimaryLabel(p) && !isStreamingReplica(p)));
  if (!o.statefulSetObserved || pods.length < current || unsettled.length > 0 || !leaderPod) {
    return {
      statefulSetReplicas,
      action: {
        type: 'wait',
        reason: 'InstancesNotSettled',
        message: `rolling update waits until every instance is ready and streaming${
          unsettled.length > 0 ? ` (not yet: ${unsettled.map(nameOf).join(', ')})` : ''
        }`,
      },
      outdatedPods,
    };
  }

  const outdatedReplica = pods
    .filter((p) => outdatedPods.includes(nameOf(p)) && p !== leaderPod)
    .sort((a, b) => ordinalOf(nameOf(b)) - ordinalOf(nameOf(a)))[0];
  if (outdatedReplica) {
    return {
      statefulSetReplicas,
      action: { type: 'replacePod', pod: nameOf(outdatedReplica), reason: 'RollingUpdate' },
      outdatedPods,
    };
  }
  // Only the primary is left. Hand its role to an updated replica first; alone, restart it.
  const to = switchoverCandidates(
    pods.filter((p) => p !== leaderPod && !outdatedPods.includes(nameOf(p))),
    o.syncStandbys,
  )[0];
  const action: InstanceAction = to
    ? { type: 'switchover', from: nameOf(leaderPod), to: nameOf(to), reason: 'RollingUpdate' }
    : pods.length === 1
      ? { type: 'replacePod', pod: nameOf(leaderPod), reason: 'RollingUpdate' }
      : {
          type: 'wait',
          reason: 'NoSwitchoverCandidate',
          message: 'rolling update waits for an updated, streaming replica to switch over to',
        };
  return { statefulSetReplicas, action, outdatedPods };
}
