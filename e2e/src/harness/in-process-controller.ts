/**
 * The cluster controller run in the test process against an integration API server, with the
 * CRDs installed and a namespace created: what the integration tests of the controller share.
 */
import { join } from 'node:path';
import { createClusterController, type ClusterControllerOptions } from '@pgop/cluster-controller';
import { createLogger, type ControllerMetrics } from '@pgop/runtime';
import { kubectlOk } from './kubectl.js';
import type { TestApiServer } from './envtest.js';
import { REPO_ROOT } from './paths.js';

export async function startClusterController(
  server: TestApiServer,
  namespace: string,
  metrics?: ControllerMetrics,
  /**
   * Settings an install can change (Helm values), e.g. allowedImageRegistries; a kubeConfig of
   * the test's own (e.g. one that counts requests) instead of the server's.
   */
  settings: Partial<
    Pick<ClusterControllerOptions, 'allowedImageRegistries' | 'watchNamespaces' | 'kubeConfig'>
  > = {},
): Promise<{ stop: () => Promise<void> }> {
  kubectlOk(server, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
  kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  kubectlOk(server, ['create', 'namespace', namespace]);
  const { controller, informers } = createClusterController({
    logger: createLogger({ component: 'test', level: process.env.TEST_LOG_LEVEL ?? 'error' }),
    images: new Map([
      [17, 'localhost/pgop/postgres:17'],
      [18, 'localhost/pgop/postgres:18'],
    ]),
    poolerImage: 'localhost/pgop/pooler:dev',
    identity: 'integration-test',
    metrics,
    // Short, so a deletion stuck on a pod that never stops is seen through to the end.
    deletionWaitSeconds: 8,
    ...settings,
    kubeConfig: settings.kubeConfig ?? server.kubeConfig,
  });
  for (const i of informers) await i.start();
  await Promise.all(informers.map((i) => i.synced));
  controller.start();
  return {
    stop: async () => {
      await controller.stop();
      for (const i of informers) await i.stop();
    },
  };
}
