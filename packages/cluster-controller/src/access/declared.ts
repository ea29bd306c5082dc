/**
 * spec.roles and spec.databases: what the server must be changed by, given what it holds now,
 * and what status says of each entry. Pure: declared-runner.ts reads the server and the
 * password Secrets and runs the statements.
 *
 * Names are checked against the API's pattern again here (a CRD older than the controller must
 * not let a name into SQL); they are then plain lowercase identifiers, quoted anyway.
 */
import {
  ACCESS_NAME_PATTERN,
  DATABASES_READY_CONDITION,
  FORBIDDEN_MEMBERSHIPS,
  RESERVED_DATABASES,
  RESERVED_ROLES,
  ROLES_READY_CONDITION,
  type DatabaseSpec,
  type DatabaseStatus,
  type PostgresCluster,
  type ReclaimPolicy,
  type RoleSpec,
  type RoleStatus,
} from '@pgop/api';
import type { ConditionUpdate } from '@pgop/runtime';
import { createHash } from 'node:crypto';

const NAME = new RegExp(ACCESS_NAME_PATTERN);
const PREDEFINED_ROLE = /^pg_[a-z_]+$/;

/** A role as pg_roles and pg_auth_members show it. */
export interface ServerRole {
  name: string;
  login: boolean;
  inherit: boolean;
  createdb: boolean;
  superuser: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  connectionLimit: number;
  inRoles: string[];
}

export interface ServerDatabase {
  name: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
}

export interface ServerAccess {
  roles: ServerRole[];
  databases: ServerDatabase[];
}

/** The roles and databases a run looks at: the spec's and the removed ones status still lists. */
export function managedNames(cluster: PostgresCluster): { roles: string[]; databases: string[] } {
  const unique = (names: string[]) => [...new Set(names)].filter((n) => NAME.test(n));
  return {
    roles: unique([
      ...(cluster.spec.roles ?? []).flatMap((r) => [r.name, ...(r.inRoles ?? [])]),
      ...(cluster.status?.roles ?? []).map((r) => r.name),
      ...(cluster.spec.databases ?? []).map((d) => d.owner),
    ]),
    databases: unique([
      ...(cluster.spec.databases ?? []).map((d) => d.name),
      ...(cluster.status?.databases ?? []).map((d) => d.name),
    ]),
  };
}

const sqlArray = (names: string[]) => `ARRAY[${names.map((n) => `'${n}'`).join(', ')}]::text[]`;

/** One psql -At line of JSON: the named roles and databases as the server has them. */
export function observeQuery(names: { roles: string[]; databases: string[] }): string {
  return `SELECT json_build_object(
  'roles', coalesce((SELECT json_agg(json_build_object(
      'name', r.rolname, 'login', r.rolcanlogin, 'inherit', r.rolinherit, 'createdb', r.rolcreatedb,
      'superuser', r.rolsuper, 'createrole', r.rolcreaterole, 'replication', r.rolreplication,
      'bypassrls', r.rolbypassrls, 'connectionLimit', r.rolconnlimit,
      'inRoles', coalesce((SELECT json_agg(g.rolname ORDER BY g.rolname) FROM pg_auth_members m
                  JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '[]'::json)))
    FROM pg_roles r WHERE r.rolname = ANY (${sqlArray(names.roles)})), '[]'::json),
  'databases', coalesce((SELECT json_agg(json_build_object(
      'name', d.datname, 'owner', pg_get_userbyid(d.datdba), 'encoding', pg_encoding_to_char(d.encoding),
      'collate', d.datcollate, 'ctype', d.datctype))
    FROM pg_database d WHERE d.datname = ANY (${sqlArray(names.databases)})), '[]'::json))`;
}

export function parseServerAccess(line: string): ServerAccess {
  const parsed = JSON.parse(line) as ServerAccess;
  return { roles: parsed.roles ?? [], databases: parsed.databases ?? [] };
}

/** The Secret pgop generates for a login role without passwordSecret. */
export function generatedRoleSecretName(clusterName: string, role: string): string {
  return `${clusterName}-role-${role.replaceAll('_', '-')}`;
}

/** Where a role's password comes from; undefined for a role that cannot log in. */
export function passwordSecretOf(
  clusterName: string,
  role: RoleSpec,
): { name: string; generated: boolean } | undefined {
  if (role.login === false) return undefined;
  return role.passwordSecret
    ? { name: role.passwordSecret.name, generated: false }
    : { name: generatedRoleSecretName(clusterName, role.name), generated: true };
}

/** The database a role's generated connection strings name: the first it owns, else postgres. */
export function defaultDatabaseOf(cluster: PostgresCluster, role: string): string {
  return cluster.spec.databases?.find((d) => d.owner === role)?.name ?? 'postgres';
}

/**
 * Which password a role has: its Secret's resourceVersion, and the in-place restore since
 * (which brings back the roles as they were at the backup, so passwords are set again).
 */
export function passwordVersion(cluster: PostgresCluster, resourceVersion: string): string {
  const restore = cluster.status?.restore?.requestId;
  return restore ? `${resourceVersion}/${restore}` : resourceVersion;
}

/** A password as the runner read it from its Secret. */
export type PasswordRead =
  | { ok: true; password: string; version: string }
  | { ok: false; reason: 'PasswordSecretMissing' | 'PasswordInvalid'; message: string };

export function readPassword(
  cluster: PostgresCluster,
  secretName: string,
  data: Record<string, string> | undefined,
  resourceVersion: string | undefined,
): PasswordRead {
  if (!data || resourceVersion === undefined)
    return { ok: false, reason: 'PasswordSecretMissing', message: `Secret ${secretName} does not exist` };
  const password = data.password ?? '';
  if (password.length < 8 || /[\0\r\n]/.test(password))
    return {
      ok: false,
      reason: 'PasswordInvalid',
      message: `Secret ${secretName} key password must hold at least 8 characters and no line breaks`,
    };
  return { ok: true, password, version: passwordVersion(cluster, resourceVersion) };
}

/** A batch of statements run together (one psql, stopping at the first error) for one entry. */
export interface AccessStep {
  kind: 'role' | 'database';
  name: string;
  /** What the step does, for events and logs. */
  action: 'create' | 'alter' | 'memberships' | 'extensions' | 'drop';
  /** The database psql connects to. */
  database: string;
  statements: string[];
  /** Statement text never logged: it carries a password verifier. */
  sensitive?: boolean;
}

const q = (identifier: string) => `"${identifier}"`;

function roleAttributes(role: RoleSpec): string {
  return [
    role.login === false ? 'NOLOGIN' : 'LOGIN',
    role.inherit === false ? 'NOINHERIT' : 'INHERIT',
    role.createdb ? 'CREATEDB' : 'NOCREATEDB',
    // Never granted by a spec: whoever may edit the cluster would get them.
    'NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS',
    `CONNECTION LIMIT ${role.connectionLimit ?? -1}`,
  ].join(' ');
}

function attributesMatch(role: RoleSpec, server: ServerRole): boolean {
  return (
    server.login === (role.login !== false) &&
    server.inherit === (role.inherit !== false) &&
    server.createdb === (role.createdb ?? false) &&
    !server.superuser &&
    !server.createrole &&
    !server.replication &&
    !server.bypassrls &&
    server.connectionLimit === (role.connectionLimit ?? -1)
  );
}

/** Why an entry cannot be applied at all, before any SQL. */
export function roleProblem(role: RoleSpec): string | undefined {
  if (!NAME.test(role.name) || (RESERVED_ROLES as readonly string[]).includes(role.name))
    return `role name ${role.name} is not allowed`;
  const bad = (role.inRoles ?? []).find(
    (m) =>
      (!NAME.test(m) && !PREDEFINED_ROLE.test(m)) || (FORBIDDEN_MEMBERSHIPS as readonly string[]).includes(m),
  );
  return bad ? `membership in ${bad} is not allowed` : undefined;
}

export function databaseProblem(database: DatabaseSpec): string | undefined {
  if (!NAME.test(database.name) || (RESERVED_DATABASES as readonly string[]).includes(database.name))
    return `database name ${database.name} is not allowed`;
  if (!NAME.test(database.owner) && database.owner !== 'app') return `owner ${database.owner} is not allowed`;
  if (database.encoding && !/^[A-Za-z0-9_]+$/.test(database.encoding)) return 'encoding is not allowed';
  if (database.locale && !/^[A-Za-z0-9_.@-]+$/.test(database.locale)) return 'locale is not allowed';
  const extension = (database.extensions ?? []).find((e) => !/^[a-z][a-z0-9_-]*$/.test(e.name));
  return extension ? `extension name ${extension.name} is not allowed` : undefined;
}

/** The role's create-or-alter step; undefined when the server matches and no password is due. */
export function roleStep(
  role: RoleSpec,
  server: ServerRole | undefined,
  passwordVerifier: string | undefined,
): AccessStep | undefined {
  const statements: string[] = [];
  if (!server) statements.push(`CREATE ROLE ${q(role.name)}`);
  if (!server || !attributesMatch(role, server))
    statements.push(`ALTER ROLE ${q(role.name)} WITH ${roleAttributes(role)}`);
  if (passwordVerifier) statements.push(`ALTER ROLE ${q(role.name)} WITH PASSWORD '${passwordVerifier}'`);
  if (statements.length === 0) return undefined;
  return {
    kind: 'role',
    name: role.name,
    action: server ? 'alter' : 'create',
    database: 'postgres',
    statements,
    sensitive: passwordVerifier !== undefined,
  };
}

/** Grants and revokes that make the role's memberships the spec's. */
export function membershipStep(role: RoleSpec, server: ServerRole | undefined): AccessStep | undefined {
  const wanted = new Set(role.inRoles ?? []);
  const has = new Set(server?.inRoles ?? []);
  const statements = [
    ...[...wanted].filter((m) => !has.has(m)).map((m) => `GRANT ${q(m)} TO ${q(role.name)}`),
    ...[...has].filter((m) => !wanted.has(m)).map((m) => `REVOKE ${q(m)} FROM ${q(role.name)}`),
  ];
  return statements.length
    ? { kind: 'role', name: role.name, action: 'memberships', database: 'postgres', statements }
    : undefined;
}

/** A database that exists with settings fixed at creation other than the spec's. */
export function databaseMismatch(database: DatabaseSpec, server: ServerDatabase): string | undefined {
  if (database.encoding && database.encoding.toUpperCase() !== server.encoding.toUpperCase())
    return `database ${database.name} exists with encoding ${server.encoding}; encoding is fixed when a database is created`;
  if (database.locale && (database.locale !== server.collate || database.locale !== server.ctype))
    return `database ${database.name} exists with locale ${server.collate}; locale is fixed when a database is created`;
  return undefined;
}

export function databaseStep(
  database: DatabaseSpec,
  server: ServerDatabase | undefined,
): AccessStep | undefined {
  const name = q(database.name);
  if (!server) {
    const settings = [
      ...(database.encoding || database.locale ? ['TEMPLATE template0'] : []),
      ...(database.encoding ? [`ENCODING '${database.encoding}'`] : []),
      ...(database.locale ? [`LOCALE '${database.locale}'`] : []),
    ];
    return {
      kind: 'database',
      name: database.name,
      action: 'create',
      database: 'postgres',
      statements: [`CREATE DATABASE ${name} OWNER ${q(database.owner)} ${settings.join(' ')}`.trim()],
    };
  }
  if (server.owner === database.owner) return undefined;
  return {
    kind: 'database',
    name: database.name,
    action: 'alter',
    database: 'postgres',
    statements: [`ALTER DATABASE ${name} OWNER TO ${q(database.owner)}`],
  };
}

/** CREATE EXTENSION for each listed extension, run in the database itself. */
export function extensionStep(database: DatabaseSpec): AccessStep | undefined {
  const extensions = database.extensions ?? [];
  if (extensions.length === 0) return undefined;
  return {
    kind: 'database',
    name: database.name,
    action: 'extensions',
    database: database.name,
    statements: extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${q(e.name)}`),
  };
}

export function dropStep(kind: 'role' | 'database', name: string): AccessStep {
  return {
    kind,
    name,
    action: 'drop',
    database: 'postgres',
    statements: [kind === 'role' ? `DROP ROLE IF EXISTS ${q(name)}` : `DROP DATABASE IF EXISTS ${q(name)}`],
  };
}

/** Entries status lists that left the spec, with the policy they had. */
export function removedEntries<T extends { name: string; reclaimPolicy: ReclaimPolicy }>(
  inStatus: T[] | undefined,
  inSpec: { name: string }[] | undefined,
): T[] {
  const kept = new Set((inSpec ?? []).map((e) => e.name));
  return (inStatus ?? []).filter((e) => !kept.has(e.name));
}

/**
 * What a run applies: the spec's roles and databases, the password Secrets' versions and the
 * in-place restore. Unchanged, a run needs no SQL beyond its periodic look at the server.
 */
export function accessInputKey(
  cluster: PostgresCluster,
  secretVersions: Record<string, string | undefined> = {},
): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        cluster.spec.roles ?? [],
        cluster.spec.databases ?? [],
        secretVersions,
        cluster.status?.restore?.requestId ?? '',
      ]),
    )
    .digest('hex');
}

/** What a run found and did: status.roles and status.databases. */
export interface AccessOutcome {
  roles: RoleStatus[];
  databases: DatabaseStatus[];
}

function readyCondition(
  type: string,
  what: 'role' | 'database',
  entries: (RoleStatus | DatabaseStatus)[],
): ConditionUpdate {
  const failed = entries.filter((e) => e.state === 'Failed');
  const pending = entries.filter((e) => e.state === 'Pending' || e.removed);
  const plural = `${what}s`;
  if (failed.length > 0)
    return {
      type,
      status: 'False',
      reason: failed[0]!.reason ?? 'Failed',
      message: failed
        .map((e) => `${what} ${e.name}: ${e.message ?? e.reason}`)
        .join('; ')
        .slice(0, 2000),
    };
  if (pending.length > 0)
    return {
      type,
      status: 'False',
      reason: 'Pending',
      message: `not applied yet: ${pending.map((e) => e.name).join(', ')}`,
    };
  return {
    type,
    status: 'True',
    reason: 'Applied',
    message: `${entries.length} ${entries.length === 1 ? what : plural} as the spec says`,
  };
}

/**
 * status.roles, status.databases and their conditions: the last run's outcome, else what status
 * said (a restarted controller has not looked yet), with spec entries it never saw as Pending.
 * Absent when neither the spec nor status has any.
 */
export function accessStatus(
  cluster: PostgresCluster,
  outcome: AccessOutcome | undefined,
): { roles?: RoleStatus[]; databases?: DatabaseStatus[]; conditions: ConditionUpdate[] } {
  const pending = <T extends { name: string; reclaimPolicy?: ReclaimPolicy }>(
    spec: T[] | undefined,
    known: (RoleStatus | DatabaseStatus)[] | undefined,
    defaultPolicy: ReclaimPolicy,
  ) => [
    ...(spec ?? []).map(
      (e) =>
        known?.find((k) => k.name === e.name) ?? {
          name: e.name,
          state: 'Pending' as const,
          reclaimPolicy: e.reclaimPolicy ?? defaultPolicy,
        },
    ),
    ...removedEntries(known, spec),
  ];
  const roles = pending(
    cluster.spec.roles,
    outcome?.roles ?? cluster.status?.roles,
    'Delete',
  ) as RoleStatus[];
  const databases = pending(
    cluster.spec.databases,
    outcome?.databases ?? cluster.status?.databases,
    'Retain',
  ) as DatabaseStatus[];
  return {
    ...(roles.length ? { roles } : {}),
    ...(databases.length ? { databases } : {}),
    conditions: [
      ...(roles.length ? [readyCondition(ROLES_READY_CONDITION, 'role', roles)] : []),
      ...(databases.length ? [readyCondition(DATABASES_READY_CONDITION, 'database', databases)] : []),
    ],
  };
}
