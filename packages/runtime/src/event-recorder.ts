/**
 * Events (events.k8s.io/v1) about the objects a controller manages. The same event for the same
 * object is written at most once per dedupeMs, so a reconcile that retries every few seconds
 * does not flood the namespace. Writing an event never fails a reconcile: a lost event is
 * logged, not retried.
 */
import { randomBytes } from 'node:crypto';
import { EventsV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'winston';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string };
}

export type EventType = 'Normal' | 'Warning';

/** Events about one object: record(type, reason, action, note). */
export type ObjectEvents = (type: EventType, reason: string, action: string, note: string) => Promise<void>;

export class EventRecorder {
  private readonly api: EventsV1Api;
  private readonly lastSent = new Map<string, number>();

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: {
      /** e.g. postgres.example.com/cluster-controller */
      controller: string;
      /** This process, e.g. the pod name. */
      instance: string;
      logger: Logger;
      dedupeMs?: number;
    },
  ) {
    this.api = kubeConfig.makeApiClient(EventsV1Api);
  }

  /** A recorder bound to one object, so a runner need not spell the object at every event. */
  about(target: EventTarget): ObjectEvents {
    return (type, reason, action, note) => this.record(target, type, reason, action, note);
  }

  async record(
    target: EventTarget,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const { name, namespace, uid } = target.metadata;
    const key = `${uid}/${type}/${reason}/${note}`;
    const now = Date.now();
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < (this.options.dedupeMs ?? 600_000)) return;
    this.lastSent.set(key, now);
    if (this.lastSent.size > 10_000) this.lastSent.clear();
    try {
      await this.api.createNamespacedEvent({
        namespace: namespace!,
        body: {
          // client-go's naming: <object>.<unique hex>; generateName would end in a dot, which is invalid.
          metadata: { name: `${name}.${Date.now().toString(16)}${randomBytes(4).toString('hex')}` },
          eventTime: new V1MicroTime(),
          type,
          reason,
          action,
          note: note.slice(0, 1024),
          reportingController: this.options.controller,
          reportingInstance: this.options.instance,
          regarding: { apiVersion: target.apiVersion, kind: target.kind, name, namespace, uid },
        },
      });
    } catch (err) {
      this.lastSent.delete(key);
      this.options.logger.warn('could not write event', {
        reason,
        object: `${namespace}/${name}`,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
