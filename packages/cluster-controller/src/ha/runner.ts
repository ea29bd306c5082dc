/**
 * Carries out the HA decisions for a cluster: switchovers (switchover.ts), the record of a change
 * of primary (primary-change.ts), pods on lost nodes (lost-nodes.ts), stale primary labels
 * (stale-primary-label.ts) and Patroni's dynamic configuration (patroni/dynamic-config.ts).
 * The decisions are all in those files; this is the thin half that talks to the API and Patroni.
 */
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { ROLE_LABEL, type PrimaryChange, type SwitchoverStatus } from '@pgop/api';
import {
  isStatus,
  type EventRecorder,
  type Informer,
  type ObjectClient,
  type ObjectEvents,
} from '@pgop/runtime';
import type { Counter } from 'prom-client';
import type { Logger } from 'winston';
import { childNames, clusterEventTarget } from '../naming.js';
import { nodeReady, type ClusterObservation } from '../observe.js';
import { clusterCertificateAuthority, type PatroniClient } from '../patroni/client.js';
import { dynamicConfiguration } from '../patroni/config.js';
import { dynamicConfigPatch } from '../patroni/dynamic-config.js';
import { hasPrimaryLabel, isPodReady } from '../patroni/member.js';
import { lostBecause, type LostNodeDecision } from './lost-nodes.js';
import { detectPrimaryChange } from './primary-change.js';
import type { StalePrimaryLabelDecision } from './stale-primary-label.js';
import type { SwitchoverStep } from './switchover.js';
import type { PoolerRunner } from '../pooler/runner.js';

/** Counters of primary changes, for alerting (pgop_failovers_total) and dashboards. */
export interface HaMetrics {
  failovers: Counter<'namespace' | 'cluster' | 'reason'>;
  switchovers: Counter<'namespace' | 'cluster' | 'reason' | 'result'>;
}

export interface HaRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  patroni: PatroniClient;
  metrics?: HaMetrics;
  configMaps: Informer<V1ConfigMap>;
  secrets: Informer<V1Secret>;
  pods: Informer<V1Pod>;
  /** spec.pooler's PgBouncer, paused around each switchover; absent in tests without pods. */
  pooler?: PoolerRunner;
}

export class HaRunner {
  constructor(private readonly deps: HaRunnerDeps) {}

  /** Applies spec changes Patroni keeps in its DCS (parameters, replication mode) through the leader. */
  async syncDynamicConfiguration(o: ClusterObservation, archiving: boolean): Promise<void> {
    const { cluster } = o;
    const configMap = childNames(o.name).patroniDynamicConfigMap;
    const stored = this.deps.configMaps.get(configMap, o.namespace)?.metadata?.annotations?.config;
    const leaderPod = o.pods.find((p) => p.metadata?.name === o.leader && isPodReady(p));
    if (!stored || !leaderPod?.status?.podIP) return;
    const current = parseObject(stored);
    if (!current) {
      // Written by Patroni, or by hand: not a reason to stop the switchover and lost-node steps.
      await this.events(o)(
        'Warning',
        'PatroniConfigurationUnreadable',
        'Reconcile',
        `Patroni's configuration in ConfigMap ${configMap} is not a JSON object: the spec's parameters and replication mode are not applied until Patroni rewrites it`,
      );
      return;
    }
    const patch = dynamicConfigPatch(dynamicConfiguration(cluster, archiving), current);
    if (!patch) return;
    this.deps.logger.info('updating Patroni configuration', { key: o.key, patch });
    await this.deps.patroni.patchConfig(
      leaderPod.status.podIP,
      clusterCertificateAuthority(cluster, this.deps.secrets),
      patch,
    );
    await this.events(o)(
      'Normal',
      'ConfigurationApplied',
      'Reconcile',
      `Patroni configuration updated: ${JSON.stringify(patch)}`,
    );
  }

  /**
   * Carries out one switchover step (see switchover.ts) and returns the record to keep in
   * status. Patroni is only asked once the InProgress record has been read back from the API.
   */
  async switchover(o: ClusterObservation, step: SwitchoverStep): Promise<SwitchoverStatus | undefined> {
    if (step.type === 'none') return o.cluster.status?.lastSwitchover;
    if (step.type === 'record') {
      // Completed without this process asking Patroni (it restarted in between): the pooler
      // it may have paused then is resumed now.
      if (o.cluster.status?.lastSwitchover?.phase === 'InProgress' && step.record.phase !== 'InProgress')
        await this.deps.pooler?.resumeAll(o);
      this.recordSwitchover(o, step.record);
      return step.record;
    }
    const { record } = step;
    const ip = o.pods.find((p) => p.metadata?.name === record.from)?.status?.podIP;
    if (!ip) return record;
    // Clients of the pooler wait instead of failing: held queries run on the new primary.
    const paused = (await this.deps.pooler?.pause(o)) ?? [];
    this.deps.logger.info('switching over', { key: o.key, from: record.from, to: record.to });
    let result: SwitchoverStatus;
    try {
      const answer = await this.deps.patroni.switchover(
        ip,
        clusterCertificateAuthority(o.cluster, this.deps.secrets),
        record.from,
        record.to,
      );
      result = { ...record, phase: 'Succeeded', message: answer, completedAt: new Date().toISOString() };
    } catch (err) {
      result = {
        ...record,
        phase: 'Failed',
        message: `Patroni refused or failed the switchover: ${(err as Error).message}`.slice(0, 1024),
        completedAt: new Date().toISOString(),
      };
    }
    if (result.phase === 'Succeeded') await this.unlabelOldPrimary(o, record.from);
    await this.deps.pooler?.resume(o, paused);
    this.recordSwitchover(o, result);
    return result;
  }

  /**
   * The old primary keeps its primary label until its Patroni's next loop after the demotion, and
   * a pod still Ready in that window stays behind the primary Service beside the new primary:
   * connections made then (a resumed pooler's among them) may reach a server that refuses writes.
   * The switchover has succeeded, so the label is wrong: taken off now, from the version the
   * cache has (a pod Patroni relabelled meanwhile is left to it). Never throws: the pooler is
   * resumed next whatever happens here.
   */
  private async unlabelOldPrimary(o: ClusterObservation, pod: string): Promise<void> {
    const cached = this.deps.pods.get(pod, o.namespace);
    if (!cached || !hasPrimaryLabel(cached)) return;
    try {
      await this.removePrimaryLabel(o, pod, cached.metadata?.resourceVersion);
    } catch (err) {
      this.deps.logger.warn('could not take the primary label off the old primary', {
        key: o.key,
        pod,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private recordSwitchover(o: ClusterObservation, record: SwitchoverStatus): void {
    const message = `${record.message ?? ''} (${record.reason}${record.request ? ` ${record.request}` : ''})`;
    if (record.phase === 'InProgress') {
      void this.events(o)('Normal', 'SwitchoverStarted', 'Switchover', message);
      return;
    }
    const ok = record.phase === 'Succeeded';
    void this.events(o)(
      ok ? 'Normal' : 'Warning',
      ok ? 'SwitchoverCompleted' : 'SwitchoverFailed',
      'Switchover',
      message,
    );
    this.deps.metrics?.switchovers.inc({
      namespace: o.namespace,
      cluster: o.name,
      reason: record.reason,
      result: record.phase,
    });
  }

  /** A change of primary since the last status, classified (see primary-change.ts). */
  primaryChange(o: ClusterObservation, switchover: SwitchoverStatus | undefined): PrimaryChange | undefined {
    const previousPrimary = o.cluster.status?.primaryPod;
    const previousPrimaryPod = o.pods.find((p) => p.metadata?.name === previousPrimary);
    return detectPrimaryChange({
      previousPrimary,
      primary: o.primary,
      lastSwitchover: switchover,
      previousPrimaryPod,
      previousPrimaryNodeReady: nodeReady(o, previousPrimaryPod?.spec?.nodeName),
      leaderAcquiredAt: o.leaderAcquiredAt,
      now: o.now,
    });
  }

  recordPrimaryChange(o: ClusterObservation, change: PrimaryChange): void {
    this.deps.logger.info('primary changed', { key: o.key, ...change });
    if (change.reason === 'Switchover') return; // its events come with the switchover
    this.deps.metrics?.failovers.inc({ namespace: o.namespace, cluster: o.name, reason: change.reason });
    void this.events(o)(
      'Warning',
      'FailoverExecuted',
      'Failover',
      `Patroni failed over from ${change.from} to ${change.to} (${change.reason})`,
    );
  }

  /** Force-deletes instance pods on nodes proven gone (or NotReady past the opt-in window). */
  async forceDeleteLost(o: ClusterObservation, decision: LostNodeDecision): Promise<void> {
    for (const lost of decision.due) {
      this.deps.logger.warn('force-deleting a pod on a lost node', {
        key: o.key,
        pod: lost.pod,
        node: lost.node,
        why: lostBecause(lost),
      });
      await this.deps.client.delete(
        { apiVersion: 'v1', kind: 'Pod', name: lost.pod, namespace: o.namespace },
        { uid: lost.uid, gracePeriodSeconds: 0 },
      );
      await this.events(o)(
        'Warning',
        'PodForceDeleted',
        'LostNode',
        `force-deleted ${lost.pod}: ${lostBecause(lost)}; the StatefulSet recreates it where its volume can be attached`,
      );
    }
  }

  /**
   * Takes the primary label off pods that no longer hold the leader lock and could not do it
   * themselves (see stale-primary-label.ts), so the primary Service stops routing to them. A pod
   * that changed since the cache saw it is left for the next reconcile.
   */
  async removeStalePrimaryLabels(o: ClusterObservation, decision: StalePrimaryLabelDecision): Promise<void> {
    for (const stale of decision.remove) {
      if (!(await this.removePrimaryLabel(o, stale.pod, stale.resourceVersion))) continue;
      this.deps.logger.warn('removed a stale primary label', {
        key: o.key,
        pod: stale.pod,
        leader: o.leader,
      });
      await this.events(o)(
        'Warning',
        'StalePrimaryLabelRemoved',
        'Failover',
        `removed the primary label from ${stale.pod}: Patroni's leader is ${o.leader}, and ${stale.pod} did not relabel itself (its Patroni is unreachable or its node lost); the primary Service no longer routes to it`,
      );
    }
  }

  /**
   * Takes the primary label off a pod, from the version seen: false when the pod changed since
   * (Patroni relabelled it) or is gone.
   */
  private async removePrimaryLabel(
    o: ClusterObservation,
    pod: string,
    resourceVersion?: string,
  ): Promise<boolean> {
    try {
      await this.deps.client.mergePatch(
        { apiVersion: 'v1', kind: 'Pod', name: pod, namespace: o.namespace },
        { metadata: { labels: { [ROLE_LABEL]: null }, resourceVersion } },
      );
      return true;
    } catch (err) {
      if (isStatus(err, 409) || isStatus(err, 404)) return false;
      throw err;
    }
  }

  private events(o: ClusterObservation): ObjectEvents {
    return this.deps.events.about(clusterEventTarget(o.cluster));
  }
}

/** text as a JSON object, or undefined when it is not one. */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
