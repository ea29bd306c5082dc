/** What kubectl pg status shows (status.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostgresBackup, PostgresCluster } from '@pgop/api';
import { clusterReport, fleetRows, renderClusterReport, renderFleet, type Pod } from '../src/status.js';

const now = new Date('2026-12-03T12:00:00Z');
const cluster = {
  metadata: { name: 'orders', namespace: 'shop', annotations: { 'postgres.example.com/paused': 'true' } },
  spec: { version: 17, replicas: 2, storage: { size: '1Gi' } },
  status: {
    phase: 'Running',
    version: 17,
    readySummary: '2/2',
    primaryPod: 'orders-1',
    lastFailover: {
      time: '2026-12-03T11:50:00Z',
      from: 'orders-0',
      to: 'orders-1',
      reason: 'PrimaryUnavailable',
    },
    backup: {
      repository: 's3://bucket/orders',
      archiving: { lastArchivedWal: '000000020000000000000005', lastArchivedTime: '2026-12-03T11:59:00Z' },
    },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'AllInstancesReady',
        message: 'all 2 ready',
        lastTransitionTime: '',
      },
    ],
  },
} as unknown as PostgresCluster;
const pod = (name: string, role: string, member: object): Pod => ({
  metadata: {
    name,
    labels: { 'postgres.example.com/role': role },
    annotations: { status: JSON.stringify(member) },
  },
  spec: { nodeName: 'node-a' },
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'postgres', restartCount: 1 }],
  },
});
const pods = [
  pod('orders-1', 'primary', { role: 'primary', state: 'running', timeline: 2, xlog_location: 5000 }),
  pod('orders-0', 'replica', { role: 'replica', state: 'running', timeline: 2, xlog_location: 3976 }),
];
const backups = [
  {
    metadata: { name: 'nightly', namespace: 'shop' },
    spec: { clusterName: 'orders', schedule: '0 2 * * *' },
    status: {
      lastBackup: '2026-12-03T02:10:00Z',
      backupCount: 3,
      verification: {
        phase: 'Succeeded',
        cluster: 'v',
        startedAt: '',
        lastSucceeded: '2026-12-01T06:05:00Z',
      },
      conditions: [
        {
          type: 'BackupHealthy',
          status: 'True',
          reason: 'BackupSucceeded',
          message: '',
          lastTransitionTime: '',
        },
      ],
    },
  },
  { metadata: { name: 'other', namespace: 'shop' }, spec: { clusterName: 'another' } },
] as unknown as PostgresBackup[];

describe('kubectl pg status', () => {
  it('shows each instance with role, node, timeline and lag from Patroni, primary first by name order', () => {
    const report = clusterReport(cluster, pods, backups);
    assert.deepEqual(
      report.instances.map((i) => [i.pod, i.role, i.timeline, i.lagBytes, i.ready]),
      [
        ['orders-0', 'replica', 2, 1024, true],
        ['orders-1', 'primary', 2, undefined, true],
      ],
    );
    assert.equal(report.paused, true);
    assert.deepEqual(
      report.backups.map((b) => b.name),
      ['nightly'],
    );
    const text = renderClusterReport(report, now);
    assert.match(text, /PAUSED/);
    assert.match(text, /orders-0 +replica +running +yes +node-a +2 +1\.0 KiB +1/);
    assert.match(
      text,
      /last failover: +orders-0 -> orders-1 \(PrimaryUnavailable\), 600s ago|last failover: +orders-0 -> orders-1 \(PrimaryUnavailable\), 10m ago/,
    );
    assert.match(text, /archiving: +last 000000020000000000000005 60s ago; failed 0/);
    assert.match(
      text,
      /nightly: schedule 0 2 \* \* \*, last backup 10h ago, 3 in the repository, healthy True \(BackupSucceeded\)/,
    );
    assert.match(text, /verification: Succeeded, last succeeded 2d ago/);
  });

  it('lists roles and databases with their state, Secret and what PostgreSQL refused', () => {
    const withAccess = structuredClone(cluster);
    withAccess.status!.roles = [
      { name: 'orders', state: 'Applied', reclaimPolicy: 'Delete', secret: 'orders-role-orders' },
      {
        name: 'etl',
        state: 'Failed',
        removed: true,
        reclaimPolicy: 'Delete',
        reason: 'DropRefused',
        message: 'some objects depend on it',
      },
    ];
    withAccess.status!.databases = [{ name: 'orders', state: 'Applied', reclaimPolicy: 'Retain' }];
    const text = renderClusterReport(clusterReport(withAccess, pods, backups), now);
    assert.match(
      text,
      /Roles and databases:\n +KIND +NAME +STATE +DETAIL\n +role +orders +Applied +Secret orders-role-orders\n/,
    );
    assert.match(
      text,
      /role +etl +Failed +removed, reclaimPolicy Delete; DropRefused: some objects depend on it/,
    );
    assert.match(text, /database +orders +Applied\n/);
    assert.doesNotMatch(
      renderClusterReport(clusterReport(cluster, pods, backups), now),
      /Roles and databases/,
    );
  });

  it("shows the pooler's Services with their ready pods", () => {
    const withPooler = structuredClone(cluster);
    withPooler.spec.pooler = { instances: 2, readOnlyInstances: 1 };
    withPooler.status!.pooler = { readyInstances: 1, readyReadOnlyInstances: 1 };
    const text = renderClusterReport(clusterReport(withPooler, pods, backups), now);
    assert.match(text, /^Pooler: +orders-pooler 1\/2, orders-pooler-ro 1\/1 ready \(PgBouncer\)$/m);
    assert.doesNotMatch(renderClusterReport(clusterReport(cluster, pods, backups), now), /Pooler:/);
    const withVolumes = structuredClone(cluster);
    withVolumes.status!.volumes = [
      { name: 'pgdata-orders-0', requested: '12Gi', capacity: '10Gi', usedPercent: 83 },
      { name: 'pgdata-orders-1', requested: '12Gi', capacity: '12Gi' },
    ];
    assert.match(
      renderClusterReport(clusterReport(withVolumes, pods, backups), now),
      /^Volumes: +pgdata-orders-0 10Gi \(growing to 12Gi\) 83%, pgdata-orders-1 12Gi$/m,
    );
  });

  it('lists the fleet with the last failover, backup and verification of each cluster', () => {
    const rows = fleetRows([cluster], backups);
    assert.deepEqual(rows[0], {
      namespace: 'shop',
      name: 'orders',
      version: 17,
      phase: 'Running',
      ready: '2/2',
      primary: 'orders-1',
      lastFailover: '2026-12-03T11:50:00Z',
      lastBackup: '2026-12-03T02:10:00Z',
      lastVerified: '2026-12-01T06:05:00Z',
    });
    const text = renderFleet(rows, now).split('\n');
    assert.match(
      text[0]!,
      /^NAMESPACE +NAME +VERSION +PHASE +READY +PRIMARY +LAST FAILOVER +LAST BACKUP +LAST VERIFIED$/,
    );
    assert.match(text[1]!, /^shop +orders +17 +Running +2\/2 +orders-1 +10m ago +10h ago +2d ago$/);
    assert.equal(renderFleet([], now), 'No PostgresClusters found.');
  });
});
