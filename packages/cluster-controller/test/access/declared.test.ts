/** spec.roles and spec.databases: the statements a difference needs, and what status says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessCluster } from '@pgop/api/testing';
import {
  accessInputKey,
  accessStatus,
  databaseMismatch,
  databaseProblem,
  databaseStep,
  dropStep,
  extensionStep,
  managedNames,
  membershipStep,
  observeQuery,
  parseServerAccess,
  passwordSecretOf,
  readPassword,
  roleProblem,
  roleStep,
  type ServerRole,
} from '../../src/access/declared.js';
import { cluster } from '../fixtures.js';

const shop = cluster(accessCluster());
const [orders, reporting, analysts] = shop.spec.roles!;
const [ordersDb, archiveDb] = shop.spec.databases!;

const serverRole = (overrides: Partial<ServerRole> = {}): ServerRole => ({
  name: 'orders',
  login: true,
  inherit: true,
  createdb: false,
  superuser: false,
  createrole: false,
  replication: false,
  bypassrls: false,
  connectionLimit: 50,
  inRoles: ['pg_read_all_stats'],
  ...overrides,
});

describe('roles', () => {
  it('creates a missing role with its attributes and password', () => {
    const step = roleStep(orders!, undefined, 'SCRAM-SHA-256$verifier');
    assert.deepEqual(step?.statements, [
      'CREATE ROLE "orders"',
      'ALTER ROLE "orders" WITH LOGIN INHERIT NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 50',
      `ALTER ROLE "orders" WITH PASSWORD 'SCRAM-SHA-256$verifier'`,
    ]);
    assert.equal(step?.action, 'create');
    assert.equal(step?.sensitive, true, 'a verifier is never quoted in an error');
  });

  it('does nothing for a role as the spec says, and alters one changed by hand', () => {
    assert.equal(roleStep(orders!, serverRole(), undefined), undefined);
    const su = roleStep(orders!, serverRole({ superuser: true }), undefined);
    assert.match(su!.statements[0]!, /NOSUPERUSER/);
    assert.equal(su!.statements.length, 1);
    assert.equal(roleStep(orders!, serverRole({ connectionLimit: 10 }), undefined)?.action, 'alter');
  });

  it('grants the memberships the spec adds and revokes the ones it does not list', () => {
    assert.equal(membershipStep(orders!, serverRole()), undefined);
    assert.deepEqual(membershipStep(orders!, serverRole({ inRoles: ['pg_monitor'] }))?.statements, [
      'GRANT "pg_read_all_stats" TO "orders"',
      'REVOKE "pg_monitor" FROM "orders"',
    ]);
  });

  it('refuses names and memberships the API forbids, in case the CRD is older', () => {
    assert.match(roleProblem({ ...orders!, name: 'postgres' })!, /not allowed/);
    assert.match(roleProblem({ ...orders!, name: 'x"; drop table t; --' })!, /not allowed/);
    assert.match(roleProblem({ ...orders!, inRoles: ['pg_write_server_files'] })!, /pg_write_server_files/);
    assert.equal(roleProblem(reporting!), undefined);
  });

  it('generates a Secret for a login role without passwordSecret, none for a group role', () => {
    assert.deepEqual(passwordSecretOf('shop', orders!), { name: 'shop-role-orders', generated: true });
    assert.deepEqual(passwordSecretOf('shop', reporting!), { name: 'reporting-password', generated: false });
    assert.equal(passwordSecretOf('shop', analysts!), undefined);
    assert.equal(passwordSecretOf('shop', { ...orders!, name: 'etl_jobs' })?.name, 'shop-role-etl-jobs');
  });

  it('reads a password only from a Secret that has a usable one', () => {
    assert.deepEqual(readPassword(shop, 'pw', { password: 'long enough' }, '42'), {
      ok: true,
      password: 'long enough',
      version: '42',
    });
    assert.equal(readPassword(shop, 'pw', undefined, undefined).ok, false);
    const short = readPassword(shop, 'pw', { password: 'short' }, '42');
    assert.ok(!short.ok && short.reason === 'PasswordInvalid' && /key password/.test(short.message));
    const restored = cluster(accessCluster());
    restored.status = { restore: { requestId: 'r1' } as never };
    assert.equal(
      (readPassword(restored, 'pw', { password: 'long enough' }, '42') as { version: string }).version,
      '42/r1',
    );
  });
});

describe('databases', () => {
  it('creates a missing database with its owner, encoding and locale', () => {
    assert.deepEqual(databaseStep(archiveDb!, undefined)?.statements, [
      `CREATE DATABASE "archive" OWNER "app" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'`,
    ]);
    assert.deepEqual(databaseStep(ordersDb!, undefined)?.statements, [
      'CREATE DATABASE "orders" OWNER "orders"',
    ]);
  });

  it('gives a database back to its owner, and names settings fixed at creation', () => {
    const server = { name: 'archive', owner: 'orders', encoding: 'UTF8', collate: 'C', ctype: 'C' };
    assert.deepEqual(databaseStep(archiveDb!, server)?.statements, [
      'ALTER DATABASE "archive" OWNER TO "app"',
    ]);
    assert.equal(databaseMismatch(archiveDb!, server), undefined);
    assert.match(
      databaseMismatch(archiveDb!, { ...server, encoding: 'LATIN1' })!,
      /encoding LATIN1; encoding is fixed/,
    );
    assert.match(databaseMismatch(archiveDb!, { ...server, collate: 'C.UTF-8' })!, /locale C.UTF-8/);
  });

  it('creates extensions in the database itself', () => {
    const step = extensionStep(ordersDb!);
    assert.equal(step?.database, 'orders');
    assert.deepEqual(step?.statements, [
      'CREATE EXTENSION IF NOT EXISTS "pgcrypto"',
      'CREATE EXTENSION IF NOT EXISTS "pg_stat_statements"',
    ]);
    assert.equal(extensionStep(archiveDb!), undefined);
  });

  it('drops without FORCE: PostgreSQL refuses while clients are connected', () => {
    assert.deepEqual(dropStep('database', 'archive').statements, ['DROP DATABASE IF EXISTS "archive"']);
    assert.deepEqual(dropStep('role', 'orders').statements, ['DROP ROLE IF EXISTS "orders"']);
  });

  it('refuses names the API forbids', () => {
    assert.match(databaseProblem({ ...ordersDb!, name: 'template1' })!, /not allowed/);
    assert.match(databaseProblem({ ...ordersDb!, locale: "C' OWNER postgres" })!, /locale/);
  });
});

describe('observing the server', () => {
  it('asks for the spec roles, their memberships, owners and the removed entries', () => {
    const withRemoved = cluster(accessCluster());
    withRemoved.status = { roles: [{ name: 'old_role', state: 'Applied', reclaimPolicy: 'Delete' }] };
    const names = managedNames(withRemoved);
    assert.deepEqual(names.roles, [
      'orders',
      'pg_read_all_stats',
      'reporting',
      'pg_read_all_data',
      'analysts',
      'old_role',
      'app',
    ]);
    assert.deepEqual(names.databases, ['orders', 'archive']);
    assert.match(observeQuery(names), /ARRAY\['orders', 'pg_read_all_stats'/);
    assert.deepEqual(parseServerAccess('{"roles":[],"databases":[]}'), { roles: [], databases: [] });
  });

  it('changes its input key with the spec and with a password Secret', () => {
    assert.equal(
      accessInputKey(shop, { orders: '1' }),
      accessInputKey(cluster(accessCluster()), { orders: '1' }),
    );
    assert.notEqual(accessInputKey(shop, { orders: '1' }), accessInputKey(shop, { orders: '2' }));
    assert.notEqual(accessInputKey(shop), accessInputKey(cluster(accessCluster(), { roles: [] })));
  });
});

describe('status', () => {
  it('lists spec entries as Pending until a run applied them', () => {
    const status = accessStatus(shop, undefined);
    assert.deepEqual(
      status.roles?.map((r) => [r.name, r.state, r.reclaimPolicy]),
      [
        ['orders', 'Pending', 'Delete'],
        ['reporting', 'Pending', 'Delete'],
        ['analysts', 'Pending', 'Retain'],
      ],
    );
    assert.deepEqual(
      status.conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ['RolesReady', 'False', 'Pending'],
        ['DatabasesReady', 'False', 'Pending'],
      ],
    );
  });

  it('says which entry PostgreSQL refused, and why', () => {
    const status = accessStatus(shop, {
      roles: [
        { name: 'orders', state: 'Applied', reclaimPolicy: 'Delete' },
        { name: 'reporting', state: 'Applied', reclaimPolicy: 'Delete' },
        { name: 'analysts', state: 'Applied', reclaimPolicy: 'Retain' },
        {
          name: 'old_role',
          state: 'Failed',
          removed: true,
          reclaimPolicy: 'Delete',
          reason: 'DropRefused',
          message:
            'drop role old_role: ERROR: role "old_role" cannot be dropped because some objects depend on it',
        },
      ],
      databases: [
        { name: 'orders', state: 'Applied', reclaimPolicy: 'Retain' },
        { name: 'archive', state: 'Applied', reclaimPolicy: 'Delete' },
      ],
    });
    const [roles, databases] = status.conditions;
    assert.equal(roles?.status, 'False');
    assert.equal(roles?.reason, 'DropRefused');
    assert.match(roles!.message, /role old_role: drop role old_role: ERROR: .* some objects depend on it/);
    assert.deepEqual([databases?.status, databases?.reason], ['True', 'Applied']);
  });

  it('has no lists and no conditions without roles or databases', () => {
    assert.deepEqual(accessStatus(cluster(), undefined), { conditions: [] });
  });
});
