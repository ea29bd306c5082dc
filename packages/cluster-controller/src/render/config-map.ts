/**
 * The ConfigMap holding patroni.yml, the metrics container's web configuration, and with spec.backup pgBackRest's configuration and
 * wrapper (and the repository host's, for a PVC repository); mounted read-only into the pods.
 * It never holds a credential.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { childMetadata, childNames } from '../naming.js';
import { stringify } from 'yaml';
import { PATRONI_CONFIG_FILE, type patroniConfig } from '../patroni/config.js';
import { EXPORTER_WEB_CONFIG_KEY, exporterWebConfig } from '../monitoring/exporter.js';
import {
  PGBACKREST_CONFIG_KEY,
  PGBACKREST_WRAPPER,
  PGBACKREST_WRAPPER_KEY,
  pgbackrestConf,
  REPOSITORY_HOST_CONFIG_KEY,
  repositoryHostConf,
} from '../pgbackrest/config.js';

export function renderPatroniConfigMap(
  cluster: PostgresCluster,
  config: ReturnType<typeof patroniConfig>,
): V1ConfigMap {
  const pgbackrest = pgbackrestConf(cluster);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(cluster, childNames(cluster.metadata.name!).patroniConfigMap, 'patroni'),
    data: {
      [PATRONI_CONFIG_FILE]: stringify(config),
      [EXPORTER_WEB_CONFIG_KEY]: exporterWebConfig(),
      ...(pgbackrest
        ? { [PGBACKREST_CONFIG_KEY]: pgbackrest, [PGBACKREST_WRAPPER_KEY]: PGBACKREST_WRAPPER }
        : {}),
      ...(cluster.spec.backup?.pvc ? { [REPOSITORY_HOST_CONFIG_KEY]: repositoryHostConf() } : {}),
    },
  };
}
