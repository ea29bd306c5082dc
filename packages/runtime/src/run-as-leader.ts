/**
 * Runs controllers only while this replica holds the Lease: the standby replicas keep their
 * health server up and wait. On becoming leader: start the informers, wait for their caches,
 * start the workers. On losing the lease: exit, so Kubernetes restarts the process clean
 * (controller-runtime does the same; a half-stopped leader is the dangerous state).
 * On SIGTERM: stop the workers, then release the lease so a standby takes over at once.
 */
import { hostname } from 'node:os';
import type { Controller } from './controller.js';
import type { Informer } from './informer.js';
import { LeaderElector } from './leader-election.js';
import { setWriteGuard } from './leadership.js';
import type { Manager } from './manager.js';

export interface RunAsLeaderOptions {
  leaseName: string;
  informers: Informer<object>[];
  controllers: Controller[];
}

export function runAsLeader(
  manager: Manager,
  { leaseName, informers, controllers }: RunAsLeaderOptions,
): LeaderElector {
  const { logger, kubeConfig } = manager;
  const elector = new LeaderElector({
    kubeConfig,
    namespace:
      process.env.POD_NAMESPACE ??
      kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ??
      'default',
    name: leaseName,
    identity: process.env.POD_NAME ?? hostname(),
    logger,
  });
  setWriteGuard(() => elector.isLeader);
  let caches = false;
  manager.health.addReadinessCheck('caches-synced-when-leading', () => !elector.isLeader || caches);
  manager.shutdownSteps.push(
    async () => {
      for (const c of controllers) await c.stop();
      for (const i of informers) await i.stop();
    },
    () => elector.release(),
  );
  void elector.run(
    () =>
      void (async () => {
        await Promise.all(informers.map((i) => i.start()));
        await Promise.all(informers.map((i) => i.synced));
        caches = true;
        logger.info('caches synced; reconciling');
        for (const c of controllers) c.start();
      })(),
    () => process.exit(1),
  );
  return elector;
}
