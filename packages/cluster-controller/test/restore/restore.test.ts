/** A cluster created from a backup: where the data comes from, the Job, and each step of the restore. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { PostgresBackup, PostgresCluster } from '@pgop/api';
import {
  decideRestore,
  logTimeToIso,
  parseRestoreResult,
  restoreRequestOf,
  type RestoreObservation,
} from '../../src/restore/progress.js';
import { checkRestoreTarget, type RepositoryFacts } from '../../src/restore/preflight.js';
import { isBlocker, resolveRestoreSource } from '../../src/restore/source.js';
import { RESTORE_SCRIPT, renderRestoreJob, restoreTargetOptions } from '../../src/render/restore-job.js';
import { renderRestoreCheckJob } from '../../src/render/restore-check-job.js';
import { restoreSourceConf } from '../../src/render/restore-pod.js';
import type { RepositoryOf } from '../../src/pgbackrest/repository.js';
import { cluster, pod } from '../fixtures.js';

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
    assert.deepEqual(restoreTargetOptions({}), ['--type=default']);
    assert.deepEqual(restoreTargetOptions({ backupLabel: '20240115-020000F' }), [
      '--set=20240115-020000F',
      '--type=immediate',
      '--target-action=promote',
    ]);
    assert.deepEqual(restoreTargetOptions({ targetTime: '2024-01-15T01:30:00Z', exclusive: true }), [
      '--type=time',
      '--target=2024-01-15 01:30:00+00',
      '--target-exclusive',
      '--target-action=promote',
    ]);
  });

  it("reads the source's repository with the source's credentials, and keeps them off the StatefulSet", () => {
    const c = restored({ backupName: 'nightly', targetTime: '2024-01-15T01:30:00Z' });
    const from = resolve(c) as RepositoryOf;
    const conf = restoreSourceConf(from);
    assert.match(conf, new RegExp(`repo1-path=/pgbackrest/db/${sourceName}`));
    assert.match(conf, /repo1-s3-bucket=backups/);
    assert.doesNotMatch(conf, /key|secret/i);
    const [, job] = renderRestoreJob(c, restoreRequestOf(c)!, from, 'postgres:17');
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
    // Passwords reach SQL as psql variables it quotes itself, never as text in the statement.
    assert.match(RESTORE_SCRIPT, /PASSWORD :'superuser_password'/);
    assert.match(RESTORE_SCRIPT, /\\getenv replication_password REPLICATION_PASSWORD/);
    assert.doesNotMatch(RESTORE_SCRIPT, /'\$[A-Z_]*PASSWORD'/);
    assert.ok(!env.some(([name]) => name === 'RESTORE_DELTA'), 'a new cluster starts from an empty volume');
  });

  it('in place, restores with --delta; the check Job reads the repository without the data volume', () => {
    const c = cluster(undefined, { backup: { s3 } });
    const own = { repository: c.spec.backup!, clusterName: c.metadata.name!, namespace: 'db' };
    const request = { key: 'uid/2', id: 'uid/2', inPlace: true, target: {} };
    const [, job] = renderRestoreJob(c, request, own, 'postgres:17');
    const container = job.spec!.template.spec!.containers[0]!;
    assert.ok(container.env!.some((e) => e.name === 'RESTORE_DELTA' && e.value === 'y'));
    assert.equal(job.metadata!.annotations!['postgres.example.com/restore-request'], 'uid/2');
    const [, check] = renderRestoreCheckJob(
      c,
      'uid/2',
      { backupLabel: '20240115-020000F' },
      own,
      'postgres:17',
    );
    const checkSpec = check.spec!.template.spec!;
    assert.deepEqual(checkSpec.containers[0]!.command, [
      'python3',
      '/etc/pgbackrest-source/check.py',
      '20240115-020000F',
    ]);
    assert.ok(!checkSpec.volumes!.some((v) => v.persistentVolumeClaim), 'the check touches no volume');
  });
});

describe('checkRestoreTarget (pre-flight)', () => {
  // Backups ended at 10:00 and 12:00; the newest WAL reached the repository at 12:30.
  const at = (hhmm: string) => Date.parse(`2026-11-25T${hhmm}:00Z`) / 1000;
  const facts: RepositoryFacts = {
    status: 'ok',
    backups: 2,
    first: { label: '20261125-095500F', stop: at('10:00') },
    last: { label: '20261125-115500F', stop: at('12:00') },
    label: null,
    version: '17',
    wal: { segment: '000000010000000000000009', time: at('12:30') },
  };
  const check = (target: object, f: RepositoryFacts = facts, version = 17) =>
    checkRestoreTarget(target, f, version);

  it('accepts the latest point and a time inside the window, and reports the window', () => {
    for (const target of [
      {},
      { targetTime: '2026-11-25T11:00:00Z' },
      { targetTime: '2026-11-25T12:30:00Z' },
    ]) {
      const v = check(target);
      assert.ok(v.ok, JSON.stringify(v));
      assert.deepEqual(
        [v.recoverableFrom, v.recoverableUntil],
        ['2026-11-25T10:00:00Z', '2026-11-25T12:30:00Z'],
      );
    }
  });

  it('refuses a time before the oldest backup ended or after the newest WAL, naming the window', () => {
    for (const [time, why] of [
      ['2026-11-25T09:59:00Z', /before the end of the oldest backup/],
      ['2026-11-25T12:31:00Z', /after the newest WAL/],
    ] as const) {
      const v = check({ targetTime: time });
      assert.ok(!v.ok);
      assert.equal(v.reason, 'RestoreTargetOutOfRange');
      assert.match(v.message, why);
      assert.match(
        v.message,
        /from 2026-11-25T10:00:00Z \(end of backup 20261125-095500F\) to 2026-11-25T12:30:00Z/,
      );
    }
  });

  it('refuses a backup label the repository lacks, an empty repository and another major version', () => {
    const label = check({ backupLabel: '20200101-000000F' });
    assert.ok(
      !label.ok &&
        label.reason === 'RestoreTargetOutOfRange' &&
        /not in the source repository/.test(label.message),
    );
    assert.ok(check({ backupLabel: '20261125-095500F' }, { ...facts, label: facts.first }).ok);
    const empty = check({}, { ...facts, backups: 0, first: null, last: null, status: 'no valid backups' });
    assert.ok(!empty.ok && empty.reason === 'NoBackupInRepository' && /no valid backups/.test(empty.message));
    const version = check({}, facts, 16);
    assert.ok(
      !version.ok &&
        version.reason === 'RestoreVersionMismatch' &&
        /PostgreSQL 17, but spec.version is 16/.test(version.message),
    );
  });
});

describe('decideRestore', () => {
  const c = restored({ backupName: 'nightly' });
  const job = (name: string, status: V1Job['status']): V1Job => ({ metadata: { name }, status });
  const ended = (message: string): V1Pod => ({
    status: { containerStatuses: [{ state: { terminated: { exitCode: 0, message } } } as never] },
  });
  const facts = JSON.stringify({
    status: 'ok',
    backups: 1,
    first: { label: '20261125-095500F', stop: 1764064800 },
    last: { label: '20261125-095500F', stop: 1764064800 },
    label: null,
    version: String(c.spec.version),
    wal: { segment: '000000010000000000000009', time: 1764066600 },
  });
  /** The Jobs given are the request's own (owned by the cluster, marked with the request). */
  const observe = (over: Partial<RestoreObservation> = {}): RestoreObservation => {
    const cl = over.cluster ?? c;
    const request = restoreRequestOf(cl)!;
    const own = (j: V1Job | undefined) =>
      j && {
        ...j,
        metadata: {
          ...j.metadata,
          ownerReferences: [{ uid: cl.metadata.uid! } as never],
          annotations: { 'postgres.example.com/restore-request': request.key },
        },
      };
    return {
      cluster: cl,
      request,
      source: 's3://backups/x',
      statefulSet: { exists: false, replicas: 0 },
      pods: [],
      now: new Date('2026-11-25T12:00:00Z'),
      ...over,
      checkJob: own(over.checkJob),
      job: own(over.job),
    };
  };
  const withRestore = (cl: PostgresCluster, restore: object) =>
    ({ ...cl, status: { ...cl.status, restore } }) as PostgresCluster;
  const checked = observe({
    checkJob: job('restored-restore-check', { succeeded: 1 }),
    checkPod: ended(facts),
  });

  it('checks the repository first and touches nothing until the check is recorded', () => {
    const first = decideRestore(observe());
    assert.deepEqual([first.type, first.status?.phase, first.instances], ['check', 'Checking', 'none']);
    assert.equal(decideRestore(observe({ checkJob: job('x', { active: 1 }) })).type, 'wait');
    const passed = decideRestore(checked);
    assert.deepEqual([passed.type, passed.status?.phase], ['wait', 'Restoring']);
    assert.equal(passed.status?.recoverableFrom, '2025-11-25T10:00:00Z');
    const unreachable = decideRestore(
      observe({
        checkJob: job('x', { failed: 1 }),
        checkPod: ended('the source repository cannot be read: ERROR [039]'),
      }),
    );
    assert.deepEqual(
      [unreachable.status?.phase, unreachable.status?.reason],
      ['Failed', 'RepositoryUnreachable'],
    );
    assert.match(unreachable.status!.message!, /ERROR \[039\]/);
  });

  it('refuses to restore a new cluster into a volume of an earlier cluster of the same name, touching nothing', () => {
    const retained = decideRestore(observe({ firstVolume: { madeByRestore: false, deleting: false } }));
    assert.deepEqual(
      [retained.type, retained.status?.phase, retained.status?.reason, retained.instances],
      ['failed', 'Failed', 'RestoreVolumeExists', 'none'],
    );
    assert.match(retained.status!.message!, /pgdata-restored-0 already exists and was not made by a restore/);
    assert.match(retained.status!.message!, /kubectl delete pvc pgdata-restored-0/);
    // Also once the check passed: the restore Job is never started over it.
    assert.equal(
      decideRestore({ ...checked, firstVolume: { madeByRestore: false, deleting: false } }).status?.reason,
      'RestoreVolumeExists',
    );
    // A volume an earlier, failed restore made starts again from empty; one going away is waited for.
    assert.equal(
      decideRestore(observe({ firstVolume: { madeByRestore: true, deleting: false } })).type,
      'check',
    );
    assert.equal(
      decideRestore(observe({ firstVolume: { madeByRestore: false, deleting: true } })).type,
      'check',
    );
  });

  it("removes Jobs of an earlier request or cluster first, without starting a new cluster's instances", () => {
    const earlier = (metadata: V1Job['metadata']): RestoreObservation => ({
      ...observe(),
      checkJob: { metadata: { name: 'restored-restore-check', ...metadata }, status: { failed: 1 } },
    });
    const ofEarlierCluster = decideRestore(earlier({ ownerReferences: [{ uid: 'gone' } as never] }));
    assert.deepEqual(ofEarlierCluster, {
      type: 'removeStale',
      jobs: ['restored-restore-check'],
      instances: 'none',
    });
    const key = restoreRequestOf(c)!.key;
    const ownerReferences = [{ uid: c.metadata.uid! } as never];
    const ofEarlierRequest = decideRestore(
      earlier({ ownerReferences, annotations: { 'postgres.example.com/restore-request': 'x/1' } }),
    );
    assert.equal(ofEarlierRequest.type, 'removeStale');
    const current = decideRestore(
      earlier({ ownerReferences, annotations: { 'postgres.example.com/restore-request': key } }),
    );
    assert.equal(current.status?.reason, 'RepositoryUnreachable', 'its own check Job is read, not removed');
  });

  it('a new cluster: creates the Job, waits for it, and reports a failure with its message', () => {
    const restoring = withRestore(c, decideRestore(checked).status!);
    assert.equal(decideRestore(observe({ cluster: restoring })).type, 'restore');
    assert.equal(
      decideRestore(observe({ cluster: restoring, job: job('restored-restore', { active: 1 }) })).type,
      'wait',
    );
    const failed = decideRestore(
      observe({
        cluster: restoring,
        job: job('restored-restore', { failed: 1 }),
        jobPod: ended('recovery failed: target not reached'),
      }),
    );
    assert.deepEqual(
      [failed.type, failed.status?.reason, failed.instances],
      ['failed', 'RestoreFailed', 'none'],
    );
    assert.match(failed.status!.message!, /target not reached .*kubectl logs job\/restored-restore/);
  });

  it("after the Job, runs the first instance alone with the Job's result, then is done when it leads", () => {
    const restoring = withRestore(c, decideRestore(checked).status!);
    const result =
      '{"timeline" : 3, "lsn" : "0/5000060", "time" : "2026-11-25 04:41:09.932266+00", "backupLabel" : "20261125-095500F"}';
    const done = job('restored-restore', { succeeded: 1 });
    const first = decideRestore(observe({ cluster: restoring, job: done, jobPod: ended(result) }));
    assert.deepEqual([first.type, first.instances], ['firstInstance', 'first']);
    assert.deepEqual(
      [
        first.status?.timeline,
        first.status?.lsn,
        first.status?.lastTransactionTime,
        first.status?.backupLabel,
      ],
      [3, '0/5000060', '2026-11-25T04:41:09.932Z', '20261125-095500F'],
    );
    const running = { exists: true, replicas: 1 };
    const starting = decideRestore(
      observe({
        cluster: restoring,
        job: done,
        statefulSet: running,
        pods: [pod('restored-0', { role: 'replica', ready: false })],
      }),
    );
    assert.equal(starting.type, 'firstInstance');
    const leads = decideRestore(
      observe({
        cluster: restoring,
        job: done,
        jobPod: ended(result),
        statefulSet: running,
        leader: 'restored-0',
        pods: [pod('restored-0', { role: 'primary' })],
      }),
    );
    assert.deepEqual([leads.type, leads.status?.phase, leads.instances], ['done', 'Restored', 'normal']);
    assert.equal(decideRestore(observe({ cluster: withRestore(c, { phase: 'Restored' }) })).type, 'none');
  });

  describe('in place', () => {
    const live = cluster(undefined, {
      backup: { s3 },
      inPlaceRestore: { requestId: 'uid/1', targetTime: '2025-11-25T10:10:00Z' },
    });
    const pods = [
      pod(`${live.metadata.name}-0`, { role: 'primary' }),
      pod(`${live.metadata.name}-1`, { role: 'replica' }),
    ];
    const running = { exists: true, replicas: 2 };
    const inPlace = (over: Partial<RestoreObservation>) =>
      observe({ cluster: live, statefulSet: running, pods, ...over });

    it('keeps the cluster running while checking, and when the check refuses the target', () => {
      const first = decideRestore(inPlace({}));
      assert.deepEqual([first.type, first.instances, first.status?.requestId], ['check', 'normal', 'uid/1']);
      const late = JSON.stringify({ ...JSON.parse(facts), wal: { segment: 'x', time: 1764064900 } });
      const refused = decideRestore(inPlace({ checkJob: job('x', { succeeded: 1 }), checkPod: ended(late) }));
      assert.deepEqual(
        [refused.type, refused.instances, refused.status?.reason],
        ['failed', 'normal', 'RestoreTargetOutOfRange'],
      );
      const after = decideRestore(inPlace({ cluster: withRestore(live, refused.status!) }));
      assert.deepEqual([after.type, after.instances], ['none', 'normal']);
    });

    it('stops every instance, then restores; a failed restore keeps them stopped until a retry succeeds', () => {
      const restoring = withRestore(live, {
        phase: 'Restoring',
        requestId: 'uid/1',
        source: 's3://backups/x',
      });
      const stop = decideRestore(inPlace({ cluster: restoring }));
      assert.deepEqual([stop.type, stop.instances, stop.status?.instancesStopped], ['stop', 'none', true]);
      const stopped = withRestore(live, stop.status!);
      assert.equal(
        decideRestore(inPlace({ cluster: stopped, statefulSet: { exists: true, replicas: 0 } })).type,
        'stop',
      );
      const restore = decideRestore(
        inPlace({ cluster: stopped, statefulSet: { exists: true, replicas: 0 }, pods: [] }),
      );
      assert.deepEqual([restore.type, restore.instances], ['restore', 'none']);
      const failed = decideRestore(
        inPlace({
          cluster: stopped,
          statefulSet: { exists: true, replicas: 0 },
          pods: [],
          job: job('x', { failed: 1 }),
        }),
      );
      assert.deepEqual(
        [failed.type, failed.instances, failed.status?.instancesStopped],
        ['failed', 'none', true],
      );
      // A retry (a new request) checks again with the instances still stopped.
      const retry = withRestore(
        { ...live, spec: { ...live.spec, inPlaceRestore: { requestId: 'uid/2' } } },
        failed.status!,
      );
      const check = decideRestore(
        inPlace({ cluster: retry, statefulSet: { exists: true, replicas: 0 }, pods: [] }),
      );
      assert.deepEqual(
        [check.type, check.instances, check.status?.instancesStopped],
        ['check', 'none', true],
      );
    });

    it('is done when the first instance leads on the restored data, and the instances run again', () => {
      const restored0 = withRestore(live, { phase: 'Restoring', requestId: 'uid/1', instancesStopped: true });
      const leads = decideRestore(
        inPlace({
          cluster: restored0,
          job: job('x', { succeeded: 1 }),
          statefulSet: { exists: true, replicas: 1 },
          leader: `${live.metadata.name}-0`,
          pods: [pod(`${live.metadata.name}-0`, { role: 'primary' })],
        }),
      );
      assert.deepEqual(
        [leads.type, leads.status?.phase, leads.status?.instancesStopped],
        ['done', 'Restored', undefined],
      );
    });
  });

  it("reads PostgreSQL's log time and tolerates a result it cannot parse", () => {
    assert.equal(logTimeToIso('2024-01-15 01:30:00+00'), '2024-01-15T01:30:00.000Z');
    assert.equal(logTimeToIso('2024-01-15 01:30:00.5-05:30'), '2024-01-15T07:00:00.500Z');
    assert.equal(logTimeToIso(''), undefined);
    assert.deepEqual(parseRestoreResult('not json'), {});
  });
});
