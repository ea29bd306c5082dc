/** Readiness: the kinds this controller owns are served and it may list them. */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '@pgop/api';

export const OWNED_PLURALS = ['postgresbackups', 'postgresrestores'] as const;

export function ownedKindsServed(kubeConfig: KubeConfig): () => Promise<boolean> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return async () => {
    for (const plural of OWNED_PLURALS) {
      await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural, limit: 1 });
    }
    return true;
  };
}
