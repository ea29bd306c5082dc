/**
 * The backup controller's reconcile against a real API server (no kubelet: Jobs are created but
 * never run; their results are covered end to end in backups.test.ts). What a user sees from the
 * API: the CronJob of the schedule, the Jobs' identity, status, and exactly one Job per trigger
 * value, also across a controller restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBackupController } from '@pgop/backup-controller';
import { createLogger } from '@pgop/runtime';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually, kubectlOk, REPO_ROOT, startApiServer, type TestApiServer } from '../src/index.js';

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
    oneOff?: { job: string; phase: string };
    lastTrigger?: { value: string; job: string; phase: string };
    conditions?: { type: string; status: string; reason: string }[];
  };
  const status = (name: string) =>
    (JSON.parse(k('get', 'pgbackup', name, '-o', 'json')) as { status?: Status }).status ?? {};
  const jobs = () => k('get', 'jobs', '-o', 'name').trim().split('\n').filter(Boolean);
  const until = <T>(what: string, check: () => T | undefined) => eventually(what, check, 30, undefined, 200);

  async function startController() {
    const { controller, informers } = createBackupController({
      kubeConfig: server.kubeConfig,
      logger: createLogger({ component: 'test', level: process.env.TEST_LOG_LEVEL ?? 'error' }),
      settings: { image: 'localhost/pgop/operator:dev', jobClusterRole: 'pgop-backup-job' },
      identity: 'integration-test',
    });
    for (const i of informers) await i.start();
    await Promise.all(informers.map((i) => i.synced));
    controller.start();
    stop = async () => {
      await controller.stop();
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
    await until('second Job', () => (jobs().length === 2 ? true : undefined));
    assert.equal(status('nightly').lastTrigger?.value, 'second');
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
});
