/**
 * Backups when things break, on the local Kubernetes: a PVC repository that keeps archiving and
 * backing up after the primary is lost (and outlives its cluster), and the S3 server stopped in
 * the middle of a backup: the failure shows on both objects, WAL archiving resumes when it is
 * back, no WAL written meanwhile is missing from the repository, and backups work again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  LOCAL_S3,
  TRIGGER,
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  kubectlOk,
  localCluster,
  postgresCluster,
  startArchivingCluster,
  waitBackup,
  waitBackupHealthy,
  waitRunning,
  psqlInPod,
  type ClusterStatus,
} from '../src/harness/index.js';

/** psql on the cluster's current primary, as the postgres user over the socket. */
function sqlOnPrimary(ns: TestNamespace, cluster: string, statement: string): string {
  return psqlInPod(ns, clusterStatus(ns, cluster).primaryPod!, statement);
}

function archiving(status: ClusterStatus) {
  return (status.backup as { archiving?: { lastArchivedWal?: string } } | undefined)?.archiving;
}

/** The newest WAL segment pgBackRest holds in the repository, as `pgbackrest info` reports it. */
function newestArchivedSegment(ns: TestNamespace, pod: string): string | undefined {
  const info = JSON.parse(ns.k('exec', pod, '--', 'pgbackrest', '--stanza=db', '--output=json', 'info')) as {
    archive?: { max?: string }[];
  }[];
  return info[0]?.archive?.at(-1)?.max;
}

describe('a PVC repository', () => {
  let ns: TestNamespace;

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'backup-pvc');
    ns.apply(postgresCluster('vol', { replicas: 2, backup: { pvc: { size: '2Gi' } } }));
    await waitRunning(ns, 'vol', 2);
    await waitBackupHealthy(ns, 'vol', 'True', 'ArchivingWorking');
  });
  after(() => ns?.delete());

  it('is served to every instance by the repository host', () => {
    assert.equal(clusterStatus(ns, 'vol').backup?.repository, 'pvc://vol-repository');
    for (const pod of ['vol-0', 'vol-1'])
      assert.match(ns.k('exec', pod, '--', 'pgbackrest', 'info'), /stanza: db/, `pgbackrest info on ${pod}`);
    const secret = JSON.parse(ns.k('get', 'secret', 'vol-pgbackrest-tls', '-o', 'json')) as {
      data: Record<string, string>;
    };
    assert.deepEqual(Object.keys(secret.data).sort(), [
      'ca.crt',
      'ca.key',
      'client.crt',
      'client.key',
      'repo-host.crt',
      'repo-host.key',
    ]);
    assert.doesNotMatch(ns.k('get', 'configmap', 'vol-patroni', '-o', 'yaml'), /PRIVATE KEY/);
  });

  it('keeps backing up and archiving after the primary is lost', async () => {
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'vol-backup' },
      spec: { clusterName: 'vol' },
    });
    let s = await waitBackup(
      ns,
      'vol-backup',
      'the one-off backup succeeded',
      (s) => s.oneOff?.phase === 'Succeeded',
    );
    assert.equal(s.backups?.[0]?.type, 'Full');

    const lost = clusterStatus(ns, 'vol').primaryPod!;
    ns.k('delete', 'pod', lost, '--wait=false');
    const promoted = await eventually('another instance is primary', () => {
      const primary = clusterStatus(ns, 'vol').primaryPod;
      return primary && primary !== lost ? primary : undefined;
    });
    // Patroni names the new leader a moment before its promotion ends: write once it accepts.
    await eventually('the new primary accepts writes', () => {
      try {
        sqlOnPrimary(ns, 'vol', 'create table after_failover as select 1 as x');
        return true;
      } catch (err) {
        if (/read-only transaction/.test((err as Error).message)) return undefined;
        throw err;
      }
    });

    ns.k('annotate', 'pgbackup', 'vol-backup', `${TRIGGER}=after-failover`);
    s = await waitBackup(
      ns,
      'vol-backup',
      'the backup after the failover succeeded',
      (s) => s.lastTrigger?.value === 'after-failover' && s.lastTrigger.phase === 'Succeeded',
    );
    assert.equal(s.backupCount, 2);
    assert.equal(s.backups?.[0]?.type, 'Incremental', 'the new primary continues the chain');

    // WAL of the new timeline (the promotion started timeline 2) reaches the repository.
    sqlOnPrimary(ns, 'vol', 'select pg_switch_wal()');
    await eventually(
      `${promoted} archives on the new timeline`,
      () => (archiving(clusterStatus(ns, 'vol'))?.lastArchivedWal?.startsWith('00000002') ? true : undefined),
      120,
      () => JSON.stringify(clusterStatus(ns, 'vol').backup),
    );
    assert.equal(condition(clusterStatus(ns, 'vol'), 'BackupHealthy')?.status, 'True');
  });

  it('renews its certificates from the kept CA: the repository host rolls onto them, backups and archiving go on', async () => {
    const hostPod = () =>
      ns.k(
        'get',
        'pods',
        '-l',
        'postgres.example.com/cluster=vol,app.kubernetes.io/component=repo-host',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      );
    const podBefore = hostPod();
    const serverCertificate = () =>
      ns.k('get', 'secret', 'vol-pgbackrest-tls', '-o', 'jsonpath={.data.repo-host\\.crt}');
    const before = serverCertificate();
    // Due leaves (here: removed) are issued again; the CA, which the instances trust, stays.
    ns.k(
      'patch',
      'secret',
      'vol-pgbackrest-tls',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/data/repo-host.crt"},{"op":"remove","path":"/data/client.crt"}]',
    );
    await eventually(
      'renewed certificates',
      () => (serverCertificate() && serverCertificate() !== before ? true : undefined),
      60,
    );
    await eventually(
      'the repository host rolled',
      () => {
        const pod = hostPod();
        return pod &&
          pod !== podBefore &&
          ns.try('wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=1s').code === 0
          ? true
          : undefined;
      },
      180,
    );
    ns.k('annotate', '--overwrite', 'pgbackup', 'vol-backup', `${TRIGGER}=after-renewal`);
    const s = await waitBackup(
      ns,
      'vol-backup',
      'the backup after the renewal succeeded',
      // This trigger's, not the one before it (CI once read the earlier one's Succeeded).
      (s) => s.lastTrigger?.value === 'after-renewal' && s.lastTrigger.phase === 'Succeeded',
    );
    assert.equal(s.backupCount, 3);
    // A write first: on a segment nothing was written to since the backup's own switch,
    // pg_switch_wal does nothing and names the segment still open, never archived.
    sqlOnPrimary(ns, 'vol', 'create table after_renewal as select 1 as x');
    const segment = sqlOnPrimary(ns, 'vol', 'select pg_walfile_name(pg_switch_wal())');
    await eventually(
      `WAL ${segment} archived after the renewal`,
      () => ((archiving(clusterStatus(ns, 'vol'))?.lastArchivedWal ?? '') >= segment ? true : undefined),
      120,
      // Status and the primary's own view side by side: which of the two is behind.
      () =>
        `status: ${JSON.stringify(clusterStatus(ns, 'vol').backup)}; pg_stat_archiver: ${sqlOnPrimary(
          ns,
          'vol',
          'select last_archived_wal, last_archived_time, failed_count, last_failed_wal from pg_stat_archiver',
        )}`,
    );
  });

  it('outlives its cluster: deleting the cluster keeps the volume with the backups', async () => {
    ns.k('delete', 'pgc', 'vol', '--wait=true', '--timeout=120s');
    await eventually('the repository host is gone', () =>
      ns.try('get', 'deployment', 'vol-repo-host').code !== 0 ? true : undefined,
    );
    assert.match(ns.k('get', 'pvc', 'vol-repository', '-o', 'jsonpath={.status.phase}'), /Bound/);
  });
});

describe('the S3 server stopped during a backup', () => {
  let ns: TestNamespace;
  const minio = (replicas: number) =>
    kubectlOk(ns.cluster, ['-n', LOCAL_S3.namespace, 'scale', 'deployment/minio', `--replicas=${replicas}`]);

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'backup-outage');
    await startArchivingCluster(ns, 'outage', 1);
    // Enough data that the backup is still copying when the server stops.
    sqlOnPrimary(
      ns,
      'outage',
      'create table filler as select g, md5(g::text) as h from generate_series(1, 3000000) g',
    );
  });
  after(() => {
    if (ns) minio(1);
    ns?.delete();
  });

  it('shows the outage on the cluster and the backup, resumes archiving when S3 is back, loses no WAL', async () => {
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'outage-backup' },
      spec: { clusterName: 'outage', type: 'Full' },
    });
    await eventually(
      'the backup is running in the primary',
      () =>
        /"held":true/.test(
          ns.k('exec', 'outage-0', '--', 'pgbackrest', '--stanza=db', '--output=json', 'info'),
        )
          ? true
          : undefined,
      120,
    );
    minio(0);
    try {
      // WAL written while the server is away: PostgreSQL keeps it until it is archived.
      sqlOnPrimary(ns, 'outage', "create table during_outage as select 'kept' as note");
      const segment = sqlOnPrimary(ns, 'outage', 'select pg_walfile_name(pg_current_wal_lsn())');
      sqlOnPrimary(ns, 'outage', 'select pg_switch_wal()');

      // Visible on the cluster and on the backup, with a Warning event.
      const failing = await waitBackupHealthy(ns, 'outage', 'False', undefined, 180);
      assert.match(failing.reason, /^(ArchivingFailing|S3Unreachable)$/);
      const shown = await waitBackup(ns, 'outage-backup', 'BackupHealthy=False', (s) =>
        (s.conditions ?? []).some((c) => c.type === 'BackupHealthy' && c.status === 'False'),
      );
      assert.match(
        shown.conditions!.find((c) => c.type === 'BackupHealthy')!.reason,
        /^(ArchivingFailing|S3Unreachable)$/,
      );
      assert.notEqual(shown.oneOff?.phase, 'Succeeded', 'a backup succeeded without its repository');
      assert.match(
        ns.k('get', 'events', '--field-selector', 'type=Warning'),
        /(ArchivingFailing|S3Unreachable)\s+postgrescluster\/outage/,
      );

      minio(1);
      await waitBackupHealthy(ns, 'outage', 'True', 'ArchivingWorking', 300);
      // pgBackRest retries its S3 requests (up to its 30-minute protocol timeout): the interrupted
      // backup either completes now or fails for the Job to retry; either way it ends, and says so.
      const ended = await waitBackup(
        ns,
        'outage-backup',
        'the interrupted backup ended',
        (s) => s.oneOff?.phase === 'Succeeded' || s.oneOff?.phase === 'Failed',
        600,
      );
      console.log(`the backup interrupted by the outage ended ${ended.oneOff?.phase}`);
      await eventually(
        `segment ${segment}, written during the outage, is in the repository`,
        () => ((newestArchivedSegment(ns, 'outage-0') ?? '') >= segment ? true : undefined),
        180,
      );
      assert.equal(
        ns.try('exec', 'outage-0', '--', 'pgbackrest', '--stanza=db', 'check').code,
        0,
        'pgbackrest check after the outage',
      );
    } finally {
      minio(1);
    }

    // The next backup works again.
    ns.k('annotate', 'pgbackup', 'outage-backup', `${TRIGGER}=after-outage`);
    const s = await waitBackup(
      ns,
      'outage-backup',
      'the backup after the outage succeeded',
      (s) => s.lastTrigger?.value === 'after-outage' && s.lastTrigger.phase === 'Succeeded',
      300,
    );
    assert.equal(s.conditions?.find((c) => c.type === 'LastBackupSucceeded')?.status, 'True');
  });
});
