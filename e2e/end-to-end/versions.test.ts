/**
 * Every PostgreSQL major version pgop accepts (14-18), side by side on the local Kubernetes: one
 * cluster per version from the operator's image catalog (no spec.image), two instances with
 * synchronous replication, archiving to the local S3 server. Each step runs for all versions at
 * once and fails naming the versions that failed. What a user of any version relies on: replicas
 * stream, writes through -primary survive a planned switchover and the deletion of the primary's
 * pod with nothing acknowledged lost, their metrics are exported, a backup restores to a point in time into a new cluster with
 * exactly the rows committed before the target, and restore verification passes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DRILLS, runDrill, waitWhole } from '../src/drills/failover-drills.js';
import { probeOptions, type ProbeOptions } from '../src/drills/failover-probe.js';
import {
  TestNamespace,
  clusterStatus,
  condition,
  copyLocalS3Credentials,
  eventually,
  installOperator,
  instanceMetrics,
  localCluster,
  localS3Backup,
  postgresCluster,
  psqlInPod,
  stampedRowsAroundBackup,
  waitBackupHealthy,
  waitRunning,
} from '../src/harness/index.js';

const VERSIONS = [14, 15, 16, 17, 18] as const;
type Version = (typeof VERSIONS)[number];
const INSTANCES = 2;
const clusterOf = (version: Version) => `pg${version}`;

/** Runs step for every version at once; fails with every version's error. */
async function forEachVersion(step: (version: Version, cluster: string) => Promise<void>) {
  const results = await Promise.allSettled(VERSIONS.map((v) => step(v, clusterOf(v))));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected'
      ? [`PostgreSQL ${VERSIONS[i]}: ${(r.reason as Error)?.stack ?? String(r.reason)}`]
      : [],
  );
  if (failures.length > 0) assert.fail(failures.join('\n\n'));
}

describe('every PostgreSQL version, side by side', () => {
  let ns: TestNamespace;
  const probes = new Map<string, ProbeOptions>();
  const onPrimary = (cluster: string, statement: string) =>
    psqlInPod(ns, clusterStatus(ns, cluster).primaryPod!, statement);

  before(() => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'versions');
    copyLocalS3Credentials(cluster, ns.name, 's3');
    const backup = localS3Backup(cluster, ns.name, 's3');
    for (const version of VERSIONS)
      ns.apply(
        postgresCluster(clusterOf(version), {
          version,
          replicas: INSTANCES,
          replication: { mode: 'Sync' },
          backup,
        }),
      );
  });
  after(() => ns?.delete());

  it('runs each version from the catalog: the server is that version, its replica streams, WAL is archived', () =>
    forEachVersion(async (version, cluster) => {
      await waitWhole(ns, cluster, INSTANCES, 600);
      await waitBackupHealthy(ns, cluster, 'True', 'ArchivingWorking', 300);
      const image = ns.k(
        'get',
        'statefulset',
        cluster,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      );
      assert.equal(image, `localhost/pgop/postgres:${version}`);
      assert.match(onPrimary(cluster, 'SHOW server_version'), new RegExp(`^${version}\\.\\d+`));
      // Our 14 and 16 images have no pg_rewind (docs/clusters.md, "Versions and images"): said, not hidden.
      const rewind = await eventually(`${cluster}: condition RewindAvailable`, () =>
        condition(clusterStatus(ns, cluster), 'RewindAvailable'),
      );
      assert.deepEqual(
        [rewind.status, rewind.reason],
        version === 14 || version === 16
          ? ['False', 'ImageLacksRewindTools']
          : ['True', 'RewindToolsPresent'],
        rewind.message,
      );
      // The metrics container's postgres_exporter reads this version's statistics as pgop_monitor.
      const metrics = await eventually(`${cluster}: the primary's exporter reaches PostgreSQL`, async () => {
        const text = await instanceMetrics(ns, clusterStatus(ns, cluster).primaryPod!);
        return /^pg_up 1$/m.test(text) ? text : undefined;
      });
      assert.match(metrics, new RegExp(`^pg_static\\{.*short_version="${version}\\.`, 'm'));
      assert.match(metrics, /^pg_stat_archiver_archived_count\{.*\} [1-9]/m);
      assert.match(metrics, /^pg_stat_replication_pg_wal_lsn_diff\{/m);
      probes.set(cluster, await probeOptions(ns, cluster, 10));
    }));

  /** A drill of end-to-end/failover-drills.test.ts on one version's cluster: nothing lost, never two primaries. */
  async function drill(cluster: string, inject: (primary: string) => void | Promise<void>) {
    const run = await runDrill(ns, cluster, INSTANCES, probes.get(cluster)!, inject, { movesPrimary: true });
    assert.deepEqual(run.figures.splitBrainSamples, [], 'two pods accepted writes at once');
    assert.equal(run.figures.missing, 0, `acknowledged rows lost: ${JSON.stringify(run.figures)}`);
    assert.ok(run.figures.acknowledged > 0, 'the writer was acknowledged');
    assert.notEqual(run.after, run.before);
    return run;
  }

  it('switches over as planned with a writer on -primary: nothing acknowledged is lost, the old primary streams again', () =>
    forEachVersion(async (_version, cluster) => {
      await drill(cluster, () => {
        ns.k('annotate', 'pgc', cluster, 'postgres.example.com/switchover=versions', '--overwrite');
      });
      await eventually(`${cluster} lastSwitchover Succeeded`, () =>
        clusterStatus(ns, cluster).lastSwitchover?.phase === 'Succeeded' ? true : undefined,
      );
    }));

  it("survives the deletion of the primary's pod with a writer on -primary: nothing acknowledged is lost", () =>
    forEachVersion(async (_version, cluster) => {
      await drill(cluster, (primary) => DRILLS['delete-primary-pod']!.inject(ns, cluster, primary));
    }));

  it('backs up to S3 and restores a point in time into a new cluster: exactly the rows committed before the target', () =>
    forEachVersion(async (version, cluster) => {
      const backup = `${cluster}-backup`;
      const targetTime = await stampedRowsAroundBackup(ns, cluster, backup);
      const restored = `${cluster}-pitr`;
      ns.apply(
        postgresCluster(restored, { version, replicas: 1, restore: { backupName: backup, targetTime } }),
      );
      await waitRunning(ns, restored, 1, 600);
      const restore = (clusterStatus(ns, restored) as { restore?: { phase?: string } }).restore;
      assert.equal(restore?.phase, 'Restored', JSON.stringify(restore));
      assert.equal(
        onPrimary(restored, "SELECT string_agg(id::text, ',' ORDER BY id) FROM stamped"),
        '1,2,3,4,5,6,7,8,9,10',
      );
      ns.k('delete', 'pgc', restored, '--wait=false');
    }));

  it('passes restore verification: the latest backup restores into a temporary cluster and the check query runs', () =>
    forEachVersion(async (_version, cluster) => {
      const backup = `${cluster}-backup`;
      const verify = { schedule: '0 6 * * 0', query: 'SELECT 1 FROM stamped HAVING count(*) = 15' };
      ns.k('patch', 'pgbackup', backup, '--type=merge', '-p', JSON.stringify({ spec: { verify } }));
      ns.k('annotate', 'pgbackup', backup, 'backup.postgres.example.com/verify=versions');
      type Backup = {
        status?: {
          verification?: { phase: string };
          conditions?: { type: string; status: string; reason: string; message: string }[];
        };
      };
      const done = await eventually(
        `${backup} verification finished`,
        () => {
          const s = (JSON.parse(ns.k('get', 'pgbackup', backup, '-o', 'json')) as Backup).status;
          return s?.verification && s.verification.phase !== 'Running' ? s : undefined;
        },
        600,
      );
      const verified = done.conditions?.find((c) => c.type === 'BackupVerified');
      assert.equal(done.verification!.phase, 'Succeeded', verified?.message);
      assert.deepEqual([verified?.status, verified?.reason], ['True', 'Verified']);
    }));
});
