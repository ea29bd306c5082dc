/** Restore verification: when it starts, how it follows the temporary cluster, how it ends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostgresBackup, PostgresCluster, VerificationStatus } from '@pgop/api';
import { decideVerification, type VerificationWorld } from '../../src/verification/decide.js';
import { renderVerifyCluster, renderVerifyJob } from '../../src/render/verification.js';

const now = new Date('2026-11-25T06:30:00Z');
const backup = (
  status: PostgresBackup['status'] = { backupCount: 1 },
  annotations?: Record<string, string>,
) =>
  ({
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresBackup',
    metadata: {
      name: 'nightly',
      namespace: 'db',
      uid: 'u1',
      creationTimestamp: '2026-11-20T00:00:00Z',
      annotations,
    },
    spec: { clusterName: 'c', verify: { schedule: '0 6 * * *' } },
    status,
  }) as PostgresBackup;
const running: VerificationStatus = {
  phase: 'Running',
  cluster: 'nightly-verify',
  startedAt: '2026-11-25T06:00:00Z',
  lastSucceeded: '2026-11-24T06:05:00Z',
};
const temporary = (restore?: object, phase = 'Running') =>
  ({ metadata: { name: 'nightly-verify' }, spec: {}, status: { phase, restore } }) as PostgresCluster;
const decide = (w: Partial<VerificationWorld>) =>
  decideVerification({ backup: backup(), clusterName: 'nightly-verify', now, ...w });

describe('decideVerification', () => {
  it('starts when the schedule is due or a new trigger value asks, once a backup exists', () => {
    const due = decide({});
    assert.deepEqual(
      [due.step.type, due.status?.phase, due.status?.cluster],
      ['createCluster', 'Running', 'nightly-verify'],
    );
    const done = { ...running, phase: 'Succeeded' as const, startedAt: '2026-11-25T06:00:00Z', trigger: 'a' };
    assert.equal(decide({ backup: backup({ backupCount: 1, verification: done }) }).step.type, 'none');
    assert.equal(
      decide({
        backup: backup({ backupCount: 1, verification: done }, { 'backup.postgres.example.com/verify': 'a' }),
      }).step.type,
      'none',
    );
    const asked = decide({
      backup: backup({ backupCount: 1, verification: done }, { 'backup.postgres.example.com/verify': 'b' }),
    });
    assert.deepEqual(
      [asked.step.type, asked.status?.trigger, asked.status?.lastSucceeded],
      ['createCluster', 'b', '2026-11-24T06:05:00Z'],
    );
    assert.equal(decide({ backup: backup({ backupCount: 0 }) }).step.type, 'none', 'nothing to restore yet');
  });

  it('waits for the restore, runs the check, and succeeds with what it restored and the query returned', () => {
    const b = backup({ backupCount: 1, verification: running });
    assert.equal(decide({ backup: b }).step.type, 'createCluster');
    assert.equal(
      decide({ backup: b, cluster: temporary({ phase: 'Restoring' }, 'Creating') }).step.type,
      'wait',
    );
    const restored = temporary({
      phase: 'Restored',
      backupLabel: '20261125-020000F',
      lastTransactionTime: '2026-11-25T05:59:00Z',
    });
    assert.equal(decide({ backup: b, cluster: restored }).step.type, 'runCheck');
    const job = { status: { succeeded: 1 } };
    const ok = decide({ backup: b, cluster: restored, job, result: { ok: true, rows: 412 } });
    assert.deepEqual(
      [ok.step.type, ok.status?.phase, ok.status?.lastSucceeded],
      ['cleanUp', 'Succeeded', '2026-11-25T06:30:00Z'],
    );
    assert.match(
      ok.status!.message!,
      /backup 20261125-020000F, last transaction 2026-11-25T05:59:00Z; the check query returned 412 rows as the read-only role/,
    );
    assert.equal(ok.status?.next, '2026-11-26T06:00:00Z');
  });

  it('fails with the reason of a failed restore or query, keeps the last success, and times out', () => {
    const b = backup({ backupCount: 1, verification: running });
    const restoreFailed = decide({
      backup: b,
      cluster: temporary({ phase: 'Failed', reason: 'RepositoryUnreachable', message: 'ERROR [039]' }),
    });
    assert.deepEqual([restoreFailed.step.type, restoreFailed.status?.phase], ['cleanUp', 'Failed']);
    assert.match(restoreFailed.status!.message!, /the restore failed: RepositoryUnreachable: ERROR \[039\]/);
    assert.equal(restoreFailed.status?.lastSucceeded, '2026-11-24T06:05:00Z');
    const restored = temporary({ phase: 'Restored' });
    const query = decide({
      backup: b,
      cluster: restored,
      job: { status: { failed: 1 } },
      result: { ok: false, error: 'relation "orders" does not exist' },
    });
    assert.match(query.status!.message!, /but relation "orders" does not exist/);
    const late = decide({
      backup: b,
      cluster: temporary({ phase: 'Restoring' }),
      now: new Date('2026-11-25T08:01:00Z'),
    });
    assert.deepEqual([late.status?.phase, late.step.type], ['Failed', 'cleanUp']);
  });

  it('a temporary cluster left over is deleted; without spec.verify nothing runs', () => {
    const over = backup({ backupCount: 1, verification: { ...running, phase: 'Failed' } });
    assert.equal(decide({ backup: over, cluster: temporary() }).step.type, 'cleanUp');
    const off = { ...backup(), spec: { clusterName: 'c' } } as PostgresBackup;
    assert.deepEqual(decide({ backup: off }), { step: { type: 'none' }, status: undefined });
  });

  it("renders one instance of the source's version restored from the backup, owned by it, and the check Job", () => {
    const source = {
      metadata: { name: 'c' },
      spec: { version: 17, replicas: 3, storage: { size: '5Gi' }, backup: { s3: {} } },
    } as PostgresCluster;
    const c = renderVerifyCluster(backup(), source);
    assert.deepEqual(c.spec, {
      version: 17,
      replicas: 1,
      storage: { size: '5Gi' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
      restore: { backupName: 'nightly' },
    });
    assert.equal(c.metadata.ownerReferences?.[0]?.uid, 'u1');
    const job = renderVerifyJob(backup(), { image: 'op:dev', jobClusterRole: 'r' }, running.startedAt);
    const env = Object.fromEntries(
      job.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]),
    );
    assert.deepEqual(
      [env.PGOP_CLUSTER, env.PGOP_VERIFY_QUERY],
      ['nightly-verify', 'SELECT count(*) FROM pg_class'],
    );
    assert.equal(job.spec!.backoffLimit, 0);
    assert.equal(job.metadata!.labels!['postgres.example.com/backup-reason'], 'verify');
  });
});
