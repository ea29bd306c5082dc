/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
 * - a candidate takes the lease only when it is free or its holder has not renewed it for
 *   leaseDuration, measured on this process's clock from when it last saw the record change
 *   (so no clock agreement between pods is needed);
 * - every write carries the resourceVersion it read, so of two candidates exactly one wins;
 * - a leader that cannot renew within renewDeadline stops leading (onStoppedLeading), before
 *   anyone else may take over (renewDeadline < leaseDuration);
 * - release() on shutdown hands the lease over at once instead of after leaseDuration.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
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
  private lease?: V1Lease;
  private leading = false;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Waits until this process holds the lease, calls onStartedLeading, then keeps renewing;
   * calls onStoppedLeading (once) if renewing fails for renewDeadline. Resolves when leading ends.
   */
  async run(onStartedLeading: () => void, onStoppedLeading: () => void): Promise<void> {
    const { logger, identity, name } = this.options;
    while (!this.stopped && !(await this.tryAcquireOrRenew())) await sleep(this.retryPeriodMs);
    if (this.stopped) return;
    this.leading = true;
    logger.info('became leader', { lease: name, identity });
    onStartedLeading();
    let lastRenew = Date.now();
    while (!this.stopped) {
      await sleep(this.retryPeriodMs);
      if (this.stopped) break;
      if (await this.tryAcquireOrRenew()) lastRenew = Date.now();
      else if (Date.now() - lastRenew > this.renewDeadlineMs) {
        this.leading = false;
        logger.error('lost the lease: could not renew it in time', { lease: name, identity });
        onStoppedLeading();
        return;
      }
    }
  }

  /** Stops campaigning; if leading, gives the lease up so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (!this.leading || !this.lease) return;
    this.leading = false;
    const lease = this.lease;
    try {
      await this.api.replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: undefined,
            renewTime: undefined,
            acquireTime: undefined,
            leaseDurationSeconds: 1,
          },
        },
      });
      this.options.logger.info('released the lease', { lease: this.options.name });
    } catch (err) {
      this.options.logger.warn('could not release the lease', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
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
        this.lease = await this.api.createNamespacedLease({
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
      this.lease = await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...current,
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: heldByMe && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
            renewTime: now,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (heldByMe ? 0 : 1),
          },
        },
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
