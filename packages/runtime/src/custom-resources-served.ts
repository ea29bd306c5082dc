/** Readiness check: the API server serves these custom resources and this process may list them. */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

export function customResourcesServed(
  kubeConfig: KubeConfig,
  group: string,
  version: string,
  plurals: readonly string[],
): () => Promise<boolean> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return async () => {
    for (const plural of plurals) await api.listClusterCustomObject({ group, version, plural, limit: 1 });
    return true;
  };
}
