/**
 * PgBouncer's configuration for spec.pooler, one file per kind (read-write to the -primary
 * Service, read-only to -replica). Pure.
 *
 * Authentication: clients log in with their own role's password (SCRAM). PgBouncer holds no
 * password file: it asks the server for the role's SCRAM secret (auth_query, as pgop_pooler,
 * which logs in with the pooler's client certificate and may only call pgop.pooler_lookup, see
 * access/pooler-role.ts), then logs in to the server as the client with the keys the client's
 * own SCRAM exchange gave it. TLS on both sides: clients must use it (the pooler's certificate
 * is issued by the cluster's CA, pooler/certificates.ts), and the server is verified by name.
 */
import { POOLER_ROLE, type PostgresCluster } from '@pgop/api';
import { stringify } from 'yaml';
import { POSTGRES_PORT } from '../instance-paths.js';
import { childNames, type PoolerKind } from '../naming.js';

/** Where the pod finds its files (render/pooler.ts mounts them). */
export const POOLER_PATHS = {
  configDir: '/etc/pgbouncer',
  tlsDir: '/etc/pgop/tls',
  /** PgBouncer's Unix socket: pgop's PAUSE and RESUME, and the exporter, come in here. */
  socketDir: '/var/run/pgbouncer',
} as const;
export const POOLER_PORT = 5432;
/** PgBouncer's container in a pooler pod: where pgop's PAUSE and RESUME run. */
export const POOLER_CONTAINER = 'pgbouncer';
export const POOLER_METRICS_PORT = 9127;
/** The admin console's user: allowed in without a password over the socket, as PgBouncer's uid. */
export const POOLER_ADMIN_USER = 'pgbouncer';

/** Files in the pod's TLS directory: the pooler's own Secret's keys, and the cluster's trusted CAs. */
export const POOLER_TLS_FILES = {
  /** The cluster's CA: what clients verify the pooler with. */
  ca: 'ca.crt',
  certificate: 'tls.crt',
  key: 'tls.key',
  /** pgop_pooler's client certificate (CN pgop_pooler), presented to the server. */
  authCertificate: 'auth.crt',
  authKey: 'auth.key',
  /** The CAs of the instances' server certificates (the cluster's Secret <name>-tls). */
  trustedCa: 'trusted-ca.crt',
} as const;

/** The ConfigMap keys of each kind's pgbouncer.ini, and of the exporter's web configuration. */
export const POOLER_CONFIG_KEYS: Record<PoolerKind, string> = {
  readWrite: 'pgbouncer.ini',
  readOnly: 'pgbouncer-ro.ini',
};
export const EXPORTER_WEB_CONFIG_KEY = 'exporter-web.yml';

/** The SQL of auth_query: the lookup function only returns application roles (pooler-role.ts). */
const AUTH_QUERY = 'SELECT usename, passwd FROM pgop.pooler_lookup($1)';

/** Where a pooler pod finds one of its TLS files. */
export const poolerTlsFile = (file: keyof typeof POOLER_TLS_FILES) =>
  `${POOLER_PATHS.tlsDir}/${POOLER_TLS_FILES[file]}`;
const tls = poolerTlsFile;

export function pgbouncerIni(cluster: PostgresCluster, kind: PoolerKind): string {
  const pooler = cluster.spec.pooler ?? {};
  const names = childNames(cluster.metadata.name!);
  const service = kind === 'readWrite' ? names.primaryService : names.replicaService;
  // The name the instances' certificate carries (tls/cluster-certificates.ts): verify-full.
  const host = `${service}.${cluster.metadata.namespace}.svc`;
  const settings: [string, string | number][] = [
    ['listen_addr', '*'],
    ['listen_port', POOLER_PORT],
    ['unix_socket_dir', POOLER_PATHS.socketDir],
    ['auth_type', 'scram-sha-256'],
    ['auth_user', POOLER_ROLE],
    ['auth_query', AUTH_QUERY],
    ['auth_dbname', 'postgres'],
    ['admin_users', POOLER_ADMIN_USER],
    ['stats_users', POOLER_ADMIN_USER],
    ['pool_mode', pooler.poolMode ?? 'transaction'],
    ['max_client_conn', pooler.maxClientConnections ?? 1000],
    ['default_pool_size', pooler.defaultPoolSize ?? 20],
    // Drivers send these at start-up (pgJDBC: extra_float_digits); PgBouncer would refuse them.
    ['ignore_startup_parameters', 'extra_float_digits,options'],
    // A paused client waits (pgop's switchover) rather than failing: up to two minutes.
    ['query_wait_timeout', 120],
    // After a failed connection to the server (its primary gone in a failover) PgBouncer fails
    // every client at once for this long before trying again: 1 s, not 15, so the new primary
    // is used as soon as the Service leads to it.
    ['server_login_retry', 1],
    ['client_tls_sslmode', 'require'],
    ['client_tls_cert_file', tls('certificate')],
    ['client_tls_key_file', tls('key')],
    ['client_tls_ca_file', tls('ca')],
    ['server_tls_sslmode', 'verify-full'],
    ['server_tls_ca_file', tls('trustedCa')],
    ['server_tls_cert_file', tls('authCertificate')],
    ['server_tls_key_file', tls('authKey')],
    ['log_connections', 0],
    ['log_disconnections', 0],
  ];
  return [
    '[databases]',
    // Any database the client names, on the same server.
    `* = host=${host} port=${POSTGRES_PORT}`,
    '',
    '[pgbouncer]',
    ...settings.map(([key, value]) => `${key} = ${value}`),
    '',
  ].join('\n');
}

/**
 * The metrics container: prometheus-community's pgbouncer_exporter (Debian's
 * prometheus-pgbouncer-exporter), reading SHOW STATS, POOLS, DATABASES and CONFIG from the admin
 * console over the pod's socket and serving /metrics over HTTPS with the pooler's certificate.
 */
export function exporterCommand(): string[] {
  const console = `host=${POOLER_PATHS.socketDir} port=${POOLER_PORT} user=${POOLER_ADMIN_USER} dbname=pgbouncer sslmode=disable`;
  return [
    'prometheus-pgbouncer-exporter',
    `--web.listen-address=:${POOLER_METRICS_PORT}`,
    `--web.config.file=${POOLER_PATHS.configDir}/${EXPORTER_WEB_CONFIG_KEY}`,
    `--pgBouncer.connectionString=${console}`,
    '--log.format=json',
  ];
}

/** The exporter's web configuration (exporter-toolkit's format): TLS with the pooler's certificate. */
export function exporterWebConfig(): string {
  return stringify({ tls_server_config: { cert_file: tls('certificate'), key_file: tls('key') } });
}
