/**
 * Which PostgreSQL image runs each major version: spec.image when set, otherwise the
 * operator's catalog, configured at install time (Helm value postgresImages, passed as
 * PGOP_POSTGRES_IMAGES="15=repo/postgres:15,17=repo/postgres:17"). And which registries a
 * spec.image may come from (Helm value allowedImageRegistries, PGOP_ALLOWED_IMAGE_REGISTRIES):
 * whoever may edit a PostgresCluster chooses the code its pods run, with the instances'
 * credentials, so a platform team can keep that to the registries it trusts.
 */
import type { PostgresCluster } from '@pgop/api';

export type ImageCatalog = ReadonlyMap<number, string>;

export function parseImageCatalog(value: string | undefined): ImageCatalog {
  const catalog = new Map<number, string>();
  for (const entry of (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [major, image] = entry.split('=', 2);
    if (!major || !image || !/^\d+$/.test(major))
      throw new Error(`PGOP_POSTGRES_IMAGES: "${entry}" is not <major>=<image>`);
    catalog.set(Number(major), image);
  }
  return catalog;
}

export function imageFor(cluster: PostgresCluster, catalog: ImageCatalog): string | undefined {
  return cluster.spec.image ?? catalog.get(cluster.spec.version);
}

/** PGOP_ALLOWED_IMAGE_REGISTRIES="registry.example.com,ghcr.io/team": empty allows any. */
export function parseAllowedRegistries(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

/**
 * The image reference with its registry spelled out, as the container runtime resolves it:
 * a first component without a dot, a colon or "localhost" is a Docker Hub repository.
 */
export function fullImageReference(image: string): string {
  const [first, ...rest] = image.split('/');
  const hasRegistry =
    rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  if (hasRegistry) return image;
  return rest.length > 0 ? `docker.io/${image}` : `docker.io/library/${image}`;
}

/**
 * Whether image is under one of the allowed prefixes (any, when none are set): a registry
 * ("registry.example.com") or a path in one ("ghcr.io/team"), compared with the full reference.
 */
export function imageAllowed(image: string, allowedRegistries: readonly string[]): boolean {
  if (allowedRegistries.length === 0) return true;
  const reference = fullImageReference(image);
  return allowedRegistries.some((prefix) => reference.startsWith(`${prefix}/`));
}
