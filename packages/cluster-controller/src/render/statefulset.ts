/**
 * The StatefulSet of a cluster: one pod per instance, each running Patroni, which runs
 * PostgreSQL. updateStrategy OnDelete: pgop decides when each pod is replaced (replicas first,
 * the primary last after a switchover), never the StatefulSet controller.
 */
import type {
  V1Affinity,
  V1EnvVar,
  V1PersistentVolumeClaim,
  V1StatefulSet,
  V1Volume,
} from '@kubernetes/client-node';
import { DATABASE_CONTAINER, type PostgresCluster } from '@pgop/api';
import { createHash } from 'node:crypto';
import {
  childMetadata,
  childNames,
  clusterLabels,
  CONFIG_HASH_ANNOTATION,
  DATABASE_COMPONENT,
  instanceSelector,
  MAJOR_VERSION_LABEL,
} from '../naming.js';
import {
  DATA_VOLUME_MOUNT,
  WAL_VOLUME_MOUNT,
  FENCE_COMMAND,
  PATRONI_PORT,
  PGDATA,
  POSTGRES_PORT,
  SOCKET_DIR,
  WATCHDOG_DEVICE,
} from '../instance-paths.js';
import { PATRONI_CONFIG_DIR, PATRONI_CONFIG_FILE, HA_TIMING, FENCE_HOLD_SECONDS } from '../patroni/config.js';
import {
  PGBACKREST_BIN_DIR,
  PGBACKREST_CONFIG_KEY,
  PGBACKREST_DIR,
  PGBACKREST_WRAPPER_KEY,
  OWNER_GROUP_READ,
  repositorySecretSources,
} from '../pgbackrest/config.js';
import { ownRepository } from '../pgbackrest/repository.js';
import { CLUSTER_TLS_DIR, CLUSTER_TLS_KEYS, instanceHostName } from '../tls/cluster-certificates.js';
import { SERVER_SECRET_KEYS, SERVER_TLS_DIR } from '../tls/server-certificate.js';
import { postgresImagePodSpec, RESTRICTED_CONTAINER_SECURITY_CONTEXT } from './security-context.js';
import { metricsContainer } from '../monitoring/exporter.js';

export const DATA_VOLUME = 'pgdata';
/** spec.walStorage's claim template. */
export const WAL_VOLUME = 'pgwal';
/** The image's PATH after PostgreSQL's bin directory (images/postgres/Dockerfile). */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface StatefulSetInputs {
  image: string;
  /** Replicas the StatefulSet should have now (a scale-down waits for a switchover first). */
  replicas: number;
  /** Hash of the Patroni configuration the pods run with (a change rolls them). */
  configHash: string;
  /**
   * The data volume size the StatefulSet was created with: claim templates are immutable
   * (storage/ recreates the StatefulSet once every claim asks for more).
   */
  existingVolumeSize?: string;
  /** The same for spec.walStorage's volume. */
  existingWalVolumeSize?: string;
}

const fromSecret = (name: string, secret: string, key: string): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});
const fromField = (name: string, fieldPath: string): V1EnvVar => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

/** spec.resources as a Pod's resources (quantities as strings; integers are whole units). */
export function resourceRequirements(resources: PostgresCluster['spec']['resources']) {
  const list = (amounts?: { cpu?: string | number; memory?: string | number }) =>
    amounts && Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, String(v)]));
  return { requests: list(resources?.requests), limits: list(resources?.limits) };
}

/** A short hash of a configuration text, for a pod annotation that rolls the pods when it changes. */
/** Pods of the selector on different nodes where the scheduler can, on the same ones otherwise. */
export function preferDifferentNodes(selector: Record<string, string>): V1Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: selector },
          },
        },
      ],
    },
  };
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * The hash of what a running pod uses from patroni.yml. The bootstrap section is left out: it
 * matters only when the cluster is initialized, and its PostgreSQL parameters reach a running
 * cluster through Patroni's REST API without restarting anyone who does not need it.
 */
export function configHash(config: Record<string, unknown>): string {
  return contentHash(JSON.stringify({ ...config, bootstrap: undefined }));
}

/**
 * /etc/pgbackrest: the configuration and wrapper from the ConfigMap, and from Secrets the S3
 * credentials and CA, or a PVC repository's TLS client certificate, as one projected volume
 * (kubelet keeps all of it up to date).
 */
function pgbackrestVolume(cluster: PostgresCluster, configMap: string): V1Volume | undefined {
  const own = ownRepository(cluster);
  if (!own) return undefined;
  return {
    name: 'pgbackrest',
    projected: {
      sources: [
        {
          configMap: {
            name: configMap,
            items: [
              { key: PGBACKREST_CONFIG_KEY, path: 'pgbackrest.conf' },
              { key: PGBACKREST_WRAPPER_KEY, path: 'bin/pgbackrest', mode: 0o555 },
            ],
          },
        },
        ...repositorySecretSources(own),
      ],
    },
  };
}

/**
 * A Secret of certificates as files: /etc/pgop/tls (the cluster's CA and the instances', the
 * replication's and the rewind's certificates and keys, never the CA's key), and the user's
 * server certificate. Keys are read by the postgres user through fsGroup (PostgreSQL and libpq
 * accept a root-owned key readable by its group); kubelet replaces the files on renewal.
 */
function tlsVolume(secretName: string, keys: string[], name = 'tls'): V1Volume {
  return {
    name,
    secret: { secretName, defaultMode: OWNER_GROUP_READ, items: keys.map((key) => ({ key, path: key })) },
  };
}

function claimTemplate(
  cluster: PostgresCluster,
  name: string,
  volume: PostgresCluster['spec']['storage'],
  existingSize: string | undefined,
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, labels: clusterLabels(cluster, DATABASE_COMPONENT) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(volume.storageClass ? { storageClassName: volume.storageClass } : {}),
      resources: { requests: { storage: existingSize ?? volume.size } },
    },
  };
}

export function renderStatefulSet(cluster: PostgresCluster, inputs: StatefulSetInputs): V1StatefulSet {
  const name = cluster.metadata.name!;
  const names = childNames(name);
  const selector = instanceSelector(name);
  const { storage, walStorage, resources, persistentVolumeClaimRetentionPolicy: pvcPolicy } = cluster.spec;
  const pgbackrest = pgbackrestVolume(cluster, names.patroniConfigMap);
  const serverSecret = cluster.spec.tls?.serverCertificateSecret;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    // Patroni's API speaks HTTPS only; the kubelet does not check the certificate.
    httpGet: { path, port: 'patroni', scheme: 'HTTPS' },
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      ...childMetadata(cluster, names.statefulSet, DATABASE_COMPONENT),
      labels: {
        ...clusterLabels(cluster, DATABASE_COMPONENT),
        [MAJOR_VERSION_LABEL]: String(cluster.spec.version),
      },
    },
    spec: {
      replicas: inputs.replicas,
      serviceName: names.podsService,
      selector: { matchLabels: selector },
      // Patroni decides who initializes the cluster; there is no reason to start pods one by one.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      persistentVolumeClaimRetentionPolicy: {
        whenScaled: pvcPolicy?.whenScaled ?? 'Retain',
        whenDeleted: pvcPolicy?.whenDeleted ?? 'Retain',
      },
      template: {
        metadata: {
          labels: clusterLabels(cluster, DATABASE_COMPONENT),
          annotations: {
            [CONFIG_HASH_ANNOTATION]: inputs.configHash,
            // kubectl exec and logs without -c: PostgreSQL's container, not the metrics one.
            'kubectl.kubernetes.io/default-container': DATABASE_CONTAINER,
          },
        },
        spec: {
          serviceAccountName: names.instanceServiceAccount,
          // Patroni stops PostgreSQL with a fast shutdown and hands over the leader key.
          terminationGracePeriodSeconds: 60,
          ...postgresImagePodSpec(cluster),
          affinity: preferDifferentNodes(selector),
          containers: [
            {
              name: DATABASE_CONTAINER,
              image: inputs.image,
              // pgop-fence runs Patroni and is its watchdog: when Patroni holds the leader lock
              // but no longer renews it, it kills that Patroni, stops PostgreSQL and starts a
              // fresh Patroni after the hold (images/postgres/pgop-fence).
              command: [FENCE_COMMAND, 'patroni', `${PATRONI_CONFIG_DIR}/${PATRONI_CONFIG_FILE}`],
              env: [
                fromField('PATRONI_NAME', 'metadata.name'),
                fromField('PATRONI_KUBERNETES_NAMESPACE', 'metadata.namespace'),
                fromField('PATRONI_KUBERNETES_POD_IP', 'status.podIP'),
                // The members replicate from the leader by its DNS name, which the instances'
                // certificate covers (verify-full); the API is called at the pod IP.
                {
                  name: 'PATRONI_POSTGRESQL_CONNECT_ADDRESS',
                  value: `${instanceHostName(name, cluster.metadata.namespace!, '$(PATRONI_NAME)')}:${POSTGRES_PORT}`,
                },
                {
                  name: 'PATRONI_RESTAPI_CONNECT_ADDRESS',
                  value: `$(PATRONI_KUBERNETES_POD_IP):${PATRONI_PORT}`,
                },
                fromSecret('PATRONI_SUPERUSER_USERNAME', names.superuserSecret, 'username'),
                fromSecret('PATRONI_SUPERUSER_PASSWORD', names.superuserSecret, 'password'),
                fromSecret('PATRONI_REPLICATION_USERNAME', names.replicationSecret, 'username'),
                fromSecret('PATRONI_REPLICATION_PASSWORD', names.replicationSecret, 'password'),
                fromSecret('PATRONI_REWIND_USERNAME', names.rewindSecret, 'username'),
                fromSecret('PATRONI_REWIND_PASSWORD', names.rewindSecret, 'password'),
                { name: 'PGDATA', value: PGDATA },
                { name: 'PGHOST', value: SOCKET_DIR },
                { name: 'PGOP_WATCHDOG_DEVICE', value: WATCHDOG_DEVICE },
                { name: 'PGOP_FENCE_HOLD_SECONDS', value: String(FENCE_HOLD_SECONDS) },
                // pgop-fence has Patroni reload renewed certificates (see the volumes below).
                {
                  name: 'PGOP_TLS_DIRS',
                  value: [CLUSTER_TLS_DIR, ...(serverSecret ? [SERVER_TLS_DIR] : [])].join(':'),
                },
                // The root filesystem is read-only; psql history and the like go to /tmp.
                { name: 'HOME', value: '/tmp' },
                ...(pgbackrest
                  ? [
                      {
                        name: 'PATH',
                        value: `${PGBACKREST_BIN_DIR}:/usr/lib/postgresql/${cluster.spec.version}/bin:${SYSTEM_PATH}`,
                      },
                    ]
                  : []),
              ],
              ports: [
                { name: 'postgresql', containerPort: POSTGRES_PORT },
                { name: 'patroni', containerPort: PATRONI_PORT },
              ],
              // 60 s for Patroni to come up (and start its HA loop) before liveness applies.
              startupProbe: probe('/liveness', 5, 12),
              // /liveness: the HA loop ran within ttl; restarts a hung Patroni, never for SQL load.
              livenessProbe: probe('/liveness', 10, 3),
              // /readiness: the leader, or a replica that is running and knows the cluster.
              readinessProbe: probe('/readiness', HA_TIMING.loop_wait, 3),
              resources: resourceRequirements(resources),
              securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: DATA_VOLUME_MOUNT },
                ...(walStorage ? [{ name: WAL_VOLUME, mountPath: WAL_VOLUME_MOUNT }] : []),
                { name: 'patroni-config', mountPath: PATRONI_CONFIG_DIR, readOnly: true },
                { name: 'tls', mountPath: CLUSTER_TLS_DIR, readOnly: true },
                ...(serverSecret ? [{ name: 'server-tls', mountPath: SERVER_TLS_DIR, readOnly: true }] : []),
                { name: 'run', mountPath: SOCKET_DIR },
                { name: 'tmp', mountPath: '/tmp' },
                ...(pgbackrest ? [{ name: pgbackrest.name, mountPath: PGBACKREST_DIR, readOnly: true }] : []),
              ],
            },
            metricsContainer(inputs.image),
          ],
          volumes: [
            { name: 'patroni-config', configMap: { name: names.patroniConfigMap } },
            tlsVolume(names.tlsSecret, Object.values(CLUSTER_TLS_KEYS)),
            ...(serverSecret
              ? [tlsVolume(serverSecret, Object.values(SERVER_SECRET_KEYS), 'server-tls')]
              : []),
            { name: 'run', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
            ...(pgbackrest ? [pgbackrest] : []),
          ],
        },
      },
      volumeClaimTemplates: [
        claimTemplate(cluster, DATA_VOLUME, storage, inputs.existingVolumeSize),
        ...(walStorage ? [claimTemplate(cluster, WAL_VOLUME, walStorage, inputs.existingWalVolumeSize)] : []),
      ],
    },
  };
}
