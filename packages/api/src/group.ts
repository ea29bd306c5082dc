/** The API group, version and kinds of pgop. */
export const GROUP = 'postgres.example.com';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const KINDS = {
  PostgresCluster: { kind: 'PostgresCluster', plural: 'postgresclusters', singular: 'postgrescluster' },
  PostgresBackup: { kind: 'PostgresBackup', plural: 'postgresbackups', singular: 'postgresbackup' },
  PostgresRestore: { kind: 'PostgresRestore', plural: 'postgresrestores', singular: 'postgresrestore' },
} as const;

export type KindName = keyof typeof KINDS;

/** apiVersion, kind and the cluster-wide list path of one of pgop's kinds (for an informer). */
export function resourceOf(name: KindName) {
  const { kind, plural } = KINDS[name];
  return { apiVersion: API_VERSION, kind, path: `/apis/${GROUP}/${VERSION}/${plural}` };
}
