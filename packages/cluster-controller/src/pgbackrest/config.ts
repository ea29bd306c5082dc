/**
 * pgBackRest inside the instance pods, for spec.backup: its configuration file (no secrets), a
 * small wrapper that hands it the S3 credentials from files, and the PostgreSQL commands that
 * archive WAL to the repository and fetch it back. A PVC repository is reached over pgBackRest's
 * TLS protocol on the repository host (repo-host.ts), so every instance reaches it after a failover.
 *
 * Credentials never go into the ConfigMap or on a command line: the Secret's keys are projected
 * as files, and the wrapper exports them as PGBACKREST_* variables on every call, so a rotated
 * Secret reaches pgBackRest (kubelet refreshes the files) without restarting anything.
 */
import type { V1VolumeProjection } from '@kubernetes/client-node';
import { PGBACKREST_COMMAND, PGBACKREST_STANZA, type PostgresCluster, type Repository } from '@pgop/api';
import { childNames } from '../naming.js';
import { DATA_VOLUME_MOUNT, PGDATA, POSTGRES_PORT, SOCKET_DIR, WAL_VOLUME_MOUNT } from '../instance-paths.js';
import {
  ownRepository,
  repositoryHostNames,
  repositoryPathOf,
  s3Address,
  type RepositoryOf,
} from './repository.js';

export const STANZA = PGBACKREST_STANZA;
export const PGBACKREST_DIR = '/etc/pgbackrest';
export const PGBACKREST_CONFIG_KEY = 'pgbackrest.conf';
export const PGBACKREST_WRAPPER_KEY = 'pgbackrest-wrapper';
export const REPOSITORY_HOST_CONFIG_KEY = 'pgbackrest-repo-host.conf';
/** On PATH before /usr/bin, so `kubectl exec ... -- pgbackrest info` uses the credentials too. */
export const PGBACKREST_BIN_DIR = `${PGBACKREST_DIR}/bin`;
export const PGBACKREST = PGBACKREST_COMMAND;
const SECRET_DIR = `${PGBACKREST_DIR}/secret`;
/** The S3 CA, relative to the pgBackRest directory. */
const CA_FILE_PATH = 'ca/ca.crt';
export const CA_FILE = `${PGBACKREST_DIR}/${CA_FILE_PATH}`;
/** Files in SECRET_DIR; the wrapper exports each as PGBACKREST_<name>. */
export const CREDENTIAL_FILES = {
  accessKeyId: 'REPO1_S3_KEY',
  secretAccessKey: 'REPO1_S3_KEY_SECRET',
} as const;
/** The Common Name of the instances' client certificate; the only client the repository host admits. */
export const REPOSITORY_CLIENT_NAME = 'pgop-pgbackrest';
/** The repository host's TLS server (pgBackRest's default port). */
export const REPOSITORY_HOST_PORT = 8432;
/** Where the repository host mounts the repository volume, and the repository inside it. */
export const REPOSITORY_VOLUME_MOUNT = '/pgbackrest';
export const PVC_REPOSITORY_PATH = `${REPOSITORY_VOLUME_MOUNT}/repo1`;
/** The TLS files under /etc/pgbackrest, and the keys of the cluster's TLS Secret they come from. */
export const TLS_FILES = {
  ca: { key: 'ca.crt', path: 'tls/ca.crt' },
  clientCertificate: { key: 'client.crt', path: 'tls/client.crt' },
  clientKey: { key: 'client.key', path: 'tls/client.key' },
  serverCertificate: { key: 'repo-host.crt', path: 'tls/server.crt' },
  serverKey: { key: 'repo-host.key', path: 'tls/server.key' },
} as const;
const tlsFile = (file: keyof typeof TLS_FILES, dir = PGBACKREST_DIR) => `${dir}/${TLS_FILES[file].path}`;

/** Read by the postgres user through fsGroup; nobody else (pgBackRest refuses laxer key files). */
export const OWNER_GROUP_READ = 0o440;

/** The projected TLS files an instance (client) or the repository host (server) needs. */
export function repositoryTlsSource(clusterName: string, side: 'client' | 'server') {
  const files =
    side === 'client'
      ? [TLS_FILES.ca, TLS_FILES.clientCertificate, TLS_FILES.clientKey]
      : [TLS_FILES.ca, TLS_FILES.serverCertificate, TLS_FILES.serverKey];
  return {
    secret: {
      name: childNames(clusterName).repositoryTlsSecret,
      items: files.map(({ key, path }) => ({ key, path, mode: OWNER_GROUP_READ })),
    },
  };
}

/**
 * The Secret files a repository's clients need, relative to the pgBackRest directory: the S3
 * credentials (secret/, exported by the wrapper) and CA, or the PVC repository's TLS client
 * certificate.
 */
export function repositorySecretSources(of: RepositoryOf): V1VolumeProjection[] {
  const s3 = of.repository.s3;
  if (!s3) return [repositoryTlsSource(of.clusterName, 'client')];
  const ca = s3.tls?.verify === false ? undefined : s3.tls?.caSecret;
  return [
    {
      secret: {
        name: s3.credentialsSecret.name,
        items: [
          {
            key: s3.credentialsSecret.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID',
            path: `secret/${CREDENTIAL_FILES.accessKeyId}`,
            mode: OWNER_GROUP_READ,
          },
          {
            key: s3.credentialsSecret.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY',
            path: `secret/${CREDENTIAL_FILES.secretAccessKey}`,
            mode: OWNER_GROUP_READ,
          },
        ],
      },
    },
    ...(ca ? [{ secret: { name: ca.name, items: [{ key: ca.key ?? 'ca.crt', path: CA_FILE_PATH }] } }] : []),
  ];
}

/** Same filesystem as pg_wal (so a queued segment is moved, not copied), but not inside it. */
function spoolPath(cluster: PostgresCluster): string {
  return `${cluster.spec.walStorage ? WAL_VOLUME_MOUNT : DATA_VOLUME_MOUNT}/pgbackrest-spool`;
}

export const PGBACKREST_WRAPPER = `#!/bin/sh
# pgop: run pgBackRest with the repository credentials read from files at each call, so a
# rotated Secret takes effect without a restart and never shows on a command line.
for file in ${SECRET_DIR}/*; do
  [ -f "$file" ] || continue
  export "PGBACKREST_$(basename "$file")=$(cat "$file")"
done
exec /usr/bin/pgbackrest "$@"
`;

/**
 * pgBackRest's INI text. A value with a line break would start a new option (a bucket name
 * `b\nrepo1-path=/elsewhere`): the API server's rules refuse such values, and this refuses them
 * again rather than trust that every rule ran (CEL is skipped for objects stored before a rule).
 */
export function ini(sections: Record<string, Record<string, string | number>>): string {
  return Object.entries(sections)
    .map(([name, options]) =>
      [`[${name}]`, ...Object.entries(options).map(([k, v]) => `${k}=${iniValue(k, v)}`)].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

function iniValue(option: string, value: string | number): string {
  const text = String(value);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text))
    throw new Error(
      `pgBackRest option ${option} has a control character (a line break?) in its value; it is refused`,
    );
  return text;
}

function s3RepositoryOptions(s3: NonNullable<Repository['s3']>, path: string, caFile: string) {
  const { host, port } = s3Address(s3);
  const verify = s3.tls?.verify ?? true;
  return {
    'repo1-type': 's3',
    'repo1-path': path,
    'repo1-s3-bucket': s3.bucket,
    'repo1-s3-endpoint': host,
    'repo1-storage-port': port,
    'repo1-s3-region': s3.region ?? 'us-east-1',
    'repo1-s3-uri-style': (s3.uriStyle ?? 'Host').toLowerCase(),
    ...(verify ? {} : { 'repo1-storage-verify-tls': 'n' }),
    ...(verify && s3.tls?.caSecret ? { 'repo1-storage-ca-file': caFile } : {}),
  };
}

/** A PVC repository, as its clients see it: on the repository host, over mutual TLS. */
function remoteRepositoryOptions(clusterName: string, namespace: string, configDir: string) {
  return {
    'repo1-host': repositoryHostNames(clusterName, namespace)[0]!,
    'repo1-host-type': 'tls',
    'repo1-host-port': REPOSITORY_HOST_PORT,
    'repo1-host-ca-file': tlsFile('ca', configDir),
    'repo1-host-cert-file': tlsFile('clientCertificate', configDir),
    'repo1-host-key-file': tlsFile('clientKey', configDir),
    'repo1-path': PVC_REPOSITORY_PATH,
  };
}

/**
 * pgBackRest's repo1 options for a repository, with its credential, CA and TLS files under
 * configDir (the directory its projected volume is mounted at).
 */
export function repositoryOptions(of: RepositoryOf, configDir = PGBACKREST_DIR) {
  const s3 = of.repository.s3;
  return s3
    ? s3RepositoryOptions(s3, repositoryPathOf(of), `${configDir}/${CA_FILE_PATH}`)
    : remoteRepositoryOptions(of.clusterName, of.namespace, configDir);
}

/** /etc/pgbackrest/pgbackrest.conf of the instances, or undefined without spec.backup. */
export function pgbackrestConf(cluster: PostgresCluster): string | undefined {
  const own = ownRepository(cluster);
  if (!own) return undefined;
  return ini({
    global: {
      ...repositoryOptions(own),
      // pgop decides retention (count, days, keep-forever) and runs `expire --set` itself; this
      // only keeps pgBackRest's own automatic expiry after each backup from removing anything.
      'repo1-retention-full': 9999999,
      'archive-async': 'y',
      'spool-path': spoolPath(cluster),
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

/**
 * pgbackrest.conf of the repository host: a TLS server that serves the repository volume to
 * clients presenting the cluster's client certificate, and nobody else.
 */
export function repositoryHostConf(): string {
  return ini({
    global: {
      'repo1-path': PVC_REPOSITORY_PATH,
      'tls-server-address': '*',
      'tls-server-port': REPOSITORY_HOST_PORT,
      'tls-server-ca-file': tlsFile('ca'),
      'tls-server-cert-file': tlsFile('serverCertificate'),
      'tls-server-key-file': tlsFile('serverKey'),
      // Every stanza: the host serves this cluster's repository only, and `pgbackrest info`
      // without --stanza (the backups demo) lists them all.
      'tls-server-auth': `${REPOSITORY_CLIENT_NAME}=*`,
      'log-level-console': 'warn',
      'log-level-file': 'off',
    },
  });
}

/**
 * The PostgreSQL parameters for WAL archiving (archiving: see archivingEnabled in repository.ts);
 * archive_mode stays on so enabling needs no restart.
 */
export function archiveParameters(archiving: boolean): Record<string, string> {
  return {
    archive_mode: 'on',
    archive_command: archiving ? `${PGBACKREST} --stanza=${STANZA} archive-push "%p"` : '/bin/true',
  };
}

/** What a replica (or a restore) runs to fetch WAL it cannot stream, when a repository is set. */
export function restoreCommand(archiving: boolean): string | undefined {
  return archiving ? `${PGBACKREST} --stanza=${STANZA} archive-get %f "%p"` : undefined;
}
