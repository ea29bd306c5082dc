/**
 * Restores on the local Kubernetes, from backups in its S3 server: rows stamped with their commit
 * time are written around a backup, and clusters restored from it must hold exactly the rows
 * committed before the target: a time between two writes, or the latest point. Into a new
 * cluster (spec.restore, the seed's form, and a PostgresRestore), and in place into the running
 * source itself, whose replica must stream again. Refusals (a source that does not exist, a
 * target before the first backup) leave nothing behind, and a failed PostgresRestore succeeds
 * once its target is corrected. Restore verification restores the latest backup and runs its
 * query.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  OPERATOR_NAMESPACE,
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  kubectlOk,
  localCluster,
  postgresCluster,
  psqlInPod,
  sql,
  startArchivingCluster,
  stampedRowsAroundBackup,
  startSqlClient,
  waitRunning,
} from '../src/harness/index.js';

const SOURCE = 'source';
/** The spec's restore demo is of PostgreSQL 16; the data's version is every restored cluster's. */
const DEMO_VERSION = 16;
const demoVersionCluster = (name: string, spec: Record<string, unknown>) =>
  postgresCluster(name, { version: DEMO_VERSION, ...spec });
const BACKUP = 'source-backup';

interface RestoreStatus {
  phase?: string;
  source?: string;
  timeline?: number;
  lsn?: string;
  lastTransactionTime?: string;
  message?: string;
  instancesStopped?: boolean;
}

describe('restore: into new clusters (spec.restore, PostgresRestore) and in place', () => {
  let ns: TestNamespace;
  /** Between the rows 1-10 (committed before) and 11-15 (after). */
  let targetTime: string;
  const inSource = (statement: string) => psqlInPod(ns, clusterStatus(ns, SOURCE).primaryPod!, statement);
  const restoreStatus = (name: string) =>
    (clusterStatus(ns, name) as { restore?: RestoreStatus }).restore ?? {};

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'restore');
    await startArchivingCluster(ns, SOURCE, 2, { version: DEMO_VERSION });
    targetTime = await stampedRowsAroundBackup(ns, SOURCE, BACKUP);
  });
  after(() => ns?.delete());

  const restoreObject = (name: string) =>
    (
      JSON.parse(ns.k('get', 'pgrestore', name, '-o', 'json')) as {
        status?: {
          phase?: string;
          restoredTo?: { backupLabel?: string; time?: string; timeline?: number; lsn?: string };
          conditions?: { type: string; status: string; reason: string; message: string }[];
        };
      }
    ).status ?? {};
  const restorePhase = (name: string, phase: string, seconds = 420) =>
    eventually(
      `PostgresRestore ${name} ${phase}`,
      () => {
        const s = restoreObject(name);
        return s.phase === phase ? s : undefined;
      },
      seconds,
    );
  const leftOf = (cluster: string) =>
    ns
      .k('get', 'pgc,statefulsets,jobs,pvc', '-l', `postgres.example.com/cluster=${cluster}`, '-o', 'name')
      .trim() + ns.k('get', 'pgc', cluster, '--ignore-not-found', '-o', 'name').trim();

  // The restored rows, read on the primary over the local socket (the table is the superuser's).
  const rowsIn = async (name: string) =>
    psqlInPod(
      ns,
      clusterStatus(ns, name).primaryPod!,
      "SELECT string_agg(id::text, ',' ORDER BY id) FROM stamped",
    );

  it("point in time, in the seed's form {backupName, targetTime}: exactly the rows committed before the target, replicas cloned", async () => {
    ns.apply(demoVersionCluster('pitr', { replicas: 2, restore: { backupName: BACKUP, targetTime } }));
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
    ns.apply(demoVersionCluster('latest', { replicas: 1, restore: { clusterName: SOURCE } }));
    await waitRunning(ns, 'latest', 1, 420);
    assert.equal(restoreStatus('latest').phase, 'Restored');
    assert.equal(await rowsIn('latest'), Array.from({ length: 15 }, (_, i) => i + 1).join(','));
  });

  it("a deleted cluster's retained volume: a restore under its name is refused and touches nothing; a plain cluster of the name runs that data with its credentials", async () => {
    ns.apply(demoVersionCluster('reborn', { replicas: 1 }));
    await waitRunning(ns, 'reborn', 1);
    psqlInPod(ns, 'reborn-0', "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('the retained row')");
    const volumeUid = () => ns.k('get', 'pvc', 'pgdata-reborn-0', '-o', 'jsonpath={.metadata.uid}');
    const volume = volumeUid();
    ns.k('delete', 'pgc', 'reborn', '--timeout=180s');

    ns.apply(demoVersionCluster('reborn', { replicas: 1, restore: { clusterName: SOURCE } }));
    const refused = await eventually('reborn refused', () => {
      const r = restoreStatus('reborn') as RestoreStatus & { reason?: string };
      return r.phase === 'Failed' ? r : undefined;
    });
    assert.equal(refused.reason, 'RestoreVolumeExists');
    assert.match(refused.message ?? '', /pgdata-reborn-0 already exists and was not made by a restore/);
    assert.equal(
      ns.k('get', 'jobs,statefulsets', '-l', 'postgres.example.com/cluster=reborn', '-o', 'name').trim(),
      '',
    );
    assert.equal(volumeUid(), volume, 'the same volume');
    ns.k('delete', 'pgc', 'reborn', '--timeout=180s');

    // Two instances: the second clones with the replication password the data has.
    ns.apply(demoVersionCluster('reborn', { replicas: 2, superuserAccess: true }));
    await waitRunning(ns, 'reborn', 2, 300);
    const client = await startSqlClient(ns, 'reborn', 'superuser');
    assert.equal(
      sql(ns, client, 'reborn-primary', 'SELECT v FROM kept'),
      'the retained row',
      'through the Service, with the Secret password',
    );
  });

  it('a source that does not exist: Failed with the reason, and nothing created', async () => {
    ns.apply(demoVersionCluster('orphan', { replicas: 1, restore: { backupName: 'no-such-backup' } }));
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

  it('PostgresRestore: a target before the first backup is refused and nothing is left; corrected, it succeeds', async () => {
    const created = ns.k('get', 'pgbackup', BACKUP, '-o', 'jsonpath={.metadata.creationTimestamp}');
    const tooEarly = new Date(Date.parse(created) - 3600_000).toISOString();
    const restore = (time: string) => ({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresRestore',
      metadata: { name: 'retry' },
      spec: {
        source: { backupName: BACKUP },
        target: { time },
        destination: {
          newCluster: { name: 'retried', spec: demoVersionCluster('retried', { replicas: 1 }).spec },
        },
      },
    });
    ns.apply(restore(tooEarly));
    const failed = await restorePhase('retry', 'Failed', 180);
    const why = failed.conditions!.find((c) => c.type === 'Restored')!;
    assert.deepEqual([why.status, why.reason], ['False', 'RestoreTargetOutOfRange']);
    assert.match(
      why.message,
      /is before the end of the oldest backup: the repository can restore from .* to /,
    );
    await eventually(
      'nothing left of the refused restore',
      () => (leftOf('retried') === '' ? true : undefined),
      120,
    );

    ns.apply(restore(targetTime));
    const done = await restorePhase('retry', 'Succeeded');
    assert.ok((done.restoredTo?.timeline ?? 0) >= 2, JSON.stringify(done));
    assert.match(done.restoredTo?.backupLabel ?? '', /^\d{8}-\d{6}F$/);
    assert.ok(
      done.restoredTo!.time! <= targetTime,
      `restored to ${done.restoredTo?.time}, after ${targetTime}`,
    );
    await waitRunning(ns, 'retried', 1, 300);
    assert.equal(await rowsIn('retried'), '1,2,3,4,5,6,7,8,9,10');
  });

  it('verification: the latest backup restores into a temporary cluster, the check query runs, BackupVerified', async () => {
    ns.k(
      'patch',
      'pgbackup',
      BACKUP,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: {
          verify: {
            schedule: '0 6 * * 0',
            // One row only if every row is back, and the query runs read-only without superuser.
            query:
              "SELECT 1 FROM stamped HAVING count(*) = 15 AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AND current_setting('transaction_read_only') = 'on'",
          },
        },
      }),
    );
    ns.k('annotate', 'pgbackup', BACKUP, 'backup.postgres.example.com/verify=e2e');
    type Backup = {
      status?: {
        verification?: {
          phase: string;
          cluster: string;
          lastSucceeded?: string;
          backupLabel?: string;
          next?: string;
        };
        conditions?: { type: string; status: string; reason: string; message: string }[];
      };
    };
    const backup = () => (JSON.parse(ns.k('get', 'pgbackup', BACKUP, '-o', 'json')) as Backup).status ?? {};
    const done = await eventually(
      'verification finished',
      () => {
        const v = backup().verification;
        return v && v.phase !== 'Running' ? backup() : undefined;
      },
      420,
    );
    const verified = done.conditions!.find((c) => c.type === 'BackupVerified')!;
    assert.equal(done.verification!.phase, 'Succeeded', verified.message);
    assert.deepEqual([verified.status, verified.reason], ['True', 'Verified']);
    assert.match(verified.message, /the check query returned 1 row as the read-only role$/);
    assert.match(done.verification!.backupLabel ?? '', /^\d{8}-\d{6}F/);
    assert.ok(done.verification!.lastSucceeded && done.verification!.next);
    const temporary = done.verification!.cluster;
    await eventually(
      'the temporary cluster is deleted',
      () => (leftOf(temporary) === '' ? true : undefined),
      120,
    );
  });

  // Last: it rewinds the source every other test reads.
  it('in place, through a restart of both controllers: the running source goes back to the target, on a new timeline, and its replica streams again', async () => {
    const timelineBefore = Number(inSource('SELECT timeline_id FROM pg_control_checkpoint()'));
    // The cluster's own opt-in: a PostgresRestore alone may not roll it back.
    ns.k('patch', 'pgc', SOURCE, '--type=merge', '-p', '{"spec":{"allowInPlaceRestore":true}}');
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresRestore',
      metadata: { name: 'rewind' },
      spec: {
        source: { clusterName: SOURCE },
        target: { time: targetTime },
        destination: { inPlace: { clusterName: SOURCE, confirm: SOURCE } },
      },
    });
    // Both controllers' leaders die mid-restore: their successors continue from the objects.
    await eventually(
      'the instances stopped for the restore',
      () => (restoreStatus(SOURCE).instancesStopped ? true : undefined),
      180,
    );
    for (const lease of ['pgop-cluster-controller', 'pgop-backup-controller']) {
      const operator = (...args: string[]) => kubectlOk(localCluster(), ['-n', OPERATOR_NAMESPACE, ...args]);
      const leader = operator('get', 'lease', lease, '-o', 'jsonpath={.spec.holderIdentity}');
      operator('delete', 'pod', leader, '--grace-period=1', '--wait=false');
    }
    const done = await restorePhase('rewind', 'Succeeded');
    assert.ok((done.restoredTo?.timeline ?? 0) > timelineBefore, JSON.stringify(done));
    await waitRunning(ns, SOURCE, 2, 300);
    const primary = clusterStatus(ns, SOURCE).primaryPod!;
    const replica = primary === `${SOURCE}-0` ? `${SOURCE}-1` : `${SOURCE}-0`;
    const rows = "SELECT string_agg(id::text, ',' ORDER BY id) FROM stamped";
    assert.equal(psqlInPod(ns, primary, rows), '1,2,3,4,5,6,7,8,9,10');
    await eventually(`${replica} streams from ${primary}`, () =>
      psqlInPod(ns, primary, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") === '1'
        ? true
        : undefined,
    );
    // A write after the restore reaches the replica: it follows the new timeline.
    psqlInPod(ns, primary, 'INSERT INTO stamped (id) VALUES (100)');
    await eventually(`row 100 on ${replica}`, () =>
      psqlInPod(ns, replica, 'SELECT count(*) FROM stamped WHERE id = 100') === '1' ? true : undefined,
    );
    assert.equal(psqlInPod(ns, replica, 'SELECT count(*) FROM stamped WHERE id BETWEEN 11 AND 15'), '0');
    assert.equal(restoreStatus(SOURCE).phase, 'Restored');
  });
});
