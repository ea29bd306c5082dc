/**
 * The fleet as Prometheus sees it: each PostgresCluster's status as gauges, computed from the
 * controller's cache at scrape time (docs/monitoring.md lists them and the alerts on them).
 * What pgop decided (phase, primary, failovers) comes from here; what PostgreSQL measures
 * (lag, archiving, connections) from each instance's exporter. Pure.
 */
import type { PostgresCluster } from '@pgop/api';
import type { Sample, SnapshotGauge } from '@pgop/runtime';

type ClusterLabel = 'namespace' | 'cluster';
const seconds = (time: string | undefined) => (time ? Date.parse(time) / 1000 : undefined);

function perCluster<L extends string>(
  clusters: () => readonly PostgresCluster[],
  samples: (c: PostgresCluster, labels: Record<ClusterLabel, string>) => Sample<L | ClusterLabel>[],
) {
  return () =>
    clusters().flatMap((c) =>
      samples(c, { namespace: c.metadata.namespace ?? '', cluster: c.metadata.name ?? '' }),
    );
}

export function clusterStatusGauges(clusters: () => readonly PostgresCluster[]): SnapshotGauge<string>[] {
  return [
    {
      name: 'pgop_cluster_info',
      help: 'Always 1: the cluster with its PostgreSQL major version, phase and primary pod as labels.',
      labelNames: ['namespace', 'cluster', 'version', 'phase', 'primary'],
      samples: perCluster(clusters, (c, labels) => [
        {
          labels: {
            ...labels,
            version: String(c.status?.version ?? c.spec.version),
            phase: c.status?.phase ?? 'Pending',
            primary: c.status?.primaryPod ?? '',
          },
          value: 1,
        },
      ]),
    },
    {
      name: 'pgop_cluster_instances',
      help: 'Instances the cluster should have (spec.replicas).',
      labelNames: ['namespace', 'cluster'],
      samples: perCluster(clusters, (c, labels) => [{ labels, value: c.spec.replicas }]),
    },
    {
      name: 'pgop_cluster_ready_instances',
      help: 'Instances that are ready (status.readyReplicas).',
      labelNames: ['namespace', 'cluster'],
      samples: perCluster(clusters, (c, labels) => [{ labels, value: c.status?.readyReplicas ?? 0 }]),
    },
    {
      name: 'pgop_cluster_condition',
      help: "Always 1: each of the cluster's conditions with its status and reason as labels.",
      labelNames: ['namespace', 'cluster', 'type', 'status', 'reason'],
      samples: perCluster(clusters, (c, labels) =>
        (c.status?.conditions ?? []).map((cond) => ({
          labels: { ...labels, type: cond.type, status: cond.status, reason: cond.reason },
          value: 1,
        })),
      ),
    },
    {
      name: 'pgop_cluster_volume_used_percent',
      help: "How full each volume's file system is, as last measured for autoGrow (status.volumes).",
      labelNames: ['namespace', 'cluster', 'volume'],
      samples: perCluster(clusters, (c, labels) =>
        (c.status?.volumes ?? []).flatMap((v) =>
          v.usedPercent === undefined
            ? []
            : [{ labels: { ...labels, volume: v.name }, value: v.usedPercent }],
        ),
      ),
    },
    {
      name: 'pgop_cluster_last_failover_timestamp_seconds',
      help: 'When the last failover (a change of primary pgop did not ask for) happened (Unix time).',
      labelNames: ['namespace', 'cluster'],
      samples: perCluster(clusters, (c, labels) => {
        const at = seconds(c.status?.lastFailover?.time);
        return at === undefined ? [] : [{ labels, value: at }];
      }),
    },
  ];
}
