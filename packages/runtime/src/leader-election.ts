/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
 * - a candidate takes the lease only when it is free or its holder has not renewed it for
 *   leaseDuration, measured on this process's clock from when it last saw the record change
 *   (so no clock agreement between pods is needed);
 * - every write carries the resourceVersion it read, so of two candidates exactly one wins;
 * - a leader that cannot renew within renewDeadline stops leading (onStoppedLeading), before
 *   anyone else may take over (renewDeadline < leaseDuration); each renewal is abandoned once
 *   the deadline passes, so a hung request cannot keep a deposed leader acting;
 * - isLeader is false as soon as renewDeadline has passed since the last renewal began,
 *   measured on the monotonic clock, even before the loop notices: a leader frozen longer than
 *   the lease (SIGSTOP, a stalled node) acts on nothing when it wakes (leadership.ts);
 * - release() on shutdown hands the lease over at once instead of after leaseDuration.
 */
import {
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
  type V1LeaseSpec,
} from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { isStatus } from './object-client.js';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed?: { record: string; at: number };
  private leading = false;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  /** When the last successful renewal began (performance.now()). */
  private renewedAt = 0;

  get isLeader(): boolean {
    return this.leading && performance.now() - this.renewedAt < this.renewDeadlineMs;
  }

  /**
   * Waits until this process holds the lease, calls onStartedLeading, then keeps renewing;
   * calls onStoppedLeading (once) if renewing fails for renewDeadline. Resolves when leading ends.
   */
  async run(onStartedLeading: () => void, onStoppedLeading: () => void): Promise<void> {
    const { logger, identity, name } = this.options;
    while (!this.stopped && !(await this.renew())) await sleep(this.retryPeriodMs);
    if (this.stopped) return;
    this.leading = true;
    logger.info('became leader', { lease: name, identity });
    onStartedLeading();
    while (!this.stopped) {
      await sleep(this.retryPeriodMs);
      if (this.stopped) break;
      if (this.isLeader && (await this.renew())) continue;
      if (this.stopped) break; // released while renewing
      if (this.isLeader) continue; // a failed attempt, still inside renewDeadline
      this.leading = false;
      logger.error('lost the lease: could not renew it in time', { lease: name, identity });
      onStoppedLeading();
      return;
    }
  }

  /**
   * One attempt to acquire or renew, given up once renewDeadline since the last renewal has
   * passed (the request itself also has the client's deadline). Records when it began.
   */
  private async renew(): Promise<boolean> {
    const began = performance.now();
    const remaining = this.leading ? this.renewDeadlineMs - (began - this.renewedAt) : this.renewDeadlineMs;
    if (remaining <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      this.tryAcquireOrRenew(),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), remaining))),
    ]);
    clearTimeout(timer);
    if (ok) this.renewedAt = began;
    return ok;
  }

  /**
   * Stops campaigning; if leading, gives the lease up so a standby takes over at once. The lease
   * is read afresh: a renewal in flight may have changed it since (a write from the copy this
   * process last wrote would conflict, and the standby would wait out the whole lease).
   */
  async release(): Promise<void> {
    this.stopped = true;
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name, identity, logger } = this.options;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const current = await this.api.readNamespacedLease({ name, namespace });
        if (current.spec?.holderIdentity !== identity) return;
        await this.replaceSpec(current, {
          ...current.spec,
          holderIdentity: undefined,
          renewTime: undefined,
          acquireTime: undefined,
          leaseDurationSeconds: 1,
        });
        logger.info('released the lease', { lease: name });
        return;
      } catch (err) {
        if (isStatus(err, 409)) continue; // a renewal in flight wrote first: read it and release again
        logger.warn('could not release the lease', {
          error: err instanceof Error ? err.message : String(err),
        });
        return;
      }
    }
  }

  /** Writes a new spec over the lease as read: conflicts (409) if anyone wrote it since. */
  private replaceSpec(current: V1Lease, spec: V1LeaseSpec): Promise<V1Lease> {
    const { name, namespace } = this.options;
    return this.api.replaceNamespacedLease({ name, namespace, body: { ...current, spec } });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, logger } = this.options;
    const now = new V1MicroTime();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      let current: V1Lease;
      try {
        current = await this.api.readNamespacedLease({ name, namespace });
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        if (this.stopped) return false;
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      }
      const spec = current.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions]);
      if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
      const holder = spec.holderIdentity;
      const heldByMe = holder === identity;
      const holderDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      const expired = !holder || Date.now() > this.observed.at + holderDurationMs;
      if (!heldByMe && !expired) return false;
      // release() has begun: a renewal that read the lease before it must not take it back.
      if (this.stopped) return false;
      await this.replaceSpec(current, {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: heldByMe && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (heldByMe ? 0 : 1),
      });
      if (!heldByMe) logger.info('took over the lease', { lease: name, previousHolder: holder ?? '' });
      return true;
    } catch (err) {
      // 409: another candidate wrote first. Anything else: the API server is unreachable or refused.
      if (!isStatus(err, 409))
        logger.warn('lease update failed', {
          lease: name,
          error: err instanceof Error ? err.message : String(err),
        });
      return false;
    }
  }
}
