/**
 * The login roles pgop keeps in line with their Secrets: the application's (an unprivileged role
 * owning one database, with the Secret `<cluster>-app` applications mount: user, password, host,
 * port, dbname, ready connection strings), pg_rewind's (Patroni rewinds a diverged old primary as
 * it, so the superuser never has to log in over the network) and the superuser's (pgop and
 * Patroni reach it over the local socket, where no password is asked, so its password matters
 * only to people with spec.superuserAccess). The password in a Secret is the source of truth:
 * when it changes (a rotation), pgop sets it on the role, and the Secret's connection strings
 * follow. Pure.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { MONITOR_ROLE, type PostgresCluster } from '@pgop/api';
import { secretData } from '@pgop/runtime';
import { createHash } from 'node:crypto';
import { POSTGRES_PORT } from '../instance-paths.js';
import { childNames } from '../naming.js';

export const SUPERUSER = 'postgres';
export const REPLICATION_USER = 'replicator';
export const APPLICATION_USER = 'app';
export const APPLICATION_DATABASE = 'app';
export const REWIND_USER = 'rewinder';
/** On a Secret: a fingerprint of the password its role has, so a changed one is noticed. */
export const PASSWORD_APPLIED_ANNOTATION = 'postgres.example.com/password-applied';

/** What pg_rewind reads on the source server (PostgreSQL's documentation of pg_rewind). */
const REWIND_FUNCTIONS = [
  'pg_ls_dir(text, boolean, boolean)',
  'pg_stat_file(text, boolean)',
  'pg_read_binary_file(text)',
  'pg_read_binary_file(text, bigint, bigint, boolean)',
];

/**
 * The metrics container's role (monitoring/exporter.ts): pg_monitor reads statistics and
 * settings, never table data. It logs in only over the local socket (pg_ident), so it has no
 * password and no Secret: it is made with the superuser's role, idempotently.
 */
const MONITOR_ROLE_STATEMENTS = [
  `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${MONITOR_ROLE}') THEN CREATE ROLE ${MONITOR_ROLE} LOGIN; END IF; END $$`,
  `GRANT pg_monitor TO ${MONITOR_ROLE}`,
];

export interface ManagedRole {
  user: string;
  secretName: string;
  /** Role attributes beyond LOGIN and the password. */
  attributes: string;
  /** Statements after the role exists: its grants (idempotent). */
  grants: string[];
  /** The database the role owns, created when missing. */
  database?: string;
  /** Whether the Secret carries connection strings derived from the password. */
  connectionDetails: boolean;
}

export function managedRoles(clusterName: string): ManagedRole[] {
  const names = childNames(clusterName);
  return [
    {
      user: APPLICATION_USER,
      secretName: names.applicationSecret,
      attributes: 'NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS',
      grants: [],
      database: APPLICATION_DATABASE,
      connectionDetails: true,
    },
    {
      user: REWIND_USER,
      secretName: names.rewindSecret,
      attributes: 'NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS',
      grants: REWIND_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION pg_catalog.${f} TO ${REWIND_USER}`),
      connectionDetails: false,
    },
    {
      user: SUPERUSER,
      secretName: names.superuserSecret,
      attributes: 'SUPERUSER',
      grants: MONITOR_ROLE_STATEMENTS,
      connectionDetails: true,
    },
  ];
}

/**
 * Not the password: a digest that tells whether the Secret's password is the applied one, to
 * the data the cluster runs now. An in-place restore brings back the roles as they were at the
 * backup (status.restore.requestId changes with it), so every password is applied again.
 */
export function passwordFingerprint(username: string, password: string, dataGeneration = ''): string {
  return createHash('sha256')
    .update(`${username}\0${password}\0${dataGeneration}`)
    .digest('hex')
    .slice(0, 32);
}

/** What a client needs to connect, derived from the user and password. */
export function connectionDetails(
  cluster: PostgresCluster,
  username: string,
  password: string,
  dbname: string,
): Record<string, string> {
  const host = `${childNames(cluster.metadata.name!).primaryService}.${cluster.metadata.namespace}.svc`;
  const port = String(POSTGRES_PORT);
  const user = encodeURIComponent(username);
  const secret = encodeURIComponent(password);
  const pgpassField = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  return {
    username,
    password,
    host,
    port,
    dbname,
    // verify-full: the client checks the server's certificate against the cluster's CA (ca.crt in
    // the same Secret, published by tls/runner.ts; libpq and pgJDBC read ~/.postgresql/root.crt
    // unless sslrootcert says where) and that it names the host.
    uri: `postgresql://${user}:${secret}@${host}:${port}/${encodeURIComponent(dbname)}?sslmode=verify-full`,
    'jdbc-uri': `jdbc:postgresql://${host}:${port}/${encodeURIComponent(dbname)}?user=${user}&password=${secret}&sslmode=verify-full`,
    pgpass: `${host}:${port}:${pgpassField(dbname)}:${pgpassField(username)}:${pgpassField(password)}\n`,
  };
}

export type RoleStep =
  | { type: 'none' }
  /** The Secret lacks a usable password: nothing is applied until it has one. */
  | { type: 'invalid'; message: string }
  /** Create the role (and database) if missing, set the password, record it on the Secret. */
  | { type: 'apply'; password: string; data: Record<string, string>; fingerprint: string; rotation: boolean };

/** What a managed role needs, given its Secret as it is now. */
export function decideRole(
  cluster: PostgresCluster,
  role: ManagedRole,
  secret: V1Secret | undefined,
): RoleStep {
  if (!secret) return { type: 'none' }; // created by the credentials step first
  const password = secretData(secret).password ?? '';
  if (password.length < 8 || /[\0\r\n]/.test(password))
    return {
      type: 'invalid',
      message: `Secret ${role.secretName} key password must hold at least 8 characters and no line breaks; role ${role.user} keeps its current password`,
    };
  const fingerprint = passwordFingerprint(role.user, password, cluster.status?.restore?.requestId);
  const applied = secret.metadata?.annotations?.[PASSWORD_APPLIED_ANNOTATION];
  if (applied === fingerprint) return { type: 'none' };
  return {
    type: 'apply',
    password,
    data: role.connectionDetails
      ? connectionDetails(cluster, role.user, password, role.database ?? 'postgres')
      : {},
    fingerprint,
    rotation: applied !== undefined,
  };
}

/**
 * SQL that makes the role, sets its password (a SCRAM verifier, never the password) and its
 * grants, and asks whether its database exists. Each statement runs on its own (psql -c), all
 * idempotent, so a retry after a partial run is safe. CREATE DATABASE cannot run in a DO block:
 * the runner creates it when the last statement answers 0.
 */
export function roleStatements(role: ManagedRole, verifier: string): string[] {
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role.user}') THEN CREATE ROLE ${role.user}; END IF; END $$`,
    `ALTER ROLE ${role.user} WITH LOGIN ${role.attributes} PASSWORD '${verifier}'`,
    ...role.grants,
    ...(role.database ? [`SELECT count(*) FROM pg_database WHERE datname = '${role.database}'`] : []),
  ];
}

export const createDatabaseStatement = (role: ManagedRole) =>
  `CREATE DATABASE ${role.database} OWNER ${role.user}`;
