/**
 * Restores on the local Kubernetes, from backups in its S3 server: rows stamped with their commit
 * time are written around a backup, and clusters created from it (spec.restore, the seed's form)
 * must hold exactly the rows committed before the target: a time between two writes, or the latest
 * point. A source that does not exist is refused with nothing created.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  localCluster,
  postgresCluster,
  psqlInPod,
  sql,
  startArchivingCluster,
  startSqlClient,
  waitBackup,
  waitRunning,
} from '../src/index.js';

const SOURCE = 'source';
const BACKUP = 'source-backup';

interface RestoreStatus {
  phase?: string;
  source?: string;
  timeline?: number;
  lsn?: string;
  lastTransactionTime?: string;
  message?: string;
}

describe('restore into a new cluster (PostgresCluster spec.restore)', () => {
  let ns: TestNamespace;
  /** Between the rows 1-10 (committed before) and 11-15 (after). */
  let targetTime: string;
  const inSource = (statement: string) => psqlInPod(ns, `${SOURCE}-0`, statement);
  const restoreStatus = (name: string) =>
    (clusterStatus(ns, name) as { restore?: RestoreStatus }).restore ?? {};

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'restore');
    await startArchivingCluster(ns, SOURCE, 1);
    inSource(
      'CREATE TABLE stamped (id int PRIMARY KEY, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())',
    );
    inSource('INSERT INTO stamped (id) SELECT generate_series(1, 5)');
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: BACKUP },
      spec: { clusterName: SOURCE },
    });
    await waitBackup(ns, BACKUP, 'the one-off backup succeeded', (s) => s.oneOff?.phase === 'Succeeded', 300);
    inSource('INSERT INTO stamped (id) SELECT generate_series(6, 10)');
    await sleep(1500);
    targetTime = new Date().toISOString();
    await sleep(1500);
    inSource('INSERT INTO stamped (id) SELECT generate_series(11, 15)');
    // Close the WAL segment and wait until it is archived: the restore reads only the archive.
    const segment = inSource('SELECT pg_walfile_name(pg_switch_wal())');
    await eventually(`WAL segment ${segment} archived`, () =>
      inSource('SELECT last_archived_wal FROM pg_stat_archiver') >= segment ? true : undefined,
    );
  });
  after(() => ns?.delete());

  const rowsIn = async (name: string) => {
    const client = await startSqlClient(ns, name);
    return sql(ns, client, `${name}-primary`, "SELECT string_agg(id::text, ',' ORDER BY id) FROM stamped");
  };

  it("point in time, in the seed's form {backupName, targetTime}: exactly the rows committed before the target, replicas cloned", async () => {
    ns.apply(postgresCluster('pitr', { replicas: 2, restore: { backupName: BACKUP, targetTime } }));
    await waitRunning(ns, 'pitr', 2, 420);
    const restored = restoreStatus('pitr');
    assert.equal(restored.phase, 'Restored', JSON.stringify(restored));
    assert.match(restored.source ?? '', new RegExp(`^s3://.*/${ns.name}/${SOURCE}$`));
    assert.ok((restored.timeline ?? 0) >= 2, `a new timeline: ${JSON.stringify(restored)}`);
    assert.match(restored.lsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.ok(
      restored.lastTransactionTime !== undefined && restored.lastTransactionTime <= targetTime,
      `the last transaction replayed (${restored.lastTransactionTime}) is not after the target ${targetTime}`,
    );
    // Through the Service, with the new cluster's own superuser password.
    assert.equal(await rowsIn('pitr'), '1,2,3,4,5,6,7,8,9,10');
    assert.equal(
      ns
        .k(
          'get',
          'jobs,configmaps',
          '-l',
          'postgres.example.com/cluster=pitr,app.kubernetes.io/component=restore',
          '-o',
          'name',
        )
        .trim(),
      '',
      'the restore Job and its ConfigMap are removed once the cluster runs',
    );
  });

  it('latest, by clusterName: every row', async () => {
    ns.apply(postgresCluster('latest', { replicas: 1, restore: { clusterName: SOURCE } }));
    await waitRunning(ns, 'latest', 1, 420);
    assert.equal(restoreStatus('latest').phase, 'Restored');
    assert.equal(await rowsIn('latest'), Array.from({ length: 15 }, (_, i) => i + 1).join(','));
  });

  it('a source that does not exist: Failed with the reason, and nothing created', async () => {
    ns.apply(postgresCluster('orphan', { replicas: 1, restore: { backupName: 'no-such-backup' } }));
    const s = await eventually('orphan is Failed', () => {
      const s = clusterStatus(ns, 'orphan');
      return s.phase === 'Failed' ? s : undefined;
    });
    const progressing = condition(s, 'Progressing');
    assert.equal(progressing?.reason, 'RestoreSourceNotFound');
    assert.match(progressing?.message ?? '', /PostgresBackup no-such-backup does not exist/);
    assert.equal(
      ns.k('get', 'statefulsets,jobs,pvc', '-l', 'postgres.example.com/cluster=orphan', '-o', 'name').trim(),
      '',
    );
  });
});
