/**
 * spec.pooler's objects: PgBouncer's ConfigMap, and per kind (read-write; read-only when
 * readOnlyInstances > 0) a Deployment, its Service and a PodDisruptionBudget. The pooler pods'
 * NetworkPolicy is with the others (network-policies.ts). Nothing without spec.pooler: the
 * pooler runner deletes what is left (pooler/runner.ts).
 */
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
} from '@kubernetes/client-node';
import { APP_LABELS, type PostgresCluster } from '@pgop/api';
import {
  childMetadata,
  childNames,
  clusterLabels,
  CONFIG_HASH_ANNOTATION,
  POOLER_COMPONENTS,
  poolerSelector,
  type PoolerKind,
} from '../naming.js';
import {
  EXPORTER_WEB_CONFIG_KEY,
  exporterCommand,
  exporterWebConfig,
  pgbouncerIni,
  POOLER_CONFIG_KEYS,
  POOLER_CONTAINER,
  POOLER_METRICS_PORT,
  POOLER_PATHS,
  POOLER_PORT,
  POOLER_TLS_FILES,
} from '../pooler/config.js';
import { CLUSTER_TLS_KEYS } from '../tls/cluster-certificates.js';
import { postgresImagePodSpec, RESTRICTED_CONTAINER_SECURITY_CONTEXT } from './security-context.js';
import { contentHash, preferDifferentNodes } from './statefulset.js';

export interface PoolerInputs {
  image: string;
  /** The pooler's certificates as issued now: a renewal rolls the pods, which read them at start. */
  certificateHash: string;
}

/** The pooler kinds spec.pooler asks for, with their number of pods. */
export function poolerKinds(cluster: PostgresCluster): [PoolerKind, number][] {
  const pooler = cluster.spec.pooler;
  if (!pooler) return [];
  const readOnly = pooler.readOnlyInstances ?? 0;
  return [
    ['readWrite', pooler.instances ?? 2],
    ...(readOnly > 0 ? [['readOnly', readOnly] as [PoolerKind, number]] : []),
  ];
}

function poolerLabels(cluster: PostgresCluster, kind: PoolerKind): Record<string, string> {
  // Not "postgresql": the pgop PostgreSQL pods' selectors (repository host ingress) leave it out.
  return { ...clusterLabels(cluster, POOLER_COMPONENTS[kind]), [APP_LABELS.name]: 'pgbouncer' };
}

/** The metadata of a kind's Deployment, Service and PodDisruptionBudget (all named alike). */
function poolerMetadata(cluster: PostgresCluster, kind: PoolerKind) {
  const name = childNames(cluster.metadata.name!).pooler[kind];
  return { ...childMetadata(cluster, name, POOLER_COMPONENTS[kind]), labels: poolerLabels(cluster, kind) };
}

export function renderPooler(cluster: PostgresCluster, inputs: PoolerInputs): KubernetesObject[] {
  const kinds = poolerKinds(cluster);
  if (kinds.length === 0) return [];
  const names = childNames(cluster.metadata.name!);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(cluster, names.poolerConfigMap, POOLER_COMPONENTS.readWrite),
    data: {
      ...Object.fromEntries(kinds.map(([kind]) => [POOLER_CONFIG_KEYS[kind], pgbouncerIni(cluster, kind)])),
      [EXPORTER_WEB_CONFIG_KEY]: exporterWebConfig(),
    },
  };
  return [
    configMap,
    ...kinds.flatMap(([kind, instances]) => [
      renderPoolerService(cluster, kind),
      renderPoolerDisruptionBudget(cluster, kind),
      renderPoolerDeployment(cluster, kind, instances, inputs, configMap.data![POOLER_CONFIG_KEYS[kind]]!),
    ]),
  ];
}

function renderPoolerService(cluster: PostgresCluster, kind: PoolerKind): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: poolerMetadata(cluster, kind),
    spec: {
      type: 'ClusterIP',
      selector: poolerSelector(cluster.metadata.name!, kind),
      ports: [{ name: 'pgbouncer', port: POOLER_PORT, targetPort: 'pgbouncer', protocol: 'TCP' }],
    },
  };
}

/** One pod at a time may be evicted: with two or more, the Service always has a pod. */
function renderPoolerDisruptionBudget(cluster: PostgresCluster, kind: PoolerKind): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: poolerMetadata(cluster, kind),
    spec: { maxUnavailable: 1, selector: { matchLabels: poolerSelector(cluster.metadata.name!, kind) } },
  };
}

function renderPoolerDeployment(
  cluster: PostgresCluster,
  kind: PoolerKind,
  instances: number,
  inputs: PoolerInputs,
  ini: string,
): V1Deployment {
  const clusterName = cluster.metadata.name!;
  const names = childNames(clusterName);
  const selector = poolerSelector(clusterName, kind);
  const tcpProbe = (periodSeconds: number, failureThreshold: number) => ({
    tcpSocket: { port: 'pgbouncer' },
    periodSeconds,
    failureThreshold,
  });
  const mounts = [
    { name: 'config', mountPath: POOLER_PATHS.configDir, readOnly: true },
    { name: 'tls', mountPath: POOLER_PATHS.tlsDir, readOnly: true },
    { name: 'socket', mountPath: POOLER_PATHS.socketDir },
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: poolerMetadata(cluster, kind),
    spec: {
      replicas: instances,
      // A new pod is ready before an old one goes: the Service never runs short.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: poolerLabels(cluster, kind),
          annotations: {
            [CONFIG_HASH_ANNOTATION]: contentHash(ini + inputs.certificateHash),
            // kubectl exec and logs without -c: PgBouncer's container, not the metrics one.
            'kubectl.kubernetes.io/default-container': POOLER_CONTAINER,
          },
        },
        spec: {
          automountServiceAccountToken: false,
          ...postgresImagePodSpec(cluster),
          affinity: preferDifferentNodes(selector),
          // PgBouncer's SIGTERM stops taking clients and waits for the connected ones to leave.
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: POOLER_CONTAINER,
              image: inputs.image,
              command: ['pgbouncer', `${POOLER_PATHS.configDir}/pgbouncer.ini`],
              ports: [{ name: 'pgbouncer', containerPort: POOLER_PORT }],
              readinessProbe: tcpProbe(5, 2),
              livenessProbe: tcpProbe(15, 4),
              // The endpoints drop the pod before PgBouncer stops listening.
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              resources: { requests: { cpu: '50m', memory: '32Mi' } },
              securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              volumeMounts: mounts,
            },
            {
              name: 'metrics',
              image: inputs.image,
              command: exporterCommand(),
              ports: [{ name: 'metrics', containerPort: POOLER_METRICS_PORT }],
              // Small and bounded: a misbehaving exporter must not take memory from PgBouncer.
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
              securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              volumeMounts: mounts,
            },
          ],
          volumes: [
            {
              name: 'config',
              configMap: {
                name: names.poolerConfigMap,
                items: [
                  { key: POOLER_CONFIG_KEYS[kind], path: 'pgbouncer.ini' },
                  { key: EXPORTER_WEB_CONFIG_KEY, path: EXPORTER_WEB_CONFIG_KEY },
                ],
              },
            },
            {
              name: 'tls',
              projected: {
                defaultMode: 0o440,
                sources: [
                  { secret: { name: names.poolerTlsSecret } },
                  // Only the instances' trusted CAs from the cluster's Secret: not its CA key.
                  {
                    secret: {
                      name: names.tlsSecret,
                      items: [{ key: CLUSTER_TLS_KEYS.trustedCa, path: POOLER_TLS_FILES.trustedCa }],
                    },
                  },
                ],
              },
            },
            { name: 'socket', emptyDir: {} },
          ],
        },
      },
    },
  };
}
