/**
 * Which PostgreSQL image runs each major version: spec.image when set, otherwise the
 * operator's catalog, configured at install time (Helm value postgresImages, passed as
 * PGOP_POSTGRES_IMAGES="15=repo/postgres:15,17=repo/postgres:17").
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
