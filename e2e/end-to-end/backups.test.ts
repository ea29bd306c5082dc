/**
 * Backups on the local Kubernetes, against its S3 server (MinIO): the backups demo, the
 * schedule's full-then-incremental, exactly one backup per trigger value, retention with
 * pgbackrest expire, and wrong credentials made visible and then fixed without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  TestNamespace,
  TRIGGER,
  backupStatus,
  clusterStatus,
  condition,
  copyLocalS3Credentials,
  eventually,
  installOperator,
  localCluster,
  localS3Backup,
  postgresCluster,
  startArchivingCluster,
  waitBackup,
  waitBackupHealthy,
} from '../src/harness/index.js';

describe('PostgresBackup', () => {
  let ns: TestNamespace;

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'backup');
    // The spec's backups demo runs on the spec's PostgreSQL 16.
    await startArchivingCluster(ns, 'my-cluster', 2, { version: 16 });
  });
  after(() => ns?.delete());

  it('runs the backups demo: a schedule, a triggered full backup, the columns, pgbackrest info', async () => {
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'my-cluster-backup' },
      spec: { clusterName: 'my-cluster', schedule: '0 2 * * *', retention: { days: 14, count: 10 } },
    });
    // The controller makes it after the apply returns (a new operator leader may still be syncing).
    const cronJob = await eventually('the CronJob of the schedule', () => {
      const res = ns.try('get', 'cronjob', 'my-cluster-backup-scheduled', '-o', 'json');
      return res.code === 0
        ? (JSON.parse(res.stdout) as {
            spec: { schedule: string; jobTemplate: { spec: { backoffLimit: number } } };
          })
        : undefined;
    });
    assert.equal(cronJob.spec.schedule, '0 2 * * *');
    assert.equal(cronJob.spec.jobTemplate.spec.backoffLimit, 3);

    ns.k('annotate', 'postgresbackup', 'my-cluster-backup', `${TRIGGER}=now`);
    const s = await waitBackup(
      ns,
      'my-cluster-backup',
      'the triggered backup succeeded',
      (s) => s.lastTrigger?.value === 'now' && s.lastTrigger.phase === 'Succeeded',
    );
    assert.equal(s.backupCount, 1);
    assert.equal(s.backups?.[0]?.type, 'Full', 'the first backup is full');
    assert.equal(s.lastTrigger?.backup, s.backups?.[0]?.label);
    assert.match(s.lastBackupSize ?? '', /^\d+(\.\d)?(B|kB|MB|GB)$/);
    assert.match(s.nextScheduled ?? '', /T02:00:00Z$/);

    const table = ns.k('get', 'postgresbackup');
    assert.match(table.split('\n')[0]!, /NAME\s+CLUSTER\s+LAST BACKUP\s+SIZE\s+COUNT\s+NEXT SCHEDULED/);
    assert.match(
      table,
      new RegExp(`my-cluster-backup\\s+my-cluster\\s+\\S+\\s+${s.lastBackupSize}\\s+1\\s+`),
    );

    const info = ns.k('exec', 'my-cluster-0', '--', 'pgbackrest', 'info');
    assert.match(info, new RegExp(`full backup: ${s.backups![0]!.label}`));

    await eventually('the finished Job and its pod are cleaned up', () =>
      ns.k('get', 'jobs,pods', '-l', 'postgres.example.com/backup=my-cluster-backup', '-o', 'name').trim() ===
      ''
        ? true
        : undefined,
    );
  });

  it('takes exactly one backup per trigger value', async () => {
    const before = backupStatus(ns, 'my-cluster-backup');
    ns.k('annotate', '--overwrite', 'postgresbackup', 'my-cluster-backup', `${TRIGGER}=now`);
    ns.k('label', 'postgresbackup', 'my-cluster-backup', 'touched=yes');
    await sleep(10_000);
    const after = backupStatus(ns, 'my-cluster-backup');
    assert.equal(after.backupCount, before.backupCount, 'a repeated value backs up again');
    assert.equal(ns.k('get', 'jobs', '-o', 'name').trim(), '');
  });

  it('runs the schedule as an incremental backup after the full one', async () => {
    ns.k('create', 'job', '--from=cronjob/my-cluster-backup-scheduled', 'scheduled-now');
    const s = await waitBackup(ns, 'my-cluster-backup', 'two backups', (s) => s.backupCount === 2);
    assert.equal(s.backups?.[0]?.type, 'Incremental');
    assert.equal(condition(s as never, 'BackupHealthy')?.status, 'True');
  });

  it('applies retention with pgbackrest expire: no more than count, never what a kept backup needs', async () => {
    ns.k(
      'patch',
      'pgbackup',
      'my-cluster-backup',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { type: 'Full', retention: { count: 2 } } }),
    );
    // Full, Incremental, Full: the first full stays, the incremental still needs it.
    ns.k('annotate', '--overwrite', 'pgbackup', 'my-cluster-backup', `${TRIGGER}=r1`);
    let s = await waitBackup(
      ns,
      'my-cluster-backup',
      'r1 done',
      (s) => s.lastTrigger?.value === 'r1' && s.lastTrigger.phase === 'Succeeded',
    );
    assert.equal(s.backupCount, 3);
    const newest = s.backups![0]!.label;
    // Full, Full, Full-with-incremental: the old chain goes as a whole.
    ns.k('annotate', '--overwrite', 'pgbackup', 'my-cluster-backup', `${TRIGGER}=r2`);
    s = await waitBackup(
      ns,
      'my-cluster-backup',
      'r2 done',
      (s) => s.lastTrigger?.value === 'r2' && s.lastTrigger.phase === 'Succeeded',
    );
    assert.equal(s.backupCount, 2);
    assert.deepEqual(
      s.backups!.map((b) => b.type),
      ['Full', 'Full'],
    );
    assert.equal(s.backups![1]!.label, newest);
    const info = ns.k('exec', 'my-cluster-0', '--', 'pgbackrest', '--output=json', 'info');
    assert.equal((info.match(/"label"/g) ?? []).length, 2, 'pgBackRest itself lists two backups');
  });

  it("a one-off PostgresBackup's retention removes none of the schedule's backups: its window stays", async () => {
    const labels = () =>
      [
        ...ns
          .k('exec', 'my-cluster-0', '--', 'pgbackrest', '--output=json', 'info')
          .matchAll(/"label"\s*:\s*"([^"]+)"/g),
      ].map((m) => m[1]!);
    const schedules = labels();
    assert.equal(schedules.length, 2, "the schedule's two full backups");
    // Before the migration: one backup, keep one. It must not cut the schedule's window.
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'pre-migration' },
      spec: { clusterName: 'my-cluster', type: 'Full', retention: { count: 1 } },
    });
    const s = await waitBackup(
      ns,
      'pre-migration',
      'the one-off backup succeeded',
      (s) => s.oneOff?.phase === 'Succeeded',
    );
    assert.equal(s.backupCount, 3, `the repository keeps every backup: ${JSON.stringify(s.backups)}`);
    const after = labels();
    assert.deepEqual(after.slice(0, 2), schedules, "the schedule's backups, the oldest first, are all there");
    // The schedule's own retention (count 2) counts only its own backups: the one-off stays.
    ns.k('annotate', '--overwrite', 'pgbackup', 'my-cluster-backup', `${TRIGGER}=r3`);
    const scheduled = await waitBackup(
      ns,
      'my-cluster-backup',
      'r3 done',
      (s) => s.lastTrigger?.value === 'r3' && s.lastTrigger.phase === 'Succeeded',
    );
    assert.equal(scheduled.backupCount, 3, 'its oldest went, the one-off stayed');
    assert.ok(labels().includes(after[2]!), "the one-off's backup is still there");
    assert.ok(!labels().includes(schedules[0]!), "the schedule's oldest went by its own count");
  });

  it('names a bucket that does not exist, and archives nothing', async () => {
    const backup = localS3Backup(ns.cluster, ns.name, 's3');
    ns.apply(
      postgresCluster('no-bucket', {
        replicas: 1,
        backup: { s3: { ...backup.s3, bucket: 'pgop-no-such-bucket' } },
      }),
    );
    const c = await waitBackupHealthy(ns, 'no-bucket', 'False', 'S3BucketNotFound');
    assert.match(c.message, /pgop-no-such-bucket does not exist/);
    assert.equal(clusterStatus(ns, 'no-bucket').backup, undefined, 'archiving was switched on');
    ns.k('delete', 'pgc', 'no-bucket', '--wait=false');
  });

  it('shows refused credentials on the cluster and the backup, and recovers when the Secret is fixed', async () => {
    copyLocalS3Credentials(ns.cluster, ns.name, 's3-wrong', { secretAccessKey: 'not-the-secret-key' });
    ns.apply(
      postgresCluster('wrong-keys', { replicas: 1, backup: localS3Backup(ns.cluster, ns.name, 's3-wrong') }),
    );
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'wrong-keys-backup' },
      spec: { clusterName: 'wrong-keys' },
    });
    const refused = await waitBackupHealthy(ns, 'wrong-keys', 'False', 'S3AccessDenied');
    assert.match(refused.message, /refused the credentials/);
    await waitBackup(
      ns,
      'wrong-keys-backup',
      'BackupHealthy=False S3AccessDenied',
      (s) => s.conditions?.some((c) => c.type === 'BackupHealthy' && c.reason === 'S3AccessDenied') ?? false,
    );
    assert.match(ns.k('get', 'events', '--field-selector', 'reason=S3AccessDenied'), /wrong-keys/);
    assert.doesNotMatch(ns.k('get', 'events', '-o', 'yaml'), /not-the-secret-key/, 'a secret in an event');

    copyLocalS3Credentials(ns.cluster, ns.name, 's3-wrong');
    await waitBackupHealthy(ns, 'wrong-keys', 'True', 'ArchivingWorking', 300);
    const s = await waitBackup(
      ns,
      'wrong-keys-backup',
      'the one-off backup succeeded',
      (s) => s.oneOff?.phase === 'Succeeded',
      300,
    );
    assert.equal(s.backupCount, 1);
  });
});
