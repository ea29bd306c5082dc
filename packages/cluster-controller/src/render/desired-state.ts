/**
 * Everything a PostgresCluster should own, computed from its spec alone (plus the few facts
 * the reconcile observed and passes in). Pure: the same inputs give the same objects, which
 * the golden tests pin.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { renderPatroniConfigMap } from './config-map.js';
import { renderDisruptionBudget } from './disruption-budget.js';
import { renderInstanceAccess } from './instance-access.js';
import { patroniConfig } from './patroni-config.js';
import { renderRepositoryHost } from './repo-host.js';
import { renderServices } from './services.js';
import { configHash, renderStatefulSet, type StatefulSetInputs } from './statefulset.js';

/** The children applied with server-side apply, in dependency order (the StatefulSet last). */
export function desiredChildren(
  cluster: PostgresCluster,
  inputs: Omit<StatefulSetInputs, 'configHash'>,
): KubernetesObject[] {
  const config = patroniConfig(cluster);
  return [
    ...renderInstanceAccess(cluster),
    renderPatroniConfigMap(cluster, config),
    ...renderServices(cluster),
    renderDisruptionBudget(cluster),
    ...renderRepositoryHost(cluster, inputs.image),
    renderStatefulSet(cluster, { ...inputs, configHash: configHash(config) }),
  ];
}
