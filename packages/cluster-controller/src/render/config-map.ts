/** The ConfigMap holding patroni.yml, mounted read-only into every instance pod. */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { childMetadata, childNames } from '../naming.js';
import { stringify } from 'yaml';
import { PATRONI_CONFIG_FILE, type patroniConfig } from './patroni-config.js';

export function renderPatroniConfigMap(
  cluster: PostgresCluster,
  config: ReturnType<typeof patroniConfig>,
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(cluster, childNames(cluster.metadata.name!).patroniConfigMap, 'patroni'),
    data: { [PATRONI_CONFIG_FILE]: stringify(config) },
  };
}
