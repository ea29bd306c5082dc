/**
 * pgBackRest inside the instance pods, for spec.backup: its configuration file (no secrets), a
 * small wrapper that hands it the S3 credentials from files, and the PostgreSQL commands that
 * archive WAL to the repository and fetch it back.
 *
 * Credentials never go into the ConfigMap or on a command line: the Secret's keys are projected
 * as files, and the wrapper exports them as PGBACKREST_* variables on every call, so a rotated
 * Secret reaches pgBackRest (kubelet refreshes the files) without restarting anything.
 */
import { PGBACKREST_COMMAND, PGBACKREST_STANZA, type PostgresCluster, type Repository } from '@pgop/api';
import { DATA_VOLUME_MOUNT, PGDATA, POSTGRES_PORT, SOCKET_DIR } from './instance-paths.js';

export const STANZA = PGBACKREST_STANZA;
export const PGBACKREST_DIR = '/etc/pgbackrest';
export const PGBACKREST_CONFIG_KEY = 'pgbackrest.conf';
export const PGBACKREST_WRAPPER_KEY = 'pgbackrest-wrapper';
/** On PATH before /usr/bin, so `kubectl exec ... -- pgbackrest info` uses the credentials too. */
export const PGBACKREST_BIN_DIR = `${PGBACKREST_DIR}/bin`;
export const PGBACKREST = PGBACKREST_COMMAND;
const SECRET_DIR = `${PGBACKREST_DIR}/secret`;
export const CA_FILE = `${PGBACKREST_DIR}/ca/ca.crt`;
/** Files in SECRET_DIR; the wrapper exports each as PGBACKREST_<name>. */
export const CREDENTIAL_FILES = {
  accessKeyId: 'REPO1_S3_KEY',
  secretAccessKey: 'REPO1_S3_KEY_SECRET',
} as const;
/** Same filesystem as pg_wal (so a queued segment is moved, not copied), but not inside it. */
export const SPOOL_PATH = `${DATA_VOLUME_MOUNT}/pgbackrest-spool`;

export const PGBACKREST_WRAPPER = `#!/bin/sh
# pgop: run pgBackRest with the repository credentials read from files at each call, so a
# rotated Secret takes effect without a restart and never shows on a command line.
for file in ${SECRET_DIR}/*; do
  [ -f "$file" ] || continue
  export "PGBACKREST_$(basename "$file")=$(cat "$file")"
done
exec /usr/bin/pgbackrest "$@"
`;

/** The repository's directory: spec.backup.s3.path, or one per namespace and cluster. */
export function repositoryPath(cluster: PostgresCluster): string {
  return (
    cluster.spec.backup?.s3?.path ?? `/pgbackrest/${cluster.metadata.namespace}/${cluster.metadata.name}`
  );
}

/** Where WAL goes, as a URL without credentials (status.backup.repository), or undefined. */
export function repositoryUrl(cluster: PostgresCluster): string | undefined {
  const s3 = cluster.spec.backup?.s3;
  if (!s3) return undefined;
  return `s3://${s3.bucket}${repositoryPath(cluster)}`;
}

/**
 * Archiving is on once pgop has checked the repository accepts writes (status.backup.repository
 * names it): before that, WAL would pile up in pg_wal behind a bucket that cannot take it.
 */
export function archivingEnabled(cluster: PostgresCluster): boolean {
  const url = repositoryUrl(cluster);
  return url !== undefined && cluster.status?.backup?.repository === url;
}

export interface S3Address {
  host: string;
  port: number;
}

/** Host and port of the S3 endpoint (the AWS endpoint of the region when none is given). */
export function s3Address(s3: NonNullable<Repository['s3']>): S3Address {
  if (!s3.endpoint) return { host: `s3.${s3.region ?? 'us-east-1'}.amazonaws.com`, port: 443 };
  const url = new URL(s3.endpoint);
  return { host: url.hostname, port: url.port ? Number(url.port) : 443 };
}

function ini(sections: Record<string, Record<string, string | number>>): string {
  return Object.entries(sections)
    .map(([name, options]) =>
      [`[${name}]`, ...Object.entries(options).map(([k, v]) => `${k}=${v}`)].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

/** /etc/pgbackrest/pgbackrest.conf, or undefined without spec.backup (PVC: not built yet). */
export function pgbackrestConf(cluster: PostgresCluster): string | undefined {
  const s3 = cluster.spec.backup?.s3;
  if (!s3) return undefined;
  const { host, port } = s3Address(s3);
  const verify = s3.tls?.verify ?? true;
  return ini({
    global: {
      'repo1-type': 's3',
      'repo1-path': repositoryPath(cluster),
      'repo1-s3-bucket': s3.bucket,
      'repo1-s3-endpoint': host,
      'repo1-storage-port': port,
      'repo1-s3-region': s3.region ?? 'us-east-1',
      'repo1-s3-uri-style': (s3.uriStyle ?? 'Host').toLowerCase(),
      ...(verify ? {} : { 'repo1-storage-verify-tls': 'n' }),
      ...(verify && s3.tls?.caSecret ? { 'repo1-storage-ca-file': CA_FILE } : {}),
      // pgop decides retention (count, days, keep-forever) and runs `expire --set` itself; this
      // only keeps pgBackRest's own automatic expiry after each backup from removing anything.
      'repo1-retention-full': 9999999,
      'archive-async': 'y',
      'spool-path': SPOOL_PATH,
      // The root filesystem is read-only: logs go to the console (PostgreSQL's log, Job output).
      'log-level-file': 'off',
      'start-fast': 'y',
    },
    [STANZA]: {
      'pg1-path': PGDATA,
      'pg1-port': POSTGRES_PORT,
      'pg1-socket-path': SOCKET_DIR,
    },
  });
}

/** The PostgreSQL parameters for WAL archiving; archive_mode stays on so enabling needs no restart. */
export function archiveParameters(cluster: PostgresCluster): Record<string, string> {
  return {
    archive_mode: 'on',
    archive_command: archivingEnabled(cluster)
      ? `${PGBACKREST} --stanza=${STANZA} archive-push "%p"`
      : '/bin/true',
  };
}

/** What a replica (or a restore) runs to fetch WAL it cannot stream, when a repository is set. */
export function restoreCommand(cluster: PostgresCluster): string | undefined {
  return archivingEnabled(cluster) ? `${PGBACKREST} --stanza=${STANZA} archive-get %f "%p"` : undefined;
}
