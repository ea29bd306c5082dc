/** The fleet's gauges from the clusters' status (monitoring/status-metrics.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostgresCluster } from '@pgop/api';
import { clusterStatusGauges } from '../../src/monitoring/status-metrics.js';
import { basicCluster, cluster } from '../fixtures.js';

const samples = (clusters: PostgresCluster[]) =>
  Object.fromEntries(clusterStatusGauges(() => clusters).map((g) => [g.name, g.samples()]));

describe('cluster status gauges', () => {
  it('describes a cluster by its status: phase, primary, instances, conditions and last failover', () => {
    const running: PostgresCluster = {
      ...cluster(basicCluster()),
      status: {
        phase: 'Degraded',
        version: 16,
        primaryPod: 'my-cluster-1',
        readyReplicas: 2,
        volumes: [
          { name: 'pgdata-my-cluster-0', requested: '10Gi', capacity: '10Gi', usedPercent: 83 },
          { name: 'my-cluster-repository', requested: '50Gi' },
        ],
        lastFailover: {
          time: '2026-12-03T10:00:00Z',
          from: 'my-cluster-0',
          to: 'my-cluster-1',
          reason: 'PrimaryUnavailable',
        },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'InstancesNotReady',
            message: '',
            lastTransitionTime: '2026-12-03T10:00:00Z',
          },
        ],
      },
    };
    const labels = { namespace: 'db', cluster: 'my-cluster' };
    const got = samples([running]);
    assert.deepEqual(got.pgop_cluster_info, [
      { labels: { ...labels, version: '16', phase: 'Degraded', primary: 'my-cluster-1' }, value: 1 },
    ]);
    assert.deepEqual(got.pgop_cluster_instances, [{ labels, value: running.spec.replicas }]);
    assert.deepEqual(got.pgop_cluster_ready_instances, [{ labels, value: 2 }]);
    assert.deepEqual(got.pgop_cluster_condition, [
      { labels: { ...labels, type: 'Ready', status: 'True', reason: 'InstancesNotReady' }, value: 1 },
    ]);
    assert.deepEqual(got.pgop_cluster_last_failover_timestamp_seconds, [
      { labels, value: Date.parse('2026-12-03T10:00:00Z') / 1000 },
    ]);
    // Only the volumes autoGrow measured.
    assert.deepEqual(got.pgop_cluster_volume_used_percent, [
      { labels: { ...labels, volume: 'pgdata-my-cluster-0' }, value: 83 },
    ]);
  });

  it('gives a new cluster phase Pending, no ready instance and no failover series', () => {
    const got = samples([cluster(basicCluster())]);
    assert.equal(got.pgop_cluster_info![0]!.labels.phase, 'Pending');
    assert.equal(got.pgop_cluster_ready_instances![0]!.value, 0);
    assert.deepEqual(got.pgop_cluster_last_failover_timestamp_seconds, []);
    assert.deepEqual(got.pgop_cluster_condition, []);
  });
});
