/**
 * A PVC repository (spec.backup.pvc): the volume, and the repository host that serves it, a
 * one-pod Deployment running pgBackRest's TLS server (`pgbackrest server`) with a Service in front.
 * The instances archive, back up and restore through it, so whichever pod is primary reaches the
 * same repository: a volume mounted on the primary alone would be lost to the next one at failover.
 *
 * The volume has no owner reference: deleting the cluster keeps its backups (as with S3, pgop
 * never deletes a repository); delete the PVC to remove them.
 */
import type {
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Secret,
  V1Service,
  V1Volume,
} from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import {
  childMetadata,
  childNames,
  clusterLabels,
  REPOSITORY_HOST_COMPONENT,
  repositoryHostSelector,
} from '../naming.js';
import type { RepositoryCertificates } from '../pgbackrest/certificates.js';
import { CA_KEY } from '../tls/certificates.js';
import {
  PGBACKREST_CONFIG_KEY,
  PGBACKREST_DIR,
  REPOSITORY_HOST_CONFIG_KEY,
  REPOSITORY_HOST_PORT,
  REPOSITORY_VOLUME_MOUNT,
  repositoryHostConf,
  repositoryTlsSource,
  TLS_FILES,
} from '../pgbackrest/config.js';
import { postgresImagePodSpec, RESTRICTED_CONTAINER_SECURITY_CONTEXT } from './security-context.js';
import { CONFIG_HASH_ANNOTATION } from '../naming.js';
import { contentHash } from './statefulset.js';

/** The CA (with its key, never mounted) and the server's and client's certificates and keys. */
export function renderRepositoryTlsSecret(cluster: PostgresCluster, certs: RepositoryCertificates): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(
      cluster,
      childNames(cluster.metadata.name!).repositoryTlsSecret,
      'pgbackrest-tls',
    ),
    type: 'Opaque',
    stringData: {
      [TLS_FILES.ca.key]: certs.caCertificate,
      [CA_KEY]: certs.caKey,
      [TLS_FILES.serverCertificate.key]: certs.serverCertificate,
      [TLS_FILES.serverKey.key]: certs.serverKey,
      [TLS_FILES.clientCertificate.key]: certs.clientCertificate,
      [TLS_FILES.clientKey.key]: certs.clientKey,
    },
  };
}

export function renderRepositoryHost(
  cluster: PostgresCluster,
  image: string,
  serverCertificate = '',
  existingSize?: string,
): [V1PersistentVolumeClaim, V1Service, V1Deployment] | [] {
  const pvc = cluster.spec.backup?.pvc;
  if (!pvc) return [];
  const names = childNames(cluster.metadata.name!);
  const volume: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    // No owner reference: the backups outlive the cluster.
    metadata: {
      name: names.repositoryVolume,
      namespace: cluster.metadata.namespace!,
      labels: clusterLabels(cluster, REPOSITORY_HOST_COMPONENT),
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(pvc.storageClass ? { storageClassName: pvc.storageClass } : {}),
      // A claim that exists keeps its request here: storage/ expands it where that is possible.
      resources: { requests: { storage: existingSize ?? pvc.size } },
    },
  };
  const selector = repositoryHostSelector(cluster.metadata.name!);
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(cluster, names.repositoryHost, REPOSITORY_HOST_COMPONENT),
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'pgbackrest', port: REPOSITORY_HOST_PORT, targetPort: 'pgbackrest', protocol: 'TCP' }],
    },
  };
  const config: V1Volume = {
    name: 'pgbackrest',
    projected: {
      sources: [
        {
          configMap: {
            name: names.patroniConfigMap,
            items: [{ key: REPOSITORY_HOST_CONFIG_KEY, path: PGBACKREST_CONFIG_KEY }],
          },
        },
        repositoryTlsSource(cluster.metadata.name!, 'server'),
      ],
    },
  };
  const tcpProbe = (periodSeconds: number) => ({
    tcpSocket: { port: 'pgbackrest' },
    periodSeconds,
    failureThreshold: 3,
  });
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(cluster, names.repositoryHost, REPOSITORY_HOST_COMPONENT),
    spec: {
      replicas: 1,
      // The volume is ReadWriteOnce: the old pod lets go of it before the new one starts.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: clusterLabels(cluster, REPOSITORY_HOST_COMPONENT),
          annotations: {
            [CONFIG_HASH_ANNOTATION]: contentHash(repositoryHostConf() + serverCertificate),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          ...postgresImagePodSpec(cluster),
          containers: [
            {
              name: 'pgbackrest',
              image,
              command: ['pgbackrest', 'server'],
              ports: [{ name: 'pgbackrest', containerPort: REPOSITORY_HOST_PORT }],
              readinessProbe: tcpProbe(10),
              livenessProbe: tcpProbe(30),
              resources: { requests: { cpu: '50m', memory: '64Mi' } },
              securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              volumeMounts: [
                { name: 'repository', mountPath: REPOSITORY_VOLUME_MOUNT },
                { name: config.name, mountPath: PGBACKREST_DIR, readOnly: true },
                // pgBackRest's lock files.
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'repository', persistentVolumeClaim: { claimName: names.repositoryVolume } },
            config,
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
  return [volume, service, deployment];
}
