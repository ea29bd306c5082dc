/**
 * The security settings of every pod pgop runs from the PostgreSQL image (instances and the
 * repository host): the image's postgres user, which owns the volumes through fsGroup, and a
 * container that passes the "restricted" Pod Security Standard.
 */
import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';

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
