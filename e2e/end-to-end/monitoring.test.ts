/**
 * Monitoring on the local Kubernetes with a real Prometheus (docs/monitoring.md): it scrapes
 * every instance's postgres_exporter and Patroni, the pooler's pgbouncer_exporter, the
 * controllers and the kubelets as the chart's PodMonitors say; real faults fire pgop's alerts
 * (wrong S3 credentials: the backup and archiving alerts, which clear once the Secret is fixed;
 * a deleted primary: the failover alert); and every query of the Grafana dashboard returns series.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  REPO_ROOT,
  TRIGGER,
  TestNamespace,
  clusterStatus,
  copyLocalS3Credentials,
  eventually,
  installOperator,
  localCluster,
  psqlInPod,
  startArchivingCluster,
  startPrometheus,
  startSqlClient,
  waitBackup,
  waitPoolerReady,
  type Alert,
  type TestPrometheus,
} from '../src/harness/index.js';

const CLUSTER = 'watched';
const BACKUP = 'watched-backup';

describe('monitoring', () => {
  let ns: TestNamespace;
  let prometheus: TestPrometheus;
  /** A pod with psql as the application role (the pooler's panels need a client). */
  let client: string;

  const alertsOf = async (name: string, state: Alert['state'] = 'firing') =>
    (await prometheus.alerts()).filter(
      (a) => a.labels.alertname === name && a.labels.namespace === ns.name && a.state === state,
    );
  const waitAlert = (name: string, timeoutSeconds: number) =>
    eventually(
      `alert ${name} firing`,
      async () => {
        const firing = await alertsOf(name);
        return firing.length > 0 ? firing : undefined;
      },
      timeoutSeconds,
    );
  const waitCleared = (name: string, timeoutSeconds: number) =>
    eventually(
      `alert ${name} cleared`,
      async () => ((await alertsOf(name)).length === 0 ? true : undefined),
      timeoutSeconds,
    );
  const primary = () => clusterStatus(ns, CLUSTER).primaryPod!;

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'monitoring');
    // Volumes of type local: the kubelet reports their usage (the dashboard's volume panel).
    await startArchivingCluster(ns, CLUSTER, 2, {
      storage: { size: '1Gi', storageClass: 'local-volumes' },
      pooler: { instances: 1 },
    });
    client = await startSqlClient(ns, CLUSTER);
    await waitPoolerReady(ns, CLUSTER);
    prometheus = await startPrometheus(cluster, [ns.name]);
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: BACKUP, annotations: { [TRIGGER]: 'first' } },
      spec: { clusterName: CLUSTER, schedule: '0 2 * * *', verify: { schedule: '0 6 * * 0' } },
    });
    await waitBackup(ns, BACKUP, 'the triggered backup', (s) => s.lastTrigger?.phase === 'Succeeded', 300);
  });
  after(async () => {
    await prometheus?.stop();
    ns?.delete();
  });

  it('scrapes every instance (postgres_exporter as pgop_monitor, Patroni), the pooler, the controllers and the kubelets', async () => {
    for (const [job, count] of [
      ['pgop-postgres', 2],
      ['pgop-patroni', 2],
      ['pgop-pgbouncer', 1],
      ['pgop-cluster-controller', 1],
      ['pgop-backup-controller', 1],
      ['kubelet', 2],
    ] as const)
      await eventually(`${count} ${job} targets up`, async () =>
        (await prometheus.targetsUp(job)) >= count ? true : undefined,
      );
    const selector = `namespace="${ns.name}", cluster="${CLUSTER}"`;
    await eventually('both exporters reach PostgreSQL', async () =>
      (await prometheus.query(`pg_up{${selector}} == 1`)).length === 2 ? true : undefined,
    );
    const primaries = await prometheus.query(`patroni_primary{${selector}} == 1`);
    assert.deepEqual(
      primaries.map((s) => s.metric.pod),
      [primary()],
    );
    const info = await eventually('the cluster controller describes the cluster', async () => {
      const s = await prometheus.query(`pgop_cluster_info{${selector}}`);
      return s.length > 0 ? s[0]!.metric : undefined;
    });
    assert.equal(info.phase, 'Running');
    assert.equal(info.primary, primary());
    // The pooler's exporter reaches PgBouncer, and its series say which cluster and pooler.
    const [pooler] = await eventually('the pooler exporter reaches PgBouncer', async () => {
      const s = await prometheus.query(`pgbouncer_up{${selector}} == 1`);
      return s.length > 0 ? s : undefined;
    });
    assert.equal(pooler!.metric.pooler, 'pooler');
    // The exporter reads statistics as a pg_monitor member, not as a superuser.
    assert.equal(
      psqlInPod(
        ns,
        primary(),
        "SELECT rolsuper, pg_has_role('pgop_monitor', 'pg_monitor', 'member') FROM pg_roles WHERE rolname = 'pgop_monitor'",
      ),
      'f|t',
    );
    assert.deepEqual(
      (await prometheus.alerts()).filter((a) => a.labels.namespace === ns.name && a.state === 'firing'),
      [],
      'alerts firing on a healthy cluster',
    );
  });

  it('fires the backup and archiving alerts on wrong S3 credentials, and clears them when the Secret is fixed', async () => {
    copyLocalS3Credentials(ns.cluster, ns.name, 's3', { secretAccessKey: 'not-the-secret-key' });
    // WAL to archive: a write, and the segment closed.
    psqlInPod(
      ns,
      primary(),
      'CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t VALUES (1); SELECT pg_switch_wal()',
    );
    const [failed] = await waitAlert('PgopBackupFailed', 300);
    assert.equal(failed!.labels.reason, 'S3AccessDenied');
    assert.equal(failed!.labels.cluster, CLUSTER);
    assert.equal(failed!.annotations.runbook_url, 'docs/runbooks/PgopBackupFailed.md');
    const [archiving] = await waitAlert('PgopWALArchivingFailing', 300);
    assert.equal(archiving!.labels.pod, primary());

    copyLocalS3Credentials(ns.cluster, ns.name, 's3');
    await waitCleared('PgopWALArchivingFailing', 300);
    await waitCleared('PgopBackupFailed', 300);
  });

  it('fires the failover alert when the primary pod is deleted', async () => {
    const old = primary();
    ns.k('delete', 'pod', old, '--wait=false');
    const [failover] = await waitAlert('PgopFailoverHappened', 180);
    assert.equal(failover!.labels.cluster, CLUSTER);
    assert.notEqual(primary(), old);
  });

  it('answers every query of the Grafana dashboard with series', async () => {
    // A verification, so the panels of the last one have something to show, and a transaction
    // through the pooler for its pools and statistics.
    const viaPooler = ns.try(
      'exec',
      client,
      '--',
      'env',
      `PGHOST=${CLUSTER}-pooler`,
      'psql',
      '-XAtq',
      '-c',
      'select 1',
    );
    assert.equal(viaPooler.code, 0, viaPooler.stderr);
    ns.k('annotate', 'pgbackup', BACKUP, 'backup.postgres.example.com/verify=dashboard');
    await waitBackup(
      ns,
      BACKUP,
      'the verification succeeded',
      (s) => (s as { verification?: { lastSucceeded?: string } }).verification?.lastSucceeded !== undefined,
      420,
    );
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'charts/pgop/files/grafana-dashboard.json'), 'utf8'),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        panel: p.title,
        expr: t.expr
          .replaceAll('$namespace', ns.name)
          .replaceAll('$cluster', CLUSTER)
          .replaceAll('$__rate_interval', '1m'),
      })),
    );
    assert.ok(queries.length >= 25, `${queries.length} queries`);
    for (const q of queries)
      await eventually(
        `series for "${q.panel}": ${q.expr}`,
        async () => ((await prometheus.query(q.expr)).length > 0 ? true : undefined),
        180,
      );
  });
});
