/**
 * planRestore against its own state table (restore-plan.ts): Pending while the local checks run
 * and the request is handed over, Running while the cluster controller restores, Succeeded for
 * good, Failed until the spec changes, with the new cluster of a failed attempt deleted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  ClusterRestoreStatus,
  PostgresBackup,
  PostgresCluster,
  PostgresRestore,
  PostgresRestoreStatus,
} from '@pgop/api';
import { planRestore, requestIdOf, type RestoreWorld } from '../src/restore-plan.js';

const UID = '11111111-2222-3333-4444-555555555555';

function restore(
  destination: PostgresRestore['spec']['destination'],
  o: { generation?: number; status?: PostgresRestoreStatus; source?: PostgresRestore['spec']['source'] } = {},
): PostgresRestore {
  return {
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresRestore',
    metadata: { name: 'r', namespace: 'ns', uid: UID, generation: o.generation ?? 1 },
    spec: {
      source: o.source ?? { clusterName: 'c' },
      target: { time: '2026-11-25T10:00:00Z', exclusive: true },
      destination,
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

function cluster(
  name: string,
  o: {
    request?: string;
    restore?: ClusterRestoreStatus;
    backup?: boolean;
    inPlaceRequest?: string;
    /** spec.allowInPlaceRestore; true unless said otherwise. */
    allowInPlace?: boolean;
    deleting?: boolean;
  } = {},
): PostgresCluster {
  return {
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresCluster',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      ...(o.request ? { annotations: { 'postgres.example.com/restore-request': o.request } } : {}),
      ...(o.deleting ? { deletionTimestamp: new Date('2026-11-25T11:00:00Z') } : {}),
    },
    spec: {
      version: 17,
      replicas: 2,
      storage: { size: '1Gi' },
      ...(o.backup === false ? {} : { backup: { pvc: { size: '1Gi' } } }),
      ...(o.inPlaceRequest ? { inPlaceRestore: { requestId: o.inPlaceRequest } } : {}),
      allowInPlaceRestore: o.allowInPlace ?? true,
    },
    ...(o.restore ? { status: { restore: o.restore } } : {}),
  } as PostgresCluster;
}

const newCluster: PostgresRestore['spec']['destination'] = {
  newCluster: { name: 'restored', spec: { version: 17, replicas: 2, storage: { size: '1Gi' } } },
};
const inPlace = { inPlace: { clusterName: 'c', confirm: 'c' } };
const source = cluster('c');

function plan(r: PostgresRestore, destination?: PostgresCluster, backups: PostgresBackup[] = []) {
  const world: RestoreWorld = {
    restore: r,
    ...(destination ? { destination } : {}),
    clusterNamed: (n) => (n === 'c' ? source : n === destination?.metadata.name ? destination : undefined),
    backupNamed: (n) => backups.find((b) => b.metadata.name === n),
  };
  return planRestore(world);
}

describe('planRestore: a new cluster', () => {
  const r = restore(newCluster);
  const id = requestIdOf(r);

  it('Pending: creates the cluster with spec.restore, labelled and annotated with the request', () => {
    const { action, outcome } = plan(r);
    assert.equal(outcome.phase, 'Pending');
    assert.equal(outcome.reason, 'Creating');
    assert.equal(action.type, 'createCluster');
    if (action.type !== 'createCluster') return;
    assert.deepEqual(action.cluster.spec.restore, {
      clusterName: 'c',
      targetTime: '2026-11-25T10:00:00Z',
      exclusive: true,
    });
    assert.equal(action.cluster.metadata.annotations?.['postgres.example.com/restore-request'], `${UID}/1`);
    assert.equal(action.cluster.metadata.labels?.['postgres.example.com/restore'], 'r');
  });

  it('Pending while the cluster controller has not reported; then follows its phases', () => {
    assert.equal(plan(r, cluster('restored', { request: id })).outcome.reason, 'Checking');
    const phases = (['Checking', 'Restoring', 'Restored', 'Failed'] as const).map(
      (phase) =>
        plan(r, cluster('restored', { request: id, restore: { phase, requestId: id } })).outcome.phase,
    );
    assert.deepEqual(phases, ['Pending', 'Running', 'Succeeded', 'Failed']);
  });

  it('Succeeded carries what the cluster was restored to', () => {
    const reported: ClusterRestoreStatus = {
      phase: 'Restored',
      backupLabel: '20261125-095500F',
      lastTransactionTime: '2026-11-25T09:59:58Z',
      timeline: 3,
      lsn: '0/5000060',
    };
    assert.deepEqual(plan(r, cluster('restored', { request: id, restore: reported })).outcome.restoredTo, {
      backupLabel: '20261125-095500F',
      time: '2026-11-25T09:59:58Z',
      timeline: 3,
      lsn: '0/5000060',
    });
  });

  it('Failed, never touching a cluster of that name that another request made', () => {
    const { action, outcome } = plan(r, cluster('restored'));
    assert.deepEqual([action.type, outcome.phase, outcome.reason], ['none', 'Failed', 'ClusterExists']);
  });

  it('Failed is kept for its generation and its new cluster is deleted; Succeeded is final', () => {
    const failed = restore(newCluster, {
      status: { phase: 'Failed', observedGeneration: 1, conditions: [] },
    });
    const { action } = plan(failed, cluster('restored', { request: id }));
    assert.deepEqual(action, { type: 'deleteCluster', name: 'restored', uid: 'uid-restored' });
    assert.equal(plan(failed, cluster('restored', { request: id, deleting: true })).action.type, 'none');
    const done = restore(newCluster, {
      generation: 2,
      status: { phase: 'Succeeded', observedGeneration: 1 },
    });
    assert.deepEqual(
      [plan(done, cluster('restored', { request: id })).action.type, plan(done).outcome.phase],
      ['none', 'Succeeded'],
    );
  });

  it('a new generation after a failure removes the earlier attempt, then creates again', () => {
    const retry = restore(newCluster, {
      generation: 2,
      status: { phase: 'Failed', observedGeneration: 1 },
    });
    const { action, outcome } = plan(retry, cluster('restored', { request: `${UID}/1` }));
    assert.deepEqual([action.type, outcome.reason], ['deleteCluster', 'Retrying']);
    assert.equal(plan(retry).action.type, 'createCluster');
  });

  it('Failed when the source does not exist, naming the field', () => {
    const missing = plan(restore(newCluster, { source: { clusterName: 'gone' } }));
    assert.equal(missing.outcome.reason, 'RestoreSourceNotFound');
    assert.match(missing.outcome.message, /^spec\.source\.clusterName: PostgresCluster gone does not exist/);
    const noBackup = plan(restore(newCluster, { source: { backupName: 'nightly' } }));
    assert.match(
      noBackup.outcome.message,
      /^spec\.source\.backupName: PostgresBackup nightly does not exist/,
    );
  });
});

describe('planRestore: in place', () => {
  const r = restore(inPlace);
  const id = requestIdOf(r);

  it('Pending: asks the cluster through spec.inPlaceRestore, then waits for its report', () => {
    const { action, outcome } = plan(r, cluster('c'));
    assert.deepEqual(action, {
      type: 'requestInPlace',
      clusterName: 'c',
      inPlaceRestore: { requestId: id, targetTime: '2026-11-25T10:00:00Z', exclusive: true },
    });
    assert.equal(outcome.phase, 'Pending');
    assert.equal(plan(r, cluster('c', { inPlaceRequest: id })).outcome.reason, 'Checking');
    const restoring = cluster('c', { inPlaceRequest: id, restore: { phase: 'Restoring', requestId: id } });
    assert.equal(plan(r, restoring).outcome.phase, 'Running');
  });

  it('waits, asking nothing, until the cluster itself allows in-place restores', () => {
    const { action, outcome } = plan(r, cluster('c', { allowInPlace: false }));
    assert.deepEqual(action, { type: 'none' });
    assert.deepEqual([outcome.phase, outcome.reason], ['Pending', 'InPlaceRestoreNotAllowed']);
    assert.match(outcome.message, /spec\.allowInPlaceRestore: true/);
  });

  it('waits while another request restores the cluster', () => {
    const busy = cluster('c', { restore: { phase: 'Restoring', requestId: 'other/1' } });
    const { action, outcome } = plan(r, busy);
    assert.deepEqual([action.type, outcome.reason], ['none', 'ClusterBusy']);
  });

  it('Failed for a missing cluster, a foreign source, or a cluster without a repository', () => {
    assert.equal(plan(r).outcome.reason, 'ClusterNotFound');
    const foreign = restore(inPlace, { source: { clusterName: 'c', repository: { pvc: { size: '1Gi' } } } });
    assert.equal(plan(foreign, cluster('c')).outcome.reason, 'RestoreSourceInvalid');
    assert.equal(plan(r, cluster('c', { backup: false })).outcome.reason, 'RestoreSourceInvalid');
  });
});
