/**
 * What stops pgop from applying a cluster's spec: an invalid spec, no image for its version, an
 * image from a registry the operator does not allow, or a major version change it cannot make. While blocked, the children are left as they are and
 * condition Progressing says why. Pure.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import { validatePostgresCluster, type PostgresCluster } from '@pgop/api';
import { imageAllowed } from './images.js';
import { MAJOR_VERSION_LABEL } from './naming.js';

/** A problem that stops pgop from applying the spec (the children are left as they are). */
export interface Blocker {
  reason: string;
  message: string;
}

/** Reasons not to touch the children: an invalid spec, no image, or a major version change. */
export function checkSpec(
  cluster: PostgresCluster,
  statefulSet: V1StatefulSet | undefined,
  image: string | undefined,
  allowedImageRegistries: readonly string[] = [],
): Blocker | undefined {
  const validation = validatePostgresCluster(cluster);
  if (!validation.valid)
    return {
      reason: 'InvalidSpec',
      message: validation.issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    };
  if (!image)
    return {
      reason: 'NoImageForVersion',
      message: `no PostgreSQL image is configured for version ${cluster.spec.version}: set spec.image, or install the operator with an image for it (Helm value postgresImages)`,
    };
  if (cluster.spec.image && !imageAllowed(cluster.spec.image, allowedImageRegistries))
    return {
      reason: 'ImageNotAllowed',
      message: `spec.image ${cluster.spec.image} is not from a registry this operator allows (${allowedImageRegistries.join(', ')}): use an image from one of them, or remove spec.image to use the operator's image for version ${cluster.spec.version}`,
    };
  const running = statefulSet?.metadata?.labels?.[MAJOR_VERSION_LABEL];
  if (running !== undefined && running !== String(cluster.spec.version))
    return {
      reason: 'MajorVersionChangeRefused',
      message: `spec.version ${cluster.spec.version} differs from the major version of the data (${running}): in-place major upgrades are not supported yet; set spec.version back to ${running}, or restore a backup into a new cluster of version ${cluster.spec.version}`,
    };
  return undefined;
}
