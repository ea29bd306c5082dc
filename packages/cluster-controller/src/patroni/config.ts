/**
 * Patroni's configuration for one cluster, as pure data: the local patroni.yml every pod
 * mounts, and the dynamic configuration Patroni keeps in its DCS (written once by the bootstrap,
 * then kept in line with the spec through Patroni's REST API).
 * Passwords are not here: they reach Patroni as environment variables from Secrets; the
 * certificates are files of the cluster's TLS Secret (tls/cluster-certificates.ts).
 */
import {
  CLUSTER_LABEL,
  MONITOR_ROLE,
  POOLER_ROLE,
  ROLE_LABEL,
  VERIFY_ROLE,
  type PostgresCluster,
} from '@pgop/api';
import { REPLICATION_USER, REWIND_USER, SUPERUSER } from '../access/roles.js';
import { archiveParameters, restoreCommand } from '../pgbackrest/config.js';
import {
  PATRONI_PORT,
  PGDATA,
  POSTGRES_PORT,
  SOCKET_DIR,
  WAL_DIR,
  WATCHDOG_DEVICE,
} from '../instance-paths.js';
import { clusterTlsFile } from '../tls/cluster-certificates.js';
import { SERVER_SECRET_KEYS, SERVER_TLS_DIR } from '../tls/server-certificate.js';

export const PATRONI_CONFIG_DIR = '/etc/patroni';
export const PATRONI_CONFIG_FILE = 'patroni.yml';

/**
 * HA timing. Patroni's rule is loop_wait + 2 * retry_timeout <= ttl, with ttl >= 20: a primary
 * that cannot renew its lease for retry_timeout demotes itself before the lease (ttl) expires,
 * so no replica can be promoted while the old primary still takes writes. 5 + 2 * 7 = 19 <= 20.
 */
export const HA_TIMING = { ttl: 20, loop_wait: 5, retry_timeout: 7 } as const;
/** Seconds between the fence and the earliest moment the leader lock can expire. */
export const WATCHDOG_SAFETY_MARGIN = 5;
/**
 * Seconds pgop-fence waits after fencing before it starts a fresh Patroni: until the stalled
 * leader's lock has expired and every replica has had a loop to take it over. Sooner, the fresh
 * Patroni would renew the lock that still names its pod.
 */
export const FENCE_HOLD_SECONDS = WATCHDOG_SAFETY_MARGIN + HA_TIMING.loop_wait;

/** Parameters pgop sets on every cluster; the user cannot set these (OPERATOR_OWNED_PARAMETERS). */
const OPERATOR_PARAMETERS = {
  // pg_rewind after a failover needs hint bits WAL-logged (data checksums are on too).
  wal_log_hints: 'on',
  hot_standby: 'on',
  unix_socket_directories: SOCKET_DIR,
} as const;

/**
 * TLS: the server certificate pgop issued (tls/cluster-certificates.ts) or the user's
 * (spec.tls.serverCertificateSecret); pg_hba takes nothing else over the network. ssl_ca_file,
 * the cluster's CA, verifies the client certificates of replication and rewinds.
 */
function tlsParameters(cluster: PostgresCluster) {
  const own = !cluster.spec.tls?.serverCertificateSecret;
  return {
    ssl: 'on',
    ssl_cert_file: own
      ? clusterTlsFile('certificate')
      : `${SERVER_TLS_DIR}/${SERVER_SECRET_KEYS.certificate}`,
    ssl_key_file: own ? clusterTlsFile('key') : `${SERVER_TLS_DIR}/${SERVER_SECRET_KEYS.key}`,
    ssl_ca_file: clusterTlsFile('ca'),
  };
}

/** Defaults the user may override in spec.postgresql.parameters. */
const DEFAULT_PARAMETERS: Record<string, string | number> = {
  password_encryption: 'scram-sha-256',
  max_connections: 100,
  max_wal_senders: 10,
  max_replication_slots: 10,
  wal_level: 'replica',
  wal_keep_size: '128MB',
  // With a repository, at most a minute of WAL waits for its segment to fill before archiving.
  archive_timeout: '60s',
};

/** The PostgreSQL parameters of the cluster: defaults, then the user's, then pgop's own. */
export function postgresParameters(
  cluster: PostgresCluster,
  archiving: boolean,
): Record<string, string | number> {
  return {
    ...DEFAULT_PARAMETERS,
    ...(cluster.spec.postgresql?.parameters ?? {}),
    ...OPERATOR_PARAMETERS,
    ...tlsParameters(cluster),
    ...archiveParameters(archiving),
  };
}

/** The pg_ident map of local socket connections. */
const LOCAL_IDENT_MAP = 'local';

/**
 * Client authentication. Local socket connections map the OS user to database users through
 * pg_ident (the container runs as postgres): to the superuser (Patroni connects so), to the
 * replication role (Patroni's own replication connection), to the read-only role a restore
 * verification runs its query as (backup-controller job/verify.ts), and to the metrics
 * container's pg_monitor role (monitoring/exporter.ts), which need no password that way. Over the network only TLS is accepted (`hostssl`; a
 * plaintext connection matches no line and is refused): Patroni's replication and rewind roles
 * by the client certificates the cluster's CA issued them (`cert` verifies one and takes the role
 * from its CN), everyone else by SCRAM password. The replication role replicates and does nothing
 * else: its password (which Patroni sets) logs it in nowhere. The superuser may not log in over the network unless
 * spec.superuserAccess says so. Patroni rewinds as its own role (access/roles.ts), and
 * applications use the application role.
 */
function pgHba(cluster: PostgresCluster): string[] {
  return [
    `local all all peer map=${LOCAL_IDENT_MAP}`,
    `local replication ${REPLICATION_USER} peer map=${LOCAL_IDENT_MAP}`,
    `hostssl replication ${REPLICATION_USER} all cert`,
    `hostssl all ${REPLICATION_USER} all reject`,
    `hostssl all ${REWIND_USER} all cert`,
    // spec.pooler's password lookups (access/pooler-role.ts), with the pooler's certificate.
    `hostssl postgres ${POOLER_ROLE} all cert`,
    `hostssl all ${POOLER_ROLE} all reject`,
    ...(cluster.spec.superuserAccess ? [] : [`hostssl all ${SUPERUSER} all reject`]),
    'hostssl all all all scram-sha-256',
  ];
}
const PG_IDENT = [
  `${LOCAL_IDENT_MAP} postgres ${SUPERUSER}`,
  `${LOCAL_IDENT_MAP} postgres ${VERIFY_ROLE}`,
  `${LOCAL_IDENT_MAP} postgres ${MONITOR_ROLE}`,
  `${LOCAL_IDENT_MAP} postgres ${REPLICATION_USER}`,
];

/** Patroni's synchronous replication settings for spec.replication. */
function replicationSettings(cluster: PostgresCluster) {
  const replication = cluster.spec.replication;
  const mode = replication?.mode ?? 'Async';
  if (mode === 'Async') return { synchronous_mode: 'off' };
  return {
    synchronous_mode: mode === 'Sync' ? 'on' : 'quorum',
    synchronous_mode_strict: replication?.strict ?? false,
    synchronous_node_count: replication?.synchronousReplicas ?? 1,
  };
}

/** Patroni writes these recovery settings for replicas (and, in PostgreSQL 12+, as parameters). */
function recoveryConf(archiving: boolean) {
  const restore_command = restoreCommand(archiving);
  return restore_command ? { recovery_conf: { restore_command } } : {};
}

/**
 * The cluster-wide configuration Patroni keeps in the DCS (`patronictl show-config`); archiving:
 * whether WAL goes to the repository (see archivingEnabled in pgbackrest/repository.ts).
 */
export function dynamicConfiguration(cluster: PostgresCluster, archiving: boolean) {
  return {
    ...HA_TIMING,
    // Keep the primary writable while the API server is unreachable, as long as every member
    // confirms it over Patroni's REST API (no member can be promoted meanwhile).
    failsafe_mode: true,
    // A crashed PostgreSQL on the primary gets 5 s to come back before a replica takes over:
    // worst case loop_wait + 5 + loop_wait = 15 s (the target), and most crash restarts take
    // 1-2 s, which loses nothing even in async mode. See docs/ha.md.
    primary_start_timeout: 5,
    // A replica more than 1 MiB of WAL behind is not promoted automatically: the bound on what
    // an async failover may lose.
    maximum_lag_on_failover: 1048576,
    check_timeline: true,
    ...replicationSettings(cluster),
    postgresql: {
      use_pg_rewind: true,
      use_slots: true,
      parameters: postgresParameters(cluster, archiving),
      pg_hba: pgHba(cluster),
      pg_ident: PG_IDENT,
      ...recoveryConf(archiving),
    },
  };
}

/** patroni.yml, the same for every pod of the cluster; pod-specific values come from env. */
export function patroniConfig(cluster: PostgresCluster, archiving: boolean) {
  const name = cluster.metadata.name!;
  return {
    scope: name,
    kubernetes: {
      // ConfigMaps, not Endpoints: the v1 Endpoints API is deprecated, and the Services select
      // the primary by the role label Patroni sets on its pod.
      use_endpoints: false,
      scope_label: CLUSTER_LABEL,
      role_label: ROLE_LABEL,
      labels: { 'app.kubernetes.io/component': 'database' },
    },
    // HTTPS with the instances' certificate. Every request that changes something needs a client
    // certificate from the cluster's CA, which only pgop and the members hold (verify_client
    // optional leaves the kubelet's probes and other reads without one); no password, which
    // could not be rotated without restarting Patroni.
    restapi: {
      listen: `0.0.0.0:${PATRONI_PORT}`,
      certfile: clusterTlsFile('certificate'),
      keyfile: clusterTlsFile('key'),
      cafile: clusterTlsFile('ca'),
      verify_client: 'optional',
    },
    // How this member calls the others' REST API (at their pod IPs, which no certificate names):
    // with its certificate, which is also a client certificate, and the server's chain verified
    // against the cluster's CA; `insecure` here only skips the host name check.
    ctl: {
      cacert: clusterTlsFile('ca'),
      certfile: clusterTlsFile('certificate'),
      keyfile: clusterTlsFile('key'),
      insecure: true,
    },
    bootstrap: {
      dcs: dynamicConfiguration(cluster, archiving),
      initdb: [
        { encoding: 'UTF8' },
        { locale: 'C.UTF-8' },
        'data-checksums',
        { 'auth-local': 'peer' },
        { 'auth-host': 'scram-sha-256' },
        // spec.walStorage: pg_wal on its own volume (a symlink from the data directory).
        ...(cluster.spec.walStorage ? [{ waldir: WAL_DIR }] : []),
      ],
    },
    postgresql: {
      listen: `0.0.0.0:${POSTGRES_PORT}`,
      data_dir: PGDATA,
      bin_dir: `/usr/lib/postgresql/${cluster.spec.version}/bin`,
      pgpass: '/tmp/pgpass',
      // Patroni's own connection to its PostgreSQL goes over the socket (the superuser by peer).
      use_unix_socket: true,
      // Patroni's own replication connection (the local timeline, before a rewind) over the
      // socket too: over TCP, verify-full would need "localhost" in the server certificate,
      // which one of the user's (spec.tls) does not name.
      use_unix_socket_repl: true,
      // Replication and rewinds connect to another member by its pod's DNS name over TLS, verify
      // that member's certificate against the cluster's CA (verify-full) and log in with their
      // own client certificates. Usernames (and unused passwords) come from the environment.
      authentication: {
        replication: {
          sslmode: 'verify-full',
          sslrootcert: clusterTlsFile('trustedCa'),
          sslcert: clusterTlsFile('replicationCertificate'),
          sslkey: clusterTlsFile('replicationKey'),
        },
        rewind: {
          sslmode: 'verify-full',
          sslrootcert: clusterTlsFile('trustedCa'),
          sslcert: clusterTlsFile('rewindCertificate'),
          sslkey: clusterTlsFile('rewindKey'),
        },
      },
      // A replica's pg_wal where initdb put the primary's (Patroni empties it with the data
      // directory before cloning again).
      basebackup: [{ checkpoint: 'fast' }, ...(cluster.spec.walStorage ? [{ waldir: WAL_DIR }] : [])],
      // A failed rewind or a diverged timeline: clone again from the primary instead of stopping.
      remove_data_directory_on_rewind_failure: true,
      remove_data_directory_on_diverged_timelines: true,
    },
    // The leader arms pgop-fence (the container's first process) and pets it after each lock
    // renewal; ttl - safety_margin = 15 s after the last renewal, 5 s before any replica may be
    // promoted, pgop-fence stops PostgreSQL (docs/ha.md, "Fencing a hung primary"). Required: a
    // Patroni that cannot arm it does not become the leader.
    watchdog: {
      mode: 'required',
      driver: 'testing',
      device: WATCHDOG_DEVICE,
      safety_margin: WATCHDOG_SAFETY_MARGIN,
    },
  };
}
