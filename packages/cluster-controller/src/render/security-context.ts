/**
 * The security settings of every pod pgop runs from the PostgreSQL image (instances and the
 * repository host) and of the pooler's (its image's user has the same uid): the image's postgres user, which owns the volumes through fsGroup, and a
 * container that passes the "restricted" Pod Security Standard.
 */
import type { V1PodSecurityContext, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';

/** The postgres user and group of images/postgres (a fixed numeric uid, so runAsNonRoot can be verified). */
export const POSTGRES_UID = 999;

export const POSTGRES_POD_SECURITY_CONTEXT: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: POSTGRES_UID,
  runAsGroup: POSTGRES_UID,
  fsGroup: POSTGRES_UID,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
};

export const RESTRICTED_CONTAINER_SECURITY_CONTEXT: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

/**
 * What every pod of a cluster run from the PostgreSQL image shares (instances, repository host,
 * restore Job), and the pooler's: the security context above, no Service environment variables, and the nodes
 * spec.scheduling allows.
 */
export function postgresImagePodSpec(
  cluster: PostgresCluster,
): Pick<V1PodSpec, 'enableServiceLinks' | 'securityContext' | 'nodeSelector' | 'tolerations'> {
  return {
    enableServiceLinks: false,
    securityContext: POSTGRES_POD_SECURITY_CONTEXT,
    nodeSelector: cluster.spec.scheduling?.nodeSelector,
    tolerations: cluster.spec.scheduling?.tolerations,
  };
}
