/**
 * spec.roles and spec.databases on the local Kubernetes (examples/access-cluster.yaml's shape):
 * created as written, each role logging in with its Secret's password over TLS; spec changes
 * and password rotations applied without a restart; removal by reclaim policy; and PostgreSQL's
 * refusal to drop a role that owns objects shown in status and events until it is resolved.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  localCluster,
  psqlInPod,
  secretValue,
  startSqlClient,
  waitRunning,
} from '../src/harness/index.js';

interface EntryStatus {
  name: string;
  state: string;
  reason?: string;
  message?: string;
  removed?: boolean;
}

const CLUSTER = 'shop';
const POD = `${CLUSTER}-0`;
const REPORTING_PASSWORD = 'reporting-password-1';

const spec = (overrides: { roles?: object[]; databases?: object[] } = {}) => ({
  version: 17,
  replicas: 1,
  storage: { size: '1Gi' },
  roles: overrides.roles ?? [
    { name: 'orders', connectionLimit: 50, inRoles: ['pg_read_all_stats'] },
    { name: 'reporting', inRoles: ['pg_read_all_data'], passwordSecret: { name: 'reporting-password' } },
    { name: 'analysts', login: false, reclaimPolicy: 'Retain' },
  ],
  databases: overrides.databases ?? [
    { name: 'orders', owner: 'orders', extensions: [{ name: 'pgcrypto' }] },
    { name: 'archive', owner: 'app', encoding: 'UTF8', locale: 'C', reclaimPolicy: 'Delete' },
  ],
});

describe('roles and databases', () => {
  let ns: TestNamespace;
  let client: string;

  const status = () =>
    clusterStatus(ns, CLUSTER) as ReturnType<typeof clusterStatus> & {
      roles?: EntryStatus[];
      databases?: EntryStatus[];
    };
  const patchSpec = (change: object) =>
    ns.k('patch', 'pgc', CLUSTER, '--type=merge', '-p', JSON.stringify({ spec: change }));
  const onServer = (statement: string, database = 'postgres') => psqlInPod(ns, POD, statement, database);
  /** psql as a role through the primary Service, over TLS verified against the cluster's CA. */
  const loginAs = (user: string, password: string, database: string, statement: string) =>
    ns.try(
      'exec',
      client,
      '--',
      'env',
      `PGUSER=${user}`,
      `PGPASSWORD=${password}`,
      `PGDATABASE=${database}`,
      'psql',
      '-h',
      `${CLUSTER}-primary`,
      '-XAtq',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      statement,
    );
  const waitApplied = (what: string, timeout = 120) =>
    eventually(
      what,
      () => {
        const s = status();
        return condition(s, 'RolesReady')?.status === 'True' &&
          condition(s, 'DatabasesReady')?.status === 'True'
          ? s
          : undefined;
      },
      timeout,
      () => JSON.stringify({ roles: status().roles, databases: status().databases }),
    );

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'access');
    ns.k(
      'create',
      'secret',
      'generic',
      'reporting-password',
      `--from-literal=password=${REPORTING_PASSWORD}`,
    );
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresCluster',
      metadata: { name: CLUSTER },
      spec: spec(),
    });
    await waitRunning(ns, CLUSTER, 1);
    client = await startSqlClient(ns, CLUSTER);
  });
  after(() => ns?.delete());

  it('creates the roles and databases as written; each login role logs in with its Secret', async () => {
    const s = await waitApplied('roles and databases applied');
    assert.deepEqual(
      s.roles?.map((r) => [r.name, r.state]),
      [
        ['orders', 'Applied'],
        ['reporting', 'Applied'],
        ['analysts', 'Applied'],
      ],
    );
    assert.equal(
      onServer(
        "select string_agg(format('%s:%s:%s:%s', rolname, rolcanlogin, rolconnlimit, rolsuper), ' ' order by rolname) from pg_roles where rolname in ('orders', 'reporting', 'analysts')",
      ),
      'analysts:f:-1:f orders:t:50:f reporting:t:-1:f',
    );
    assert.equal(
      onServer(
        "select format('%s/%s/%s', pg_encoding_to_char(encoding), datcollate, datdba::regrole) from pg_database where datname = 'archive'",
      ),
      'UTF8/C/app',
    );
    assert.equal(
      onServer("select extname from pg_extension where extname = 'pgcrypto'", 'orders'),
      'pgcrypto',
    );

    // The generated Secret: the password, connection strings to the role's database, the CA.
    const secret = `${CLUSTER}-role-orders`;
    const password = secretValue(ns, secret, 'password');
    assert.match(
      secretValue(ns, secret, 'uri'),
      /^postgresql:\/\/orders:.+@shop-primary\.[^/]+\/orders\?sslmode=verify-full$/,
    );
    await eventually(
      'the CA in the generated Secret',
      () => (secretValue(ns, secret, 'ca.crt') ? true : undefined),
      60,
    );
    const orders = loginAs(
      'orders',
      password,
      'orders',
      "select current_user || ' ' || pg_has_role('pg_read_all_stats', 'member')",
    );
    assert.equal(orders.code, 0, orders.stderr);
    assert.equal(orders.stdout.trim(), 'orders true');
    // The user's own Secret for reporting, which pg_read_all_data lets read every table.
    const reporting = loginAs(
      'reporting',
      REPORTING_PASSWORD,
      'orders',
      'select count(*) from pg_class where false',
    );
    assert.equal(reporting.code, 0, reporting.stderr);
    assert.notEqual(
      loginAs('analysts', 'whatever-it-is', 'postgres', 'select 1').code,
      0,
      'analysts cannot log in',
    );
  });

  it('applies spec changes and a changed password without restarting PostgreSQL', async () => {
    const started = onServer('select pg_postmaster_start_time()');
    patchSpec({
      roles: [
        { name: 'orders', connectionLimit: 5, inRoles: ['pg_monitor'], createdb: true },
        { name: 'reporting', inRoles: ['pg_read_all_data'], passwordSecret: { name: 'reporting-password' } },
        { name: 'analysts', login: false, reclaimPolicy: 'Retain' },
      ],
    });
    await eventually(
      'orders altered: limit 5, createdb, pg_monitor instead of pg_read_all_stats',
      () =>
        onServer(
          "select format('%s %s %s %s', rolconnlimit, rolcreatedb, pg_has_role('orders', 'pg_monitor', 'member'), exists (select from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = 'orders'::regrole and g.rolname = 'pg_read_all_stats')) from pg_roles where rolname = 'orders'",
        ) === '5 t t f'
          ? true
          : undefined,
      90,
    );

    // A rotation as a user does it: a new password in the Secret.
    const rotated = 'reporting-password-2';
    ns.k(
      'patch',
      'secret',
      'reporting-password',
      '--type=merge',
      '-p',
      JSON.stringify({ stringData: { password: rotated } }),
    );
    await eventually(
      'the new password of reporting works',
      () => (loginAs('reporting', rotated, 'postgres', 'select 1').code === 0 ? true : undefined),
      90,
    );
    assert.notEqual(
      loginAs('reporting', REPORTING_PASSWORD, 'postgres', 'select 1').code,
      0,
      'the old password still works',
    );
    // The generated Secret's connection strings follow a password written into it.
    const generated = `${CLUSTER}-role-orders`;
    ns.k(
      'patch',
      'secret',
      generated,
      '--type=merge',
      '-p',
      JSON.stringify({ stringData: { password: 'orders-password-2' } }),
    );
    await eventually(
      'orders logs in with its new password; the uri follows',
      () =>
        loginAs('orders', 'orders-password-2', 'orders', 'select 1').code === 0 &&
        secretValue(ns, generated, 'uri').includes(':orders-password-2@')
          ? true
          : undefined,
      90,
    );
    assert.equal(onServer('select pg_postmaster_start_time()'), started, 'PostgreSQL restarted');
    assert.match(ns.k('get', 'events', '--field-selector', 'reason=PasswordChanged'), /role reporting/);
    assert.doesNotMatch(
      ns.k('get', 'events', '-o', 'yaml'),
      /reporting-password-2|orders-password-2/,
      'a password in an event',
    );
    assert.doesNotMatch(
      ns.k('get', 'pgc', CLUSTER, '-o', 'yaml'),
      /reporting-password-2|orders-password-2|SCRAM/,
      'a password in the object',
    );
  });

  it('removes entries by reclaim policy; a role that owns objects is refused, shown, and dropped once freed', async () => {
    onServer('create role etl_jobs');
    patchSpec({
      roles: [
        { name: 'orders', connectionLimit: 5, inRoles: ['pg_monitor'], createdb: true },
        { name: 'analysts', login: false, reclaimPolicy: 'Retain' },
        { name: 'etl_jobs', login: false },
      ],
    });
    await eventually(
      'etl_jobs taken over, reporting dropped',
      () => {
        const roles = status().roles;
        return roles?.map((r) => `${r.name}:${r.state}`).join(' ') ===
          'orders:Applied analysts:Applied etl_jobs:Applied'
          ? true
          : undefined;
      },
      120,
      () => JSON.stringify(status().roles),
    );
    assert.equal(
      onServer("select count(*) from pg_roles where rolname = 'reporting'"),
      '0',
      'reporting (Delete) still exists',
    );
    // The user's Secret is theirs: never deleted.
    ns.k('get', 'secret', 'reporting-password');

    onServer('create table owned_by_etl (id int); alter table owned_by_etl owner to etl_jobs');
    patchSpec({
      roles: [{ name: 'orders', connectionLimit: 5, inRoles: ['pg_monitor'], createdb: true }],
      databases: [{ name: 'orders', owner: 'orders', extensions: [{ name: 'pgcrypto' }] }],
    });
    const refused = await eventually(
      'the drop of etl_jobs refused',
      () => {
        const s = status();
        const etl = s.roles?.find((r) => r.name === 'etl_jobs');
        return etl?.state === 'Failed' ? { s, etl } : undefined;
      },
      120,
      () => JSON.stringify(status().roles),
    );
    assert.equal(refused.etl.reason, 'DropRefused');
    assert.equal(refused.etl.removed, true);
    assert.match(refused.etl.message ?? '', /cannot be dropped because some objects depend on it/);
    const rolesReady = condition(refused.s, 'RolesReady');
    assert.deepEqual([rolesReady?.status, rolesReady?.reason], ['False', 'DropRefused']);
    assert.match(ns.k('get', 'events', '--field-selector', 'reason=RoleNotApplied'), /etl_jobs/);
    // Retain: analysts and the orders database's data stay; Delete: archive is dropped.
    assert.equal(onServer("select count(*) from pg_roles where rolname = 'analysts'"), '1');
    assert.equal(
      onServer("select count(*) from pg_database where datname = 'archive'"),
      '0',
      'archive (Delete) still exists',
    );

    onServer('drop table owned_by_etl');
    const s = await waitApplied('etl_jobs dropped once it owns nothing', 120);
    assert.equal(onServer("select count(*) from pg_roles where rolname = 'etl_jobs'"), '0');
    assert.deepEqual(
      s.roles?.map((r) => r.name),
      ['orders'],
    );
    assert.deepEqual(
      s.databases?.map((d) => d.name),
      ['orders'],
    );
  });
});
