/**
 * The application's access to a cluster: an unprivileged login role owning one database, and
 * the Secret `<cluster>-app` applications mount (user, password, host, port, dbname, ready
 * connection strings). The password in the Secret is the source of truth: when it changes (a
 * rotation), pgop sets it on the role and rewrites the connection strings. Pure.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { createHash } from 'node:crypto';
import { POSTGRES_PORT } from '../instance-paths.js';
import { childNames } from '../naming.js';

export const APPLICATION_USER = 'app';
export const APPLICATION_DATABASE = 'app';
/** On the Secret: a fingerprint of the password the role has, so a changed one is noticed. */
export const PASSWORD_APPLIED_ANNOTATION = 'postgres.example.com/password-applied';

/** Not the password: a digest that tells whether the Secret's password is the applied one. */
export function passwordFingerprint(username: string, password: string): string {
  return createHash('sha256').update(`${username}\0${password}`).digest('hex').slice(0, 32);
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
    uri: `postgresql://${user}:${secret}@${host}:${port}/${encodeURIComponent(dbname)}`,
    'jdbc-uri': `jdbc:postgresql://${host}:${port}/${encodeURIComponent(dbname)}?user=${user}&password=${secret}`,
    pgpass: `${host}:${port}:${pgpassField(dbname)}:${pgpassField(username)}:${pgpassField(password)}\n`,
  };
}

export type ApplicationAccessStep =
  | { type: 'none' }
  /** The Secret lacks a usable password: nothing is applied until it has one. */
  | { type: 'invalid'; message: string }
  /** Create the role and database if missing, set the password, rewrite the Secret's derived keys. */
  | { type: 'apply'; password: string; data: Record<string, string>; fingerprint: string; rotation: boolean };

/** What the application role needs, given its Secret as it is now. */
export function decideApplicationAccess(
  cluster: PostgresCluster,
  secret: V1Secret | undefined,
): ApplicationAccessStep {
  if (!secret) return { type: 'none' }; // created by the credentials step first
  const password = Buffer.from(secret.data?.password ?? '', 'base64').toString('utf8');
  if (password.length < 8 || /[\0\r\n]/.test(password))
    return {
      type: 'invalid',
      message: `Secret ${secret.metadata?.name} key password must hold at least 8 characters and no line breaks; the role keeps its current password`,
    };
  const fingerprint = passwordFingerprint(APPLICATION_USER, password);
  const applied = secret.metadata?.annotations?.[PASSWORD_APPLIED_ANNOTATION];
  if (applied === fingerprint) return { type: 'none' };
  return {
    type: 'apply',
    password,
    data: connectionDetails(cluster, APPLICATION_USER, password, APPLICATION_DATABASE),
    fingerprint,
    rotation: applied !== undefined,
  };
}

/**
 * SQL that makes the role and sets its password (a SCRAM verifier, never the password). Each
 * statement runs on its own (psql -c): idempotent, so a retry after a partial run is safe.
 * CREATE DATABASE cannot run in a DO block; the runner asks whether it exists first.
 */
export function applicationRoleStatements(verifier: string): string[] {
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APPLICATION_USER}') THEN CREATE ROLE ${APPLICATION_USER}; END IF; END $$`,
    `ALTER ROLE ${APPLICATION_USER} WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS PASSWORD '${verifier}'`,
    `SELECT count(*) FROM pg_database WHERE datname = '${APPLICATION_DATABASE}'`,
  ];
}

export const CREATE_APPLICATION_DATABASE = `CREATE DATABASE ${APPLICATION_DATABASE} OWNER ${APPLICATION_USER}`;
