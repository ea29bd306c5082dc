/**
 * The cluster's NetworkPolicies (spec.networkPolicy): ingress to the instances and to a PVC
 * repository's host, each from the peers that need it and no one else. Egress is not limited:
 * the instances need the API server (Patroni's DCS) and whatever S3 endpoint spec.backup names,
 * neither of which a NetworkPolicy can name portably (docs/security.md).
 */
import type { KubernetesObject, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { APP_LABELS, MANAGED_BY, type PostgresCluster } from '@pgop/api';
import { PATRONI_PORT, POSTGRES_PORT } from '../instance-paths.js';
import { METRICS_PORT } from '@pgop/api';
import { REPOSITORY_HOST_PORT } from '../pgbackrest/config.js';
import { POOLER_METRICS_PORT, POOLER_PORT } from '../pooler/config.js';
import {
  anyPoolerPodSelector,
  childMetadata,
  childNames,
  DATABASE_COMPONENT,
  POOLER_COMPONENTS,
  instanceSelector,
  REPOSITORY_HOST_COMPONENT,
  repositoryHostSelector,
} from '../naming.js';

/**
 * The cluster controller's pods, which call Patroni's API: where it runs and its labels; and who
 * the install lets scrape metrics (the chart's networkPolicy.metricsFrom).
 */
export interface OperatorPeer {
  namespace: string;
  podLabels: Record<string, string>;
  /** Who may read the instances' metrics (the exporter's and Patroni's); none given: anyone. */
  metricsFrom?: V1NetworkPolicyPeer[];
}

/**
 * A NetworkPolicy as the API spells it (`from`; the client library's V1NetworkPolicy says
 * `_from`, and ObjectClient.apply converts), as the golden files show it.
 */
interface IngressRule {
  /** Absent: from anywhere. */
  from?: V1NetworkPolicyPeer[];
  ports: { protocol: string; port: number }[];
}
export interface NetworkPolicy extends KubernetesObject {
  spec: { podSelector: V1NetworkPolicyPeer['podSelector']; policyTypes: ['Ingress']; ingress: IngressRule[] };
}

/** Every PostgreSQL pod pgop makes (instances, restore and check Jobs), of any cluster. */
const PGOP_POSTGRES_PODS = { [APP_LABELS.name]: 'postgresql', [APP_LABELS.managedBy]: MANAGED_BY };

/** Everyone in the cluster's namespace: the default clients. */
const SAME_NAMESPACE: V1NetworkPolicyPeer[] = [{ podSelector: {} }];

export function renderNetworkPolicies(cluster: PostgresCluster, operator?: OperatorPeer): NetworkPolicy[] {
  if (cluster.spec.networkPolicy?.enabled === false) return [];
  return [
    renderInstancesPolicy(cluster, operator),
    ...(cluster.spec.backup?.pvc ? [renderRepositoryHostPolicy(cluster)] : []),
    ...(cluster.spec.pooler ? [renderPoolerPolicy(cluster, operator)] : []),
  ];
}

function renderInstancesPolicy(cluster: PostgresCluster, operator?: OperatorPeer): NetworkPolicy {
  const name = cluster.metadata.name!;
  const members = { podSelector: { matchLabels: instanceSelector(name) } };
  const clients = (cluster.spec.networkPolicy?.clients ?? SAME_NAMESPACE) as V1NetworkPolicyPeer[];
  const ingress: IngressRule[] = [
    // Replication, pg_rewind and the members' calls to each other's Patroni API (failsafe).
    { from: [members], ports: [tcp(POSTGRES_PORT), tcp(PATRONI_PORT)] },
  ];
  // Without it (a controller run outside the cluster, where pod networks are not reachable
  // anyway) pgop's Patroni calls would be refused by an enforcing plugin.
  if (operator) {
    ingress.push({
      from: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': operator.namespace } },
          podSelector: { matchLabels: operator.podLabels },
        },
      ],
      ports: [tcp(PATRONI_PORT)],
    });
    // Prometheus: the exporter's metrics, and Patroni's (/metrics; without the client
    // certificate only pgop and the members hold, Patroni's API changes nothing).
    const scrapers = operator.metricsFrom ?? [];
    ingress.push({
      ...(scrapers.length > 0 ? { from: scrapers } : {}),
      ports: [tcp(METRICS_PORT), tcp(PATRONI_PORT)],
    });
  }
  // A rule with no peers would let everyone in: [] means no clients, so no rule.
  if (clients.length > 0) ingress.push({ from: clients, ports: [tcp(POSTGRES_PORT)] });
  // PgBouncer's server connections, whoever the clients are.
  if (cluster.spec.pooler)
    ingress.push({ from: [{ podSelector: anyPoolerPodSelector(name) }], ports: [tcp(POSTGRES_PORT)] });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(cluster, childNames(name).networkPolicy, DATABASE_COMPONENT),
    spec: { podSelector: { matchLabels: instanceSelector(name) }, policyTypes: ['Ingress'], ingress },
  };
}

/**
 * The repository host serves pgBackRest's TLS protocol to this cluster's instances and to the
 * restores that read its backups (clusters of the namespace restored from it, their checks and
 * verifications), all pgop PostgreSQL pods of the namespace. Each still needs a client
 * certificate of the repository's CA.
 */
function renderRepositoryHostPolicy(cluster: PostgresCluster): NetworkPolicy {
  const name = cluster.metadata.name!;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(cluster, childNames(name).repositoryHostNetworkPolicy, REPOSITORY_HOST_COMPONENT),
    spec: {
      podSelector: { matchLabels: repositoryHostSelector(name) },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: PGOP_POSTGRES_PODS } }], ports: [tcp(REPOSITORY_HOST_PORT)] },
      ],
    },
  };
}

/**
 * The pooler pods (spec.pooler) take clients on PgBouncer's port as spec.networkPolicy.clients
 * says (its connections to the instances are let in by the instances' policy), and metrics
 * scrapes on the exporter's port as the install's metricsFrom says.
 */
function renderPoolerPolicy(cluster: PostgresCluster, operator?: OperatorPeer): NetworkPolicy {
  const name = cluster.metadata.name!;
  const clients = (cluster.spec.networkPolicy?.clients ?? SAME_NAMESPACE) as V1NetworkPolicyPeer[];
  const scrapers = operator?.metricsFrom ?? [];
  const ingress: IngressRule[] = [
    { ...(scrapers.length > 0 ? { from: scrapers } : {}), ports: [tcp(POOLER_METRICS_PORT)] },
  ];
  if (clients.length > 0) ingress.push({ from: clients, ports: [tcp(POOLER_PORT)] });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(cluster, childNames(name).poolerNetworkPolicy, POOLER_COMPONENTS.readWrite),
    spec: { podSelector: anyPoolerPodSelector(name), policyTypes: ['Ingress'], ingress },
  };
}

const tcp = (port: number) => ({ protocol: 'TCP', port });
