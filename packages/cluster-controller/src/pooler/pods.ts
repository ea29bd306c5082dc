/**
 * What the pooler's pods say (which are ready, the status and condition that follow) and which
 * pooler kinds are to go. Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  APP_LABELS,
  CLUSTER_LABEL,
  POOLER_ROLE,
  type PostgresCluster,
  type PostgresClusterStatus,
} from '@pgop/api';
import { conditionOf, type ConditionUpdate } from '@pgop/runtime';
import { POOLER_COMPONENTS, type PoolerKind } from '../naming.js';
import { isPodReady } from '../patroni/member.js';
import { poolerKinds } from '../render/pooler.js';

/** The cluster's pods of one pooler kind that are not on their way out. */
function poolerPodsOf(clusterName: string, pods: readonly V1Pod[], kind: PoolerKind): V1Pod[] {
  return pods.filter(
    (p) =>
      p.metadata?.labels?.[CLUSTER_LABEL] === clusterName &&
      p.metadata?.labels?.[APP_LABELS.component] === POOLER_COMPONENTS[kind] &&
      !p.metadata?.deletionTimestamp,
  );
}

/** The ready pods of a kind, by name: those a switchover pauses and resumes. */
export function readyPoolerPods(clusterName: string, pods: readonly V1Pod[], kind: PoolerKind): string[] {
  return poolerPodsOf(clusterName, pods, kind)
    .filter(isPodReady)
    .map((p) => p.metadata!.name!);
}

/**
 * The pooler kinds that exist (their Service does) but are not asked for any more: spec.pooler
 * removed, or readOnlyInstances back to 0.
 */
export function unwantedPoolerKinds(cluster: PostgresCluster, existing: readonly PoolerKind[]): PoolerKind[] {
  const wanted = new Set(poolerKinds(cluster).map(([kind]) => kind));
  return existing.filter((kind) => !wanted.has(kind));
}

export const POOLER_READY = 'PoolerReady';

/** status.pooler and the PoolerReady condition; nothing without spec.pooler. */
export function poolerStatus(
  cluster: PostgresCluster,
  pods: readonly V1Pod[],
  /** Whether the role and function clients' logins go through exist (access/pooler-role.ts). */
  lookupRoleReady: boolean,
): { status?: PostgresClusterStatus['pooler']; condition?: ConditionUpdate } {
  const kinds = poolerKinds(cluster);
  if (kinds.length === 0) return {};
  const name = cluster.metadata.name!;
  const status = {
    readyInstances: readyPoolerPods(name, pods, 'readWrite').length,
    readyReadOnlyInstances: readyPoolerPods(name, pods, 'readOnly').length,
  };
  const short = kinds
    .map(([kind, wanted]) => {
      const ready = kind === 'readWrite' ? status.readyInstances : status.readyReadOnlyInstances;
      return ready < wanted
        ? `${kind === 'readWrite' ? '-pooler' : '-pooler-ro'} ${ready}/${wanted} ready`
        : '';
    })
    .filter(Boolean);
  const ready = conditionOf(POOLER_READY);
  const condition =
    short.length > 0
      ? ready('False', 'PodsNotReady', `PgBouncer pods: ${short.join(', ')}`)
      : !lookupRoleReady
        ? ready(
            'False',
            'LookupRoleNotReady',
            `role ${POOLER_ROLE} and its lookup function are not made yet (they need a ready primary): no client can log in through the pooler`,
          )
        : ready('True', 'AllReady', 'every PgBouncer pod is ready');
  return { status, condition };
}
