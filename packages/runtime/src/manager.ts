/**
 * What every controller process starts with: JSON logs, metrics, the health server, a
 * kubeconfig (in-cluster, or $KUBECONFIG) whose requests have deadlines and whose writes need
 * leadership (api-requests.ts), and shutdown on SIGTERM.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { boundApiRequests } from './api-requests.js';
import { HealthServer } from './health-server.js';
import { createLogger } from './logger.js';
import { createControllerMetrics, type ControllerMetrics } from './metrics.js';
import { onShutdown } from './shutdown.js';

export interface Manager {
  logger: Logger;
  metrics: ControllerMetrics;
  health: HealthServer;
  kubeConfig: KubeConfig;
  /** Run in order on SIGTERM (the health server closes first); add to it when starting things. */
  shutdownSteps: (() => Promise<void>)[];
}

export interface ManagerOptions {
  component: string;
  /** Port of /healthz, /readyz and /metrics; default $HEALTH_PORT or 8080. */
  port?: number;
}

export async function startManager({ component, port }: ManagerOptions): Promise<Manager> {
  const logger = createLogger({ component });
  const metrics = createControllerMetrics();
  const health = new HealthServer(metrics.registry);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  boundApiRequests(kubeConfig, {
    onRequest: (method, resource) => metrics.apiRequests.inc({ method, resource }),
  });
  // onShutdown reads the list when the signal arrives, so steps added later run too.
  const shutdownSteps: (() => Promise<void>)[] = [() => health.close()];
  onShutdown(logger, shutdownSteps);
  const listening = await health.listen(port ?? Number(process.env.HEALTH_PORT ?? 8080));
  logger.info('started', { port: listening, apiServer: kubeConfig.getCurrentCluster()?.server });
  return { logger, metrics, health, kubeConfig, shutdownSteps };
}
