/**
 * Everything a PostgresCluster should own, computed from its spec and the few facts the
 * reconcile observed and passes in (inputs), never from its status. Pure: the same inputs give
 * the same objects, which the golden tests pin.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { renderPatroniConfigMap } from './config-map.js';
import { renderDisruptionBudget } from './disruption-budget.js';
import { renderInstanceAccess } from './instance-access.js';
import { renderNetworkPolicies, type OperatorPeer } from './network-policies.js';
import { patroniConfig } from '../patroni/config.js';
import { renderRepositoryHost } from './repo-host.js';
import { renderPooler, type PoolerInputs } from './pooler.js';
import { renderServices } from './services.js';
import { configHash, renderStatefulSet, type StatefulSetInputs } from './statefulset.js';

/** The children applied with server-side apply, in dependency order (the StatefulSet, then the pooler). */
export function desiredChildren(
  cluster: PostgresCluster,
  inputs: Omit<StatefulSetInputs, 'configHash'> & {
    /** WAL goes to the repository (archivingEnabled in pgbackrest/repository.ts). */
    archiving: boolean;
    /** A PVC repository's current server certificate: its host rolls when it changes. */
    repositoryServerCertificate?: string;
    /** The size a PVC repository's claim asks for now: storage/ raises it, not the apply. */
    existingRepositorySize?: string;
    /** The controller's pods, let in to Patroni's API. */
    operator?: OperatorPeer | undefined;
    /** spec.pooler's image and certificates; absent until both are at hand (pooler/runner.ts). */
    pooler?: PoolerInputs;
  },
): KubernetesObject[] {
  const {
    archiving,
    repositoryServerCertificate,
    existingRepositorySize,
    operator,
    pooler,
    ...statefulSetInputs
  } = inputs;
  const config = patroniConfig(cluster, archiving);
  return [
    // First: no pod of the cluster runs a moment without its policy.
    ...renderNetworkPolicies(cluster, operator),
    ...renderInstanceAccess(cluster),
    renderPatroniConfigMap(cluster, config),
    ...renderServices(cluster),
    renderDisruptionBudget(cluster),
    ...renderRepositoryHost(cluster, inputs.image, repositoryServerCertificate, existingRepositorySize),
    renderStatefulSet(cluster, { ...statefulSetInputs, configHash: configHash(config) }),
    // After the instances: the pooler's first pods find a server to connect to.
    ...(pooler ? renderPooler(cluster, pooler) : []),
  ];
}
