/**
 * What Patroni reports about each member. Patroni writes it on its own pod: the role label and
 * a `status` annotation (JSON: role, state, timeline, replication_state, pending_restart, ...).
 * pgop reads it from there (no calls into the pods) and never guesses a role.
 */
import { ROLE_LABEL, ROLES } from '@pgop/api';
import type { V1Pod } from '@kubernetes/client-node';

export interface PatroniMember {
  /** running, streaming, starting, stopped, creating replica, ... */
  state?: string;
  /** Patroni 4: "streaming" on a replica receiving WAL from the primary. */
  replicationState?: string;
  pendingRestart: boolean;
  timeline?: number;
}

/** Patroni's `status` annotation, parsed; empty until Patroni has written it. */
function statusAnnotation(pod: V1Pod): Record<string, unknown> {
  try {
    return JSON.parse(pod.metadata?.annotations?.status ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function patroniMember(pod: V1Pod): PatroniMember {
  const status = statusAnnotation(pod);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    state: str(status.state),
    replicationState: str(status.replication_state),
    pendingRestart: status.pending_restart === true,
    timeline: typeof status.timeline === 'number' ? status.timeline : undefined,
  };
}

/**
 * The WAL position Patroni last reported for the member (received on a replica). Not part of
 * PatroniMember: it changes with every write, and the pod fingerprint must not.
 */
export function walPositionOf(pod: V1Pod): number | undefined {
  const position = statusAnnotation(pod).xlog_location;
  return typeof position === 'number' ? position : undefined;
}

export function hasPrimaryLabel(pod: V1Pod): boolean {
  return pod.metadata?.labels?.[ROLE_LABEL] === ROLES.primary;
}

/** A replica that is running and receiving WAL from the primary. */
export function isStreamingReplica(pod: V1Pod): boolean {
  const m = patroniMember(pod);
  return (
    pod.metadata?.labels?.[ROLE_LABEL] === ROLES.replica &&
    (m.state === 'streaming' || m.replicationState === 'streaming')
  );
}

export function isPodReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/**
 * The replicas Patroni would hand the primary role to, best first: ready and streaming (and a
 * synchronous standby when Patroni lists some); the most WAL received first (the least to catch
 * up, the least a failover would lose), then the lowest ordinal.
 */
export function switchoverCandidates(pods: V1Pod[], syncStandbys?: string[]): V1Pod[] {
  const name = (p: V1Pod) => p.metadata!.name!;
  const walPosition = (p: V1Pod) => walPositionOf(p) ?? -1;
  return pods
    .filter(
      (p) => isPodReady(p) && isStreamingReplica(p) && (!syncStandbys || syncStandbys.includes(name(p))),
    )
    .sort((a, b) => walPosition(b) - walPosition(a) || ordinalOf(name(a)) - ordinalOf(name(b)));
}

/** The StatefulSet ordinal of a pod name "<sts>-<n>". */
export function ordinalOf(podName: string): number {
  return Number(podName.slice(podName.lastIndexOf('-') + 1));
}

/** What the reconcile reads of an instance pod; Patroni's WAL position and the like left out. */
export function podFingerprint(pod: V1Pod): string {
  const labels = pod.metadata?.labels ?? {};
  return JSON.stringify([
    labels[ROLE_LABEL],
    labels['controller-revision-hash'],
    pod.metadata?.deletionTimestamp,
    pod.status?.podIP,
    isPodReady(pod),
    patroniMember(pod),
  ]);
}
