/**
 * The reconcile loop: workers take keys from the queue and call reconcile(key), with
 * controller-runtime's result handling. Level-triggered: reconcile reads current state
 * itself; the key says only which object to look at.
 */
import type { Logger } from 'winston';
import type { ControllerMetrics } from './metrics.js';
import { WorkQueue } from './work-queue.js';

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (e.g. to watch a timer). */
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  logger: Logger;
  metrics?: ControllerMetrics;
  /** Keys reconciled in parallel (never the same key twice at once). Default 1. */
  concurrency?: number;
  queue?: WorkQueue;
}

export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: ControllerOptions) {
    const m = options.metrics;
    const labels = { controller: options.name };
    this.queue =
      options.queue ??
      new WorkQueue(undefined, {
        onAdd: () => m?.queueAdds.inc(labels),
        onRetry: () => m?.queueRetries.inc(labels),
        onDepth: (depth) => m?.queueDepth.set(labels, depth),
      });
  }

  start(): void {
    const n = this.options.concurrency ?? 1;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits for the reconciles in progress. */
  async stop(): Promise<void> {
    await this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.reconcileOne(key);
      this.queue.done(key);
    }
  }

  private async reconcileOne(key: string): Promise<void> {
    const { name, reconcile, logger, metrics } = this.options;
    const labels = { controller: name };
    const end = metrics?.reconcileDuration.startTimer(labels);
    try {
      const result = await reconcile(key);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, result.requeueAfterMs);
        metrics?.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
      } else {
        this.queue.forget(key);
        metrics?.reconcileTotal.inc({ ...labels, result: 'success' });
      }
    } catch (err) {
      // Any failure is retried with per-key backoff; nothing escapes to crash the process.
      this.queue.addRateLimited(key);
      metrics?.reconcileTotal.inc({ ...labels, result: 'error' });
      metrics?.reconcileErrors.inc(labels);
      logger.error('reconcile failed; retrying with backoff', {
        controller: name,
        key,
        retries: this.queue.backoff.retries(key),
        error: err instanceof Error ? { message: err.message, stack: err.stack } : String(err),
      });
    } finally {
      end?.();
    }
  }
}
