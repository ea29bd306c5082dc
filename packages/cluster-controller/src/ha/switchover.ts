/**
 * Switchovers pgop asks Patroni for: a user's request (the switchover annotation) and the
 * planned ones of rolling updates and scale-downs. Pure. Each goes through status in two steps,
 * so a restart of the operator at any moment neither loses one nor repeats one:
 *   1. start: status.lastSwitchover is written InProgress, with the chosen candidate;
 *   2. execute: once that status is read back, Patroni is asked (while the old primary still
 *      leads), and the result is written; a leader that already moved completes it.
 * Recording the switchover before it happens also lets failover detection tell it apart.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  SWITCHOVER_ANNOTATION,
  SWITCHOVER_TARGET_ANNOTATION,
  type PostgresCluster,
  type SwitchoverStatus,
} from '@pgop/api';
import type { InstanceAction } from '../instances/plan.js';
import { switchoverCandidates } from '../patroni/member.js';

export type SwitchoverStep =
  | { type: 'none' }
  /** Write this record (InProgress, or Failed for a request that cannot be carried out). */
  | { type: 'record'; record: SwitchoverStatus }
  /** Ask Patroni to move the primary role; `record` is InProgress. */
  | { type: 'execute'; record: SwitchoverStatus & { from: string; to: string } };

export interface SwitchoverObservation {
  cluster: PostgresCluster;
  pods: V1Pod[];
  /** The pod holding the leader lock and labelled primary. */
  primary?: string;
  /** The instance plan's action: a planned switchover when type is 'switchover'. */
  planned: InstanceAction;
  /**
   * In Sync and Quorum modes, the standbys Patroni lists as synchronous (its -sync ConfigMap):
   * Patroni only hands the primary role to one of them.
   */
  syncStandbys?: string[];
  now: Date;
}

const nameOf = (pod: V1Pod) => pod.metadata!.name!;

export function decideSwitchover(o: SwitchoverObservation): SwitchoverStep {
  const last = o.cluster.status?.lastSwitchover;
  const now = o.now.toISOString();
  if (last?.phase === 'InProgress') {
    if (!o.primary) return { type: 'none' }; // a failover is under way: wait for its outcome
    if (o.primary !== last.from)
      return {
        type: 'record',
        record: {
          ...last,
          phase: 'Succeeded',
          to: o.primary,
          message: `primary moved from ${last.from} to ${o.primary}`,
          completedAt: now,
        },
      };
    if (last.from && last.to) return { type: 'execute', record: { ...last, from: last.from, to: last.to } };
  }

  const annotations = o.cluster.metadata.annotations ?? {};
  const request = annotations[SWITCHOVER_ANNOTATION];
  // The last request handled is carried by every record, so a planned switchover in between
  // does not make an old request look new.
  const handled = last?.request;
  if (request && request !== handled) {
    const base = { request, reason: 'Requested' as const, startedAt: now };
    const failed = (message: string): SwitchoverStep => ({
      type: 'record',
      record: { ...base, phase: 'Failed', message, completedAt: now },
    });
    if (!o.primary) return failed('no instance holds the primary role: nothing to switch over from');
    const target = annotations[SWITCHOVER_TARGET_ANNOTATION];
    if (target === o.primary)
      return {
        type: 'record',
        record: {
          ...base,
          phase: 'Succeeded',
          from: o.primary,
          to: o.primary,
          message: `${target} is already the primary`,
          completedAt: now,
        },
      };
    const sync = o.syncStandbys;
    const candidates = switchoverCandidates(
      o.pods.filter((p) => nameOf(p) !== o.primary),
      sync,
    );
    const chosen = target ? candidates.find((p) => nameOf(p) === target) : candidates[0];
    if (!chosen) {
      const kind = sync ? 'ready, streaming synchronous standby' : 'ready, streaming replica';
      const allowed = `${kind}s: ${
        candidates
          .map(nameOf)
          .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
          .join(', ') || 'none'
      }${sync ? '; with synchronous replication Patroni only promotes a synchronous standby' : ''}`;
      return failed(
        target
          ? `${SWITCHOVER_TARGET_ANNOTATION}: ${target} is not a ${kind} of this cluster (${allowed})`
          : `no ${kind} to switch over to`,
      );
    }
    return {
      type: 'record',
      record: {
        ...base,
        phase: 'InProgress',
        from: o.primary,
        to: nameOf(chosen),
        message: `switching over from ${o.primary} to ${nameOf(chosen)}`,
      },
    };
  }

  if (o.planned.type === 'switchover' && o.planned.from === o.primary)
    return {
      type: 'record',
      record: {
        ...(handled ? { request: handled } : {}),
        reason: o.planned.reason,
        phase: 'InProgress',
        from: o.planned.from,
        to: o.planned.to,
        message: `switching over from ${o.planned.from} to ${o.planned.to} (${o.planned.reason})`,
        startedAt: now,
      },
    };
  return { type: 'none' };
}
