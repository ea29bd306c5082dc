/**
 * The backup controller's reconciles against a real API server (no kubelet: Jobs are created but
 * never run; their results are covered end to end in backups.test.ts and restore.test.ts). What
 * a user sees from the API: the CronJob of the schedule, the Jobs' identity, status, and exactly
 * one Job per trigger value, also across a controller restart; for a PostgresRestore, the
 * cluster it creates or asks to restore in place, and its status as the cluster controller's
 * status.restore (written here by hand, as the contract in docs/restore.md says) evolves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBackupController } from '@pgop/backup-controller';
import { createLogger } from '@pgop/runtime';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  eventually,
  kubectlOk,
  REPO_ROOT,
  startApiServer,
  type TestApiServer,
} from '../src/harness/index.js';

const NS = 'db';
const TRIGGER = 'backup.postgres.example.com/trigger';

describe('backup controller (integration)', () => {
  let server: TestApiServer;
  let stop: (() => Promise<void>) | undefined;
  const k = (...args: string[]) => kubectlOk(server, ['-n', NS, ...args]);
  const apply = (obj: object) =>
    kubectlOk(server, ['-n', NS, 'apply', '--server-side', '-f', '-'], stringify(obj));
  type Status = {
    nextScheduled?: string;
    lastBackup?: string;
    oneOff?: { job: string; phase: string };
    lastTrigger?: { value: string; job: string; phase: string };
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  const status = (name: string) =>
    (JSON.parse(k('get', 'pgbackup', name, '-o', 'json')) as { status?: Status }).status ?? {};
  const jobs = () => k('get', 'jobs', '-o', 'name').trim().split('\n').filter(Boolean);
  const until = <T>(what: string, check: () => T | undefined) => eventually(what, check, 30, undefined, 200);

  async function startController() {
    const { controllers, informers } = createBackupController({
      kubeConfig: server.kubeConfig,
      logger: createLogger({ component: 'test', level: process.env.TEST_LOG_LEVEL ?? 'error' }),
      settings: { image: 'localhost/pgop/operator:dev', jobClusterRole: 'pgop-backup-job' },
      identity: 'integration-test',
    });
    for (const i of informers) await i.start();
    await Promise.all(informers.map((i) => i.synced));
    for (const c of controllers) c.start();
    stop = async () => {
      for (const c of controllers) await c.stop();
      for (const i of informers) await i.stop();
    };
  }

  before(async () => {
    server = await startApiServer();
    kubectlOk(server, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
    kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    kubectlOk(server, ['create', 'namespace', NS]);
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresCluster',
      metadata: { name: 'c' },
      spec: {
        version: 17,
        replicas: 1,
        storage: { size: '1Gi' },
        backup: {
          s3: { bucket: 'pg-backups', endpoint: 'https://minio:9000', credentialsSecret: { name: 's3' } },
        },
      },
    });
    // What the cluster controller reports once the stanza exists.
    k(
      'patch',
      'pgc',
      'c',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { primaryPod: 'c-0', backup: { repository: 's3://pg-backups/x', stanzaCreated: true } },
      }),
    );
    await startController();
  });
  after(async () => {
    await stop?.();
    await server?.stop();
  });

  it('makes the CronJob of the schedule, owned by the backup, and shows the next run', async () => {
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'nightly' },
      spec: { clusterName: 'c', schedule: '0 2 * * *', retention: { count: 3 } },
    });
    type CronJob = {
      spec: {
        schedule: string;
        suspend: boolean;
        concurrencyPolicy: string;
        jobTemplate: { spec: { backoffLimit: number; template: { spec: { serviceAccountName: string } } } };
      };
    };
    const { spec } = await until('CronJob', () => {
      const res = kubectlOk(server, ['-n', NS, 'get', 'cronjobs', '-o', 'json']);
      return (JSON.parse(res) as { items: CronJob[] }).items[0];
    });
    assert.equal(spec.schedule, '0 2 * * *');
    assert.equal(spec.suspend, false);
    assert.equal(spec.concurrencyPolicy, 'Forbid');
    assert.equal(spec.jobTemplate.spec.backoffLimit, 3);
    assert.equal(spec.jobTemplate.spec.template.spec.serviceAccountName, 'nightly-backup-job');
    assert.match(
      k('get', 'rolebinding', 'nightly-backup-job', '-o', 'jsonpath={.roleRef.name}'),
      /^pgop-backup-job$/,
    );
    const s = await until('nextScheduled', () =>
      status('nightly').nextScheduled ? status('nightly') : undefined,
    );
    assert.match(s.nextScheduled!, /T02:00:00Z$/);
    assert.equal(jobs().length, 0, 'a schedule takes no backup at once');
  });

  it('starts exactly one Job per trigger value, also after a controller restart', async () => {
    k('annotate', 'pgbackup', 'nightly', `${TRIGGER}=first`);
    const s = await until('trigger recorded', () =>
      status('nightly').lastTrigger ? status('nightly') : undefined,
    );
    assert.equal(s.lastTrigger?.value, 'first');
    assert.equal(s.lastTrigger?.phase, 'Running');
    assert.deepEqual(jobs(), [`job.batch/${s.lastTrigger!.job}`]);

    k('annotate', '--overwrite', 'pgbackup', 'nightly', `${TRIGGER}=first`);
    await stop!();
    await startController();
    k('label', 'pgbackup', 'nightly', 'touched=yes');
    await sleep(2000);
    assert.equal(jobs().length, 1, 'the same value after a restart started another backup');

    k('annotate', '--overwrite', 'pgbackup', 'nightly', `${TRIGGER}=second`);
    // The Job is created before the status that records it: wait for both.
    await until('second Job, recorded', () =>
      jobs().length === 2 && status('nightly').lastTrigger?.value === 'second' ? true : undefined,
    );
  });

  it('takes one backup at once without a schedule, and never again', async () => {
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'now' },
      spec: { clusterName: 'c' },
    });
    const s = await until('one-off recorded', () => (status('now').oneOff ? status('now') : undefined));
    assert.equal(s.oneOff?.job, 'now-once');
    assert.ok(jobs().includes('job.batch/now-once'));
  });

  it("records a backup as soon as its Job's pod succeeded, then deletes the Job", async () => {
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'quick' },
      spec: { clusterName: 'c' },
    });
    await until('one-off started', () => status('quick').oneOff);
    // What the kubelet reports once the Job's container ended; the Job controller (which would
    // mark the Job Complete about two seconds later) does not run here.
    apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'quick-once-abcde',
        labels: { 'job-name': 'quick-once', 'postgres.example.com/backup': 'quick' },
      },
      spec: {
        serviceAccountName: 'quick-backup-job',
        restartPolicy: 'Never',
        containers: [{ name: 'backup', image: 'localhost/pgop/operator:dev' }],
      },
    });
    const stop = '2026-12-03T07:00:10Z';
    const result = {
      ok: true,
      label: '20261203-070000F',
      durationSeconds: 10,
      backups: [
        {
          label: '20261203-070000F',
          type: 'Full',
          start: '2026-12-03T07:00:00Z',
          stop,
          databaseSize: 1024,
          repositorySize: 512,
        },
      ],
      backupCount: 1,
      expired: [],
    };
    k(
      'patch',
      'pod',
      'quick-once-abcde',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Succeeded',
          containerStatuses: [
            {
              name: 'backup',
              image: 'localhost/pgop/operator:dev',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 0, finishedAt: stop, message: JSON.stringify(result) } },
            },
          ],
        },
      }),
    );
    const recorded = await until('one-off Succeeded', () =>
      status('quick').oneOff?.phase === 'Succeeded' ? status('quick') : undefined,
    );
    assert.equal(recorded.lastBackup, stop);
    await until('Job deleted', () => (jobs().includes('job.batch/quick-once') ? undefined : true));
  });

  it('names a missing cluster in BackupHealthy', async () => {
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'orphan' },
      spec: { clusterName: 'nope' },
    });
    const c = await until('BackupHealthy', () =>
      status('orphan').conditions?.find((c) => c.type === 'BackupHealthy'),
    );
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'ClusterNotFound');
    assert.ok(!jobs().some((j) => j.includes('orphan')), 'a backup of a missing cluster was started');
  });

  it('verification: restores into a temporary cluster it owns, and reports a failed restore in BackupVerified', async () => {
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: 'checked' },
      spec: { clusterName: 'c', schedule: '0 2 * * *', verify: { schedule: '0 6 * * 0', query: 'SELECT 1' } },
    });
    const verified = () => status('checked').conditions?.find((c) => c.type === 'BackupVerified');
    const waiting = await until('BackupVerified', verified);
    assert.deepEqual([waiting.status, waiting.reason], ['Unknown', 'NotYetVerified']);
    // What a finished backup Job records: there is something to restore.
    k(
      'patch',
      'pgbackup',
      'checked',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"backupCount":1}}',
    );
    k('annotate', 'pgbackup', 'checked', 'backup.postgres.example.com/verify=now');
    type Temporary = {
      metadata: { ownerReferences: { kind: string; name: string }[] };
      spec: Record<string, unknown>;
    };
    const temporary = await until('temporary cluster', () => {
      const res = kubectlOk(server, [
        '-n',
        NS,
        'get',
        'pgc',
        'checked-verify',
        '-o',
        'json',
        '--ignore-not-found',
      ]);
      return res.trim() ? (JSON.parse(res) as Temporary) : undefined;
    });
    assert.deepEqual(temporary.spec.restore, { backupName: 'checked', exclusive: false });
    assert.equal(temporary.spec.replicas, 1);
    assert.deepEqual(
      temporary.metadata.ownerReferences.map((r) => `${r.kind}/${r.name}`),
      ['PostgresBackup/checked'],
    );
    // What the cluster controller reports when the restore cannot read the repository.
    k(
      'patch',
      'pgc',
      'checked-verify',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { restore: { phase: 'Failed', reason: 'RepositoryUnreachable', message: 'ERROR [039]' } },
      }),
    );
    const failed = await until('BackupVerified False', () =>
      verified()?.status === 'False' ? verified() : undefined,
    );
    assert.equal(failed.reason, 'VerificationFailed');
    assert.match(failed.message, /the restore failed: RepositoryUnreachable: ERROR \[039\]; never verified/);
    await until('temporary cluster deleted', () =>
      kubectlOk(server, ['-n', NS, 'get', 'pgc', 'checked-verify', '--ignore-not-found', '-o', 'name']).trim()
        ? undefined
        : true,
    );
  });

  describe('PostgresRestore', () => {
    type RestoreStatus = {
      phase?: string;
      startTime?: string;
      completionTime?: string;
      restoredTo?: { backupLabel?: string; time?: string; timeline?: number; lsn?: string };
      conditions?: { type: string; status: string; reason: string; message: string }[];
    };
    type Cluster = {
      metadata: { uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { version: number; restore?: Record<string, unknown>; inPlaceRestore?: Record<string, unknown> };
    };
    const restoreStatus = (name: string) =>
      (JSON.parse(k('get', 'pgrestore', name, '-o', 'json')) as { status?: RestoreStatus }).status ?? {};
    const restoreUid = (name: string) => k('get', 'pgrestore', name, '-o', 'jsonpath={.metadata.uid}');
    const cluster = (name: string): Cluster | undefined => {
      const res = kubectlOk(server, ['-n', NS, 'get', 'pgc', name, '-o', 'json', '--ignore-not-found']);
      return res.trim() ? (JSON.parse(res) as Cluster) : undefined;
    };
    const clusters = () => k('get', 'pgc', '-o', 'name').trim().split('\n').filter(Boolean).sort();
    /** What the cluster controller writes (docs/restore.md, "The contract"). */
    const report = (name: string, restore: object) =>
      k(
        'patch',
        'pgc',
        name,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { restore } }),
      );
    /** The phase as the controller wrote it: the API server defaults a new object's phase to Pending. */
    const phase = (name: string, want: string) =>
      until(`${name} ${want}`, () => {
        const s = restoreStatus(name);
        return s.phase === want && s.conditions?.length ? s : undefined;
      });
    const newClusterRestore = (
      name: string,
      clusterName: string,
      target: object,
      source: object = { clusterName: 'c' },
    ) => ({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresRestore',
      metadata: { name },
      spec: {
        source,
        target,
        destination: {
          newCluster: { name: clusterName, spec: { version: 17, replicas: 2, storage: { size: '1Gi' } } },
        },
      },
    });

    it('creates the new cluster with spec.restore and follows its status.restore to Succeeded, also across a restart', async () => {
      apply(newClusterRestore('pitr', 'restored', { time: '2026-11-25T10:00:00Z', exclusive: true }));
      const created = await until('restored cluster', () => cluster('restored'));
      assert.deepEqual(created.spec.restore, {
        clusterName: 'c',
        targetTime: '2026-11-25T10:00:00Z',
        exclusive: true,
      });
      assert.equal(created.spec.version, 17);
      assert.equal(created.metadata.labels?.['postgres.example.com/restore'], 'pitr');
      assert.equal(
        created.metadata.annotations?.['postgres.example.com/restore-request'],
        `${restoreUid('pitr')}/1`,
      );
      assert.equal((await phase('pitr', 'Pending')).conditions?.[0]?.status, 'Unknown');

      report('restored', {
        phase: 'Restoring',
        source: 's3://pg-backups/x',
        message: 'restoring 2026-11-25T10:00:00Z',
      });
      const running = await phase('pitr', 'Running');
      assert.match(running.conditions![0]!.message, /^restored: restoring 2026-11-25T10:00:00Z/);
      assert.ok(running.startTime);

      await stop!();
      report('restored', {
        phase: 'Restored',
        backupLabel: '20261125-095500F',
        timeline: 3,
        lsn: '0/5000060',
        lastTransactionTime: '2026-11-25T09:59:58Z',
        completedAt: '2026-11-25T10:05:00Z',
      });
      await startController();
      const done = await phase('pitr', 'Succeeded');
      assert.deepEqual(done.restoredTo, {
        backupLabel: '20261125-095500F',
        time: '2026-11-25T09:59:58Z',
        timeline: 3,
        lsn: '0/5000060',
      });
      assert.ok(done.completionTime);
      assert.deepEqual([done.conditions![0]!.type, done.conditions![0]!.status], ['Restored', 'True']);
      assert.ok(cluster('restored'), 'the restored cluster outlives nothing: it stays');
    });

    it('fails fast with nothing created: a missing source, a cluster name in use', async () => {
      const before = clusters();
      apply(newClusterRestore('no-source', 'never', {}, { backupName: 'nope' }));
      const missing = await phase('no-source', 'Failed');
      assert.equal(missing.conditions![0]!.reason, 'RestoreSourceNotFound');
      assert.match(
        missing.conditions![0]!.message,
        /spec.source.backupName: PostgresBackup nope does not exist/,
      );
      apply(newClusterRestore('taken', 'c', {}));
      const taken = await phase('taken', 'Failed');
      assert.equal(taken.conditions![0]!.reason, 'ClusterExists');
      assert.match(taken.conditions![0]!.message, /newCluster.name: PostgresCluster c already exists/);
      await sleep(1000);
      assert.deepEqual(clusters(), before, 'a refused restore created or deleted a cluster');
      assert.equal(cluster('c')?.spec.restore, undefined);
    });

    it('deletes the cluster of a failed restore, and tries again when the spec changes', async () => {
      apply(newClusterRestore('retry', 'second-try', { time: '2020-01-01T00:00:00Z' }));
      await until('cluster', () => cluster('second-try'));
      report('second-try', {
        phase: 'Failed',
        reason: 'RestoreTargetOutOfRange',
        message: 'targetTime 2020-01-01T00:00:00Z is before the end of the oldest backup',
      });
      const failed = await phase('retry', 'Failed');
      assert.equal(failed.conditions![0]!.reason, 'RestoreTargetOutOfRange');
      assert.match(failed.conditions![0]!.message, /before the end of the oldest backup/);
      await until('failed cluster deleted', () => (cluster('second-try') ? undefined : true));

      apply(newClusterRestore('retry', 'second-try', { time: '2026-11-25T10:00:00Z' }));
      const again = await until('cluster again', () => cluster('second-try'));
      assert.equal(again.spec.restore?.targetTime, '2026-11-25T10:00:00Z');
      assert.equal(
        again.metadata.annotations?.['postgres.example.com/restore-request'],
        `${restoreUid('retry')}/2`,
      );
      const pending = await phase('retry', 'Pending');
      assert.equal(pending.completionTime, undefined);
    });

    it('asks the cluster to restore in place, and only from its own backups', async () => {
      apply({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresRestore',
        metadata: { name: 'in-place' },
        spec: {
          source: { clusterName: 'c' },
          target: { backupLabel: '20261125-095500F' },
          destination: { inPlace: { clusterName: 'c', confirm: 'c' } },
        },
      });
      // The right to create a PostgresRestore is not enough: the cluster itself must allow it.
      const waiting = await phase('in-place', 'Pending');
      assert.equal(waiting.conditions![0]!.reason, 'InPlaceRestoreNotAllowed');
      assert.equal(cluster('c')?.spec.inPlaceRestore, undefined, 'asked a cluster that does not allow it');
      k('patch', 'pgc', 'c', '--type=merge', '-p', '{"spec":{"allowInPlaceRestore":true}}');
      const asked = await until('inPlaceRestore', () => cluster('c')?.spec.inPlaceRestore);
      const requestId = `${restoreUid('in-place')}/1`;
      assert.deepEqual(asked, { requestId, backupLabel: '20261125-095500F', exclusive: false });
      report('c', { phase: 'Checking', requestId });
      await phase('in-place', 'Pending');
      report('c', { phase: 'Restored', requestId, timeline: 5, backupLabel: '20261125-095500F' });
      const done = await phase('in-place', 'Succeeded');
      assert.deepEqual(done.restoredTo, { backupLabel: '20261125-095500F', timeline: 5 });

      apply({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresRestore',
        metadata: { name: 'foreign' },
        spec: {
          source: { clusterName: 'restored' },
          destination: { inPlace: { clusterName: 'c', confirm: 'c' } },
        },
      });
      const refused = await phase('foreign', 'Failed');
      assert.equal(refused.conditions![0]!.reason, 'RestoreSourceInvalid');
      assert.equal(
        cluster('c')?.spec.inPlaceRestore?.requestId,
        requestId,
        'a refused restore reached the cluster',
      );
    });
  });
});
