/**
 * spec.pooler on the local Kubernetes: PgBouncer in front of a 2-instance cluster, read-write and
 * read-only; clients log in as their own role over TLS (verified against the cluster's CA), and
 * nobody else gets in; a planned switchover, a rolling update and a scale-down that removes the
 * primary, with a steady writer through the pooler, fail no transaction (the writer straight to the primary Service, beside it, shows
 * what the pooler hides); a rotated password works at once; the exporter serves PgBouncer's
 * figures; removing spec.pooler removes the pooler.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DRILLS, runDrill, switchOverTo } from '../src/drills/failover-drills.js';
import {
  analyzeDrill,
  CREATE_PROBE_TABLE,
  poolerTarget,
  primaryQuery,
  probeOptions,
  probeRows,
  startProbe,
  type ProbeRecord,
} from '../src/drills/failover-probe.js';
import {
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  localCluster,
  postgresCluster,
  secretValue,
  startSqlClient,
  waitPoolerReady,
  waitRunning,
} from '../src/harness/index.js';

const CLUSTER = 'web';
const POOLER = `${CLUSTER}-pooler`;

describe('pooler', () => {
  let ns: TestNamespace;
  let client: string;

  /** psql in the client pod to a host (verify-full against the cluster's CA), with env overrides. */
  const psqlVia = (host: string, statement: string, env: string[] = []) =>
    ns.try('exec', client, '--', 'env', `PGHOST=${host}`, ...env, 'psql', '-XAtq', '-c', statement);
  const poolerPods = (component: string) =>
    ns
      .k(
        'get',
        'pods',
        '-l',
        `postgres.example.com/cluster=${CLUSTER},app.kubernetes.io/component=${component}`,
        '-o',
        'name',
      )
      .split('\n')
      .filter(Boolean);

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'pooler');
    ns.apply(
      postgresCluster(CLUSTER, {
        replicas: 2,
        pooler: { instances: 2, readOnlyInstances: 1, poolMode: 'transaction' },
      }),
    );
    await waitRunning(ns, CLUSTER, 2);
    client = await startSqlClient(ns, CLUSTER);
    await waitPoolerReady(ns, CLUSTER);
  });
  after(() => ns?.delete());

  it('leads read-write clients to the primary and read-only ones to a replica, over TLS, as their own role', async () => {
    assert.deepEqual(clusterStatus(ns, CLUSTER).pooler, { readyInstances: 2, readyReadOnlyInstances: 1 });
    // PoolerReady means a client can log in: at once, no retry.
    const rw = psqlVia(
      POOLER,
      'select current_user, pg_is_in_recovery(), ssl from pg_stat_ssl where pid = pg_backend_pid()',
    );
    assert.equal(rw.code, 0, rw.stderr);
    // The server side: PgBouncer's connection is the client's role, over TLS, to the primary.
    assert.equal(rw.stdout.trim(), 'app|f|t');
    // The replica has the lookup role once it has replayed its creation: retried too.
    const ro = await eventually(
      'a query through the read-only pooler',
      () => {
        const res = psqlVia(`${POOLER}-ro`, 'select pg_is_in_recovery()');
        return res.code === 0 ? res.stdout.trim() : undefined;
      },
      30,
      () => psqlVia(`${POOLER}-ro`, 'select 1').stderr,
    );
    assert.equal(ro, 't');
  });

  it('lets in no one without TLS, a wrong password, or a role that is not an application role', () => {
    const plaintext = psqlVia(POOLER, 'select 1', ['PGSSLMODE=disable']);
    assert.notEqual(plaintext.code, 0, 'a plaintext connection was accepted');
    const wrong = psqlVia(POOLER, 'select 1', ['PGPASSWORD=not-the-password']);
    assert.notEqual(wrong.code, 0, 'a wrong password was accepted');
    assert.match(wrong.stderr, /password authentication failed|SASL authentication failed/);
    // The superuser's right password: the lookup function returns nothing for it.
    const superuser = psqlVia(POOLER, 'select 1', [
      'PGUSER=postgres',
      `PGPASSWORD=${secretValue(ns, `${CLUSTER}-superuser`, 'password')}`,
      'PGDATABASE=postgres',
    ]);
    assert.notEqual(superuser.code, 0, 'the superuser logged in through the pooler');
    // The lookup role itself has no password and logs in only with the pooler's certificate.
    const lookup = psqlVia(`${CLUSTER}-primary`, 'select 1', ['PGUSER=pgop_pooler', 'PGDATABASE=postgres']);
    assert.notEqual(lookup.code, 0, 'pgop_pooler logged in without its certificate');
  });

  it('fails no transaction through the pooler during a planned switchover with a steady writer', async () => {
    // Transactions of 50 ms back to back: one is in flight when the primary stops.
    const options = {
      ...(await probeOptions(ns, CLUSTER)),
      pooler: poolerTarget(ns, CLUSTER),
      transactionMs: 50,
    };
    const run = await runDrill(
      ns,
      CLUSTER,
      2,
      options,
      (primary) => DRILLS.switchover!.inject(ns, CLUSTER, primary),
      {
        movesPrimary: true,
      },
    );
    const { pooler } = run.figures;
    console.log(
      `switchover through ${POOLER}: ${pooler!.failedStatements} failed, longest transaction ${pooler!.maxLatencyMs} ms, ` +
        `write gap ${pooler!.writeGapMs} ms; straight to ${CLUSTER}-primary: ${run.figures.failedStatements} failed, ` +
        `write gap ${run.figures.writeGapMs} ms`,
      ...pooler!.errorMessages.map((m) => `\n  through the pooler: ${m}`),
    );
    assert.notEqual(run.after, run.before, 'the primary did not move');
    assert.ok(pooler!.acknowledged > 0, 'nothing was written through the pooler');
    assert.equal(pooler!.failedStatements, 0, 'a statement through the pooler failed during the switchover');
    assert.equal(pooler!.missing, 0, 'an acknowledged row through the pooler is missing');
    assert.equal(run.figures.missing, 0, 'an acknowledged row is missing');
  });

  /**
   * The writer (50 ms transactions, straight and through the pooler) runs while `change` is made
   * and until `done` holds; the figures of both.
   */
  async function writeThrough(what: string, change: () => void, done: () => boolean) {
    const options = {
      ...(await probeOptions(ns, CLUSTER)),
      pooler: poolerTarget(ns, CLUSTER),
      transactionMs: 50,
    };
    await primaryQuery(options, CREATE_PROBE_TABLE);
    const probe = startProbe(options);
    let record: ProbeRecord;
    try {
      change();
      await eventually(
        what,
        () => done() || undefined,
        300,
        () => JSON.stringify(clusterStatus(ns, CLUSTER)),
      );
    } finally {
      record = await probe.stop();
    }
    const figures = analyzeDrill(record, Date.now(), await probeRows(options));
    console.log(
      `${what} through ${POOLER}: ${figures.pooler!.failedStatements} failed, longest transaction ${figures.pooler!.maxLatencyMs} ms; straight to ${CLUSTER}-primary: ${figures.failedStatements} failed`,
      ...figures.pooler!.errorMessages.map((m) => `\n  through the pooler: ${m}`),
    );
    assert.ok(figures.pooler!.acknowledged > 0, 'nothing was written through the pooler');
    assert.equal(
      figures.pooler!.failedStatements,
      0,
      `a transaction through the pooler failed during ${what}`,
    );
    assert.equal(figures.pooler!.missing, 0, 'an acknowledged row through the pooler is missing');
  }

  it('fails no transaction through the pooler during a rolling update, which moves the primary last', async () => {
    const before = clusterStatus(ns, CLUSTER).primaryPod;
    const patch = { spec: { resources: { requests: { cpu: '60m', memory: '64Mi' } } } };
    let generation = 0;
    await writeThrough(
      'a rolling update',
      () => {
        ns.k('patch', 'pgc', CLUSTER, '--type=merge', '-p', JSON.stringify(patch));
        generation = Number(ns.k('get', 'pgc', CLUSTER, '-o', 'jsonpath={.metadata.generation}'));
      },
      () => {
        const s = clusterStatus(ns, CLUSTER);
        const cpu = ns.k(
          'get',
          'pods',
          '-l',
          `postgres.example.com/cluster=${CLUSTER},app.kubernetes.io/component=database`,
          '-o',
          'jsonpath={.items[*].spec.containers[0].resources.requests.cpu}',
        );
        return s.phase === 'Running' && s.observedGeneration === generation && cpu === '60m 60m';
      },
    );
    assert.notEqual(clusterStatus(ns, CLUSTER).primaryPod, before, 'the primary did not move');
  });

  it('fails no transaction through the pooler during a scale-down that removes the primary', async () => {
    await switchOverTo(ns, CLUSTER, `${CLUSTER}-1`);
    await writeThrough(
      'a scale-down',
      () => ns.k('patch', 'pgc', CLUSTER, '--type=merge', '-p', JSON.stringify({ spec: { replicas: 1 } })),
      () => {
        const s = clusterStatus(ns, CLUSTER);
        return s.phase === 'Running' && s.readySummary === '1/1' && s.primaryPod === `${CLUSTER}-0`;
      },
    );
  });

  it('takes a rotated password at the next login, with nothing to restart', async () => {
    const applied = () =>
      ns.try(
        'get',
        'secret',
        `${CLUSTER}-app`,
        '-o',
        "jsonpath={.metadata.annotations['postgres\\.example\\.com/password-applied']}",
      ).stdout;
    const before = applied();
    const rotated = 'rotated-password-2026';
    ns.k('patch', 'secret', `${CLUSTER}-app`, '-p', JSON.stringify({ stringData: { password: rotated } }));
    await eventually('the new password applied', () => applied() !== before || undefined, 90);
    const fresh = psqlVia(POOLER, 'select 1', [`PGPASSWORD=${rotated}`]);
    assert.equal(fresh.code, 0, fresh.stderr);
    const old = psqlVia(POOLER, 'select 1');
    assert.notEqual(old.code, 0, 'the old password still logs in through the pooler');
  });

  it("serves PgBouncer's metrics from the exporter, over HTTPS", () => {
    const pod = poolerPods('pooler')[0]!.replace('pod/', '');
    // Fetched by the client pod, verified against the cluster's CA: the certificate names the
    // Services, so the Service's name is resolved to the pod's IP.
    const ip = ns.k('get', 'pod', pod, '-o', 'jsonpath={.status.podIP}');
    const metrics = ns.k(
      'exec',
      client,
      '--',
      'curl',
      '-sS',
      '--fail',
      '--cacert',
      '/etc/postgres-ca/ca.crt',
      '--resolve',
      `${POOLER}.${ns.name}.svc:9127:${ip}`,
      `https://${POOLER}.${ns.name}.svc:9127/metrics`,
    );
    assert.match(metrics, /^pgbouncer_up 1$/m);
    assert.match(metrics, /^pgbouncer_stats_queries_pooled_total\{database="app"\} [1-9]/m);
  });

  it('removes the read-only pooler, then the whole pooler, when the spec no longer asks for them', async () => {
    ns.k(
      'patch',
      'pgc',
      CLUSTER,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { pooler: { readOnlyInstances: 0 } } }),
    );
    await eventually(
      'the read-only pooler removed',
      () => ns.try('get', 'deployment', `${POOLER}-ro`).code !== 0,
      60,
    );
    assert.notEqual(ns.try('get', 'service', `${POOLER}-ro`).code, 0, 'the read-only Service is left');
    ns.k('patch', 'pgc', CLUSTER, '--type=json', '-p', '[{"op":"remove","path":"/spec/pooler"}]');
    await eventually(
      'the pooler removed',
      () =>
        ns.try('get', 'deployment', POOLER).code !== 0 &&
        ns.try('get', 'service', POOLER).code !== 0 &&
        ns.try('get', 'pdb', POOLER).code !== 0,
      60,
    );
    await eventually('PoolerReady gone', () => !condition(clusterStatus(ns, CLUSTER), 'PoolerReady'), 30);
  });
});
