/** Prometheus metrics of the controller machinery (names follow controller-runtime's). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ControllerMetrics {
  registry: Registry;
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  reconcileDuration: Histogram<'controller'>;
  queueDepth: Gauge<'controller'>;
  queueAdds: Counter<'controller'>;
  queueRetries: Counter<'controller'>;
  apiRequests: Counter<'method' | 'resource'>;
}

/** A registry with Node.js process metrics and the reconcile/queue metrics of every controller. */
export function createControllerMetrics(registry = new Registry()): ControllerMetrics {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'pgop_reconcile_total',
      help: 'Reconciles by controller and result (success, error, requeue_after).',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'pgop_reconcile_errors_total',
      help: 'Reconciles that failed and were retried with backoff.',
      labelNames: ['controller'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'pgop_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'pgop_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'],
      registers,
    }),
    queueAdds: new Counter({
      name: 'pgop_workqueue_adds_total',
      help: 'Keys added to the work queue.',
      labelNames: ['controller'],
      registers,
    }),
    queueRetries: new Counter({
      name: 'pgop_workqueue_retries_total',
      help: 'Keys re-queued with backoff after a failure.',
      labelNames: ['controller'],
      registers,
    }),
    apiRequests: new Counter({
      name: 'pgop_api_requests_total',
      help: 'Requests to the Kubernetes API by HTTP method and resource (watch streams not counted).',
      labelNames: ['method', 'resource'],
      registers,
    }),
  };
}

/** One series of a gauge computed at scrape time. */
export interface Sample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

export interface SnapshotGauge<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** The series as of now (e.g. from an informer's cache): objects gone leave no stale series. */
  samples: () => Sample<L>[];
}

/**
 * Gauges recomputed on every scrape, as kube-state-metrics does for built-in kinds: the
 * controllers' view of their custom resources' status. A standby (not the leader) has empty
 * caches, so it exports none of these.
 */
export function registerSnapshotGauges(registry: Registry, gauges: SnapshotGauge<string>[]): void {
  for (const g of gauges)
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: [...g.labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of g.samples()) this.set(s.labels, s.value);
      },
    });
}
