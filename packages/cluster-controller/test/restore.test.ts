/** A cluster created from a backup: where the data comes from, the Job, and each step of the restore. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { PostgresBackup, PostgresCluster } from '@pgop/api';
import {
  decideRestore,
  logTimeToIso,
  parseRestoreResult,
  type RestoreStep,
} from '../src/restore-progress.js';
import { isBlocker, resolveRestoreSource } from '../src/restore-source.js';
import {
  RESTORE_SCRIPT,
  renderRestoreJob,
  restoreSourceConf,
  restoreTargetOptions,
} from '../src/render/restore-job.js';
import type { RepositoryOf } from '../src/render/pgbackrest.js';
import { cluster, pod } from './fixtures.js';

const s3 = {
  bucket: 'backups',
  endpoint: 'https://minio.storage.svc:9000',
  credentialsSecret: { name: 's3-credentials' },
};
const source = cluster(undefined, { backup: { s3 } });
const sourceName = source.metadata.name!;
const restored = (
  restore: PostgresCluster['spec']['restore'],
  extra: Partial<PostgresCluster['spec']> = {},
) => {
  const c = cluster(undefined, { restore, ...extra });
  return { ...c, metadata: { ...c.metadata, name: 'restored' } };
};
const backup = { metadata: { name: 'nightly' }, spec: { clusterName: sourceName } } as PostgresBackup;
const resolve = (c: PostgresCluster) =>
  resolveRestoreSource(
    c,
    (n) => (n === sourceName ? source : undefined),
    (n) => (n === 'nightly' ? backup : undefined),
  );

describe('resolveRestoreSource', () => {
  it("finds the repository through the PostgresBackup's cluster or the cluster named", () => {
    for (const restore of [{ backupName: 'nightly' }, { clusterName: sourceName }]) {
      const found = resolve(restored(restore)) as RepositoryOf;
      assert.deepEqual(
        [found.clusterName, found.repository.s3?.bucket, found.namespace],
        [sourceName, 'backups', 'db'],
      );
    }
  });

  it('takes a given repository for a cluster that no longer exists', () => {
    const found = resolve(restored({ clusterName: 'gone', repository: { s3 } })) as RepositoryOf;
    assert.equal(found.clusterName, 'gone');
  });

  it('names what is missing, and refuses to archive into the repository it restores from', () => {
    const missing = [
      [{ backupName: 'nope' }, /PostgresBackup nope does not exist in namespace db/],
      [{ clusterName: 'gone' }, /PostgresCluster gone does not exist .* give spec.restore.repository/],
    ] as const;
    for (const [restore, message] of missing) {
      const r = resolve(restored(restore));
      assert.ok(isBlocker(r));
      assert.equal(r.reason, 'RestoreSourceNotFound');
      assert.match(r.message, message);
    }
    const same = resolve(
      restored(
        { clusterName: sourceName },
        { backup: { s3: { ...s3, path: `/pgbackrest/db/${sourceName}` } } },
      ),
    );
    assert.ok(isBlocker(same) && same.reason === 'RestoreSourceInvalid', JSON.stringify(same));
  });
});

describe('the restore Job', () => {
  it('passes the target to pgbackrest restore: latest, a backup, a time (exclusive)', () => {
    assert.deepEqual(restoreTargetOptions({ clusterName: 'a' }), ['--type=default']);
    assert.deepEqual(restoreTargetOptions({ clusterName: 'a', backupLabel: '20240115-020000F' }), [
      '--set=20240115-020000F',
      '--type=immediate',
      '--target-action=promote',
    ]);
    assert.deepEqual(
      restoreTargetOptions({ clusterName: 'a', targetTime: '2024-01-15T01:30:00Z', exclusive: true }),
      ['--type=time', '--target=2024-01-15 01:30:00+00', '--target-exclusive', '--target-action=promote'],
    );
  });

  it("reads the source's repository with the source's credentials, and keeps them off the StatefulSet", () => {
    const c = restored({ backupName: 'nightly', targetTime: '2024-01-15T01:30:00Z' });
    const from = resolve(c) as RepositoryOf;
    const conf = restoreSourceConf(from);
    assert.match(conf, new RegExp(`repo1-path=/pgbackrest/db/${sourceName}`));
    assert.match(conf, /repo1-s3-bucket=backups/);
    assert.doesNotMatch(conf, /key|secret/i);
    const [, job] = renderRestoreJob(c, from, 'postgres:17');
    const spec = job.spec!.template.spec!;
    assert.equal(job.spec!.backoffLimit, 0);
    assert.deepEqual(spec.volumes![0]!.persistentVolumeClaim, { claimName: 'pgdata-restored-0' });
    const secrets = spec.volumes![1]!.projected!.sources!.map((s) => s.secret?.name).filter(Boolean);
    assert.deepEqual(secrets, ['s3-credentials']);
    const env = spec.containers[0]!.env!.map((e) => [e.name, e.valueFrom?.secretKeyRef?.name]);
    assert.deepEqual(env.slice(1), [
      ['SUPERUSER_PASSWORD', 'restored-superuser'],
      ['REPLICATION_PASSWORD', 'restored-replication'],
    ]);
    assert.ok(spec.containers[0]!.command!.includes('--target=2024-01-15 01:30:00+00'));
    // Nothing of the source's recovery or Patroni settings is left for the new cluster's Patroni.
    assert.match(RESTORE_SCRIPT, /ALTER SYSTEM RESET restore_command;/);
    assert.match(RESTORE_SCRIPT, /rm -f "\$PGDATA\/patroni.dynamic.json"/);
  });
});

describe('decideRestore', () => {
  const statusOf = (step: RestoreStep) => (step.type === 'none' ? undefined : step.status);
  const c = restored({ backupName: 'nightly' });
  const job = (status: V1Job['status']): V1Job => ({ metadata: { name: 'restored-restore' }, status });
  const jobPod = (message: string): V1Pod => ({
    status: { containerStatuses: [{ state: { terminated: { exitCode: 0, message } } } as never] },
  });
  const base = {
    cluster: c,
    source: 's3://backups/x',
    statefulSetExists: false,
    pods: [],
    now: new Date('2026-11-25T12:00:00Z'),
  };

  it('creates the Job, waits for it, and reports a failure with its message', () => {
    assert.equal(decideRestore(base).type, 'createJob');
    assert.equal(decideRestore({ ...base, job: job({ active: 1 }) }).type, 'wait');
    const failed = decideRestore({
      ...base,
      job: job({ failed: 1 }),
      jobPod: jobPod('recovery failed: target not reached'),
    });
    assert.equal(failed.type, 'failed');
    assert.equal(statusOf(failed)!.phase, 'Failed');
    assert.match(statusOf(failed)!.message!, /target not reached .*kubectl logs job\/restored-restore/);
  });

  it("after the Job, runs the first instance alone with the Job's result, then is done when it leads", () => {
    const result = '{"timeline" : 3, "lsn" : "0/5000060", "time" : "2026-11-25 04:41:09.932266+00"}';
    const first = decideRestore({ ...base, job: job({ succeeded: 1 }), jobPod: jobPod(result) });
    assert.equal(first.type, 'firstInstance');
    assert.deepEqual(
      [statusOf(first)?.timeline, statusOf(first)?.lsn, statusOf(first)?.lastTransactionTime],
      [3, '0/5000060', '2026-11-25T04:41:09.932Z'],
    );
    const withStatus = {
      ...c,
      status: { restore: statusOf(first) },
    } as PostgresCluster;
    const starting = decideRestore({
      ...base,
      cluster: withStatus,
      statefulSetExists: true,
      pods: [pod('restored-0', { role: 'replica', ready: false })],
    });
    assert.equal(starting.type, 'firstInstance');
    const done = decideRestore({
      ...base,
      cluster: withStatus,
      statefulSetExists: true,
      leader: 'restored-0',
      pods: [pod('restored-0', { role: 'primary' })],
    });
    assert.equal(done.type, 'done');
    assert.deepEqual([statusOf(done)?.phase, statusOf(done)?.timeline], ['Restored', 3]);
    const over = { ...c, status: { restore: { phase: 'Restored' as const } } };
    assert.equal(decideRestore({ ...base, cluster: over }).type, 'none');
  });

  it("reads PostgreSQL's log time and tolerates a result it cannot parse", () => {
    assert.equal(logTimeToIso('2024-01-15 01:30:00+00'), '2024-01-15T01:30:00.000Z');
    assert.equal(logTimeToIso('2024-01-15 01:30:00.5-05:30'), '2024-01-15T07:00:00.500Z');
    assert.equal(logTimeToIso(''), undefined);
    assert.deepEqual(parseRestoreResult('not json'), {});
  });
});
