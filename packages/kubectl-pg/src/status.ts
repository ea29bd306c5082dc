/**
 * What `kubectl pg status` shows: one cluster in detail (instances with role, node, timeline,
 * lag and readiness; conditions; primary changes; roles and databases; backups, archiving and
 * verification), or the
 * fleet as one table. Built from the objects kubectl returns; pure.
 */
import {
  CLUSTER_LABEL,
  PAUSED_ANNOTATION,
  ROLE_LABEL,
  type DatabaseStatus,
  type PostgresBackup,
  type PostgresCluster,
  type RoleStatus,
} from '@pgop/api';

/** The parts of a Pod the status reads (kubectl's JSON). */
export interface Pod {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; restartCount: number }[];
  };
}

/** Patroni's member record, which it keeps in its pod's `status` annotation (Kubernetes DCS). */
interface PatroniMember {
  role?: string;
  state?: string;
  timeline?: number;
  xlog_location?: number;
  replication_state?: string;
}

export interface InstanceRow {
  pod: string;
  role: string;
  state: string;
  node: string;
  ready: boolean;
  timeline?: number;
  /** Bytes of WAL behind the primary (replicas). */
  lagBytes?: number;
  restarts: number;
}

type ClusterStatus = NonNullable<PostgresCluster['status']>;

export interface ClusterReport {
  namespace: string;
  name: string;
  version?: number;
  phase: string;
  ready: string;
  primary?: string;
  paused: boolean;
  instances: InstanceRow[];
  conditions: { type: string; status: string; reason: string; message: string }[];
  lastFailover?: ClusterStatus['lastFailover'];
  lastSwitchover?: ClusterStatus['lastSwitchover'];
  archiving?: NonNullable<ClusterStatus['backup']>['archiving'];
  repository?: string;
  roles: RoleStatus[];
  databases: DatabaseStatus[];
  /** spec.pooler's Services with their ready pods over the wanted ones, e.g. "web-pooler 2/2". */
  pooler?: string[];
  /** Each volume: its claim, size, and how full (status.volumes), e.g. "pgdata-web-0 10Gi 83%". */
  volumes: string[];
  backups: {
    name: string;
    schedule?: string;
    lastBackup?: string;
    backupCount?: number;
    nextScheduled?: string;
    healthy?: string;
    verification?: { phase: string; lastSucceeded?: string; message?: string };
  }[];
}

function member(pod: Pod): PatroniMember {
  try {
    return JSON.parse(pod.metadata.annotations?.status ?? '{}') as PatroniMember;
  } catch {
    return {};
  }
}

const isReady = (pod: Pod) =>
  !pod.metadata.deletionTimestamp &&
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function clusterReport(
  cluster: PostgresCluster,
  pods: Pod[],
  backups: PostgresBackup[],
): ClusterReport {
  const status = cluster.status ?? {};
  const members = pods.map((p) => ({ pod: p, member: member(p) }));
  const primaryWal = members.find((m) => m.pod.metadata.labels?.[ROLE_LABEL] === 'primary')?.member
    .xlog_location;
  const instances = members
    .map(({ pod, member: m }): InstanceRow => {
      const role = pod.metadata.labels?.[ROLE_LABEL] ?? m.role ?? 'unknown';
      return {
        pod: pod.metadata.name,
        role,
        state: pod.metadata.deletionTimestamp ? 'terminating' : (m.state ?? pod.status?.phase ?? 'unknown'),
        node: pod.spec?.nodeName ?? '',
        ready: isReady(pod),
        ...(m.timeline !== undefined ? { timeline: m.timeline } : {}),
        ...(role !== 'primary' && primaryWal !== undefined && m.xlog_location !== undefined
          ? { lagBytes: Math.max(0, primaryWal - m.xlog_location) }
          : {}),
        restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
      };
    })
    .sort((a, b) => a.pod.localeCompare(b.pod, undefined, { numeric: true }));
  return {
    namespace: cluster.metadata.namespace ?? '',
    name: cluster.metadata.name ?? '',
    ...(status.version !== undefined ? { version: status.version } : { version: cluster.spec.version }),
    phase: status.phase ?? 'Pending',
    ready: status.readySummary ?? `0/${cluster.spec.replicas}`,
    ...(status.primaryPod ? { primary: status.primaryPod } : {}),
    paused: isPaused(cluster),
    instances,
    conditions: (status.conditions ?? []).map(({ type, status: s, reason, message }) => ({
      type,
      status: s,
      reason,
      message,
    })),
    ...(status.lastFailover ? { lastFailover: status.lastFailover } : {}),
    ...(status.lastSwitchover ? { lastSwitchover: status.lastSwitchover } : {}),
    ...(status.backup?.archiving ? { archiving: status.backup.archiving } : {}),
    ...(status.backup?.repository ? { repository: status.backup.repository } : {}),
    roles: status.roles ?? [],
    databases: status.databases ?? [],
    ...(cluster.spec.pooler ? { pooler: poolerSummary(cluster) } : {}),
    volumes: (status.volumes ?? []).map(
      (v) =>
        `${v.name} ${v.capacity ?? '?'}${v.capacity !== v.requested ? ` (growing to ${v.requested})` : ''}${v.usedPercent !== undefined ? ` ${v.usedPercent}%` : ''}`,
    ),
    backups: backups
      .filter((b) => b.spec.clusterName === cluster.metadata.name)
      .map((b) => ({
        name: b.metadata.name ?? '',
        ...(b.spec.schedule ? { schedule: b.spec.schedule } : {}),
        ...(b.status?.lastBackup ? { lastBackup: b.status.lastBackup } : {}),
        ...(b.status?.backupCount !== undefined ? { backupCount: b.status.backupCount } : {}),
        ...(b.status?.nextScheduled ? { nextScheduled: b.status.nextScheduled } : {}),
        ...(healthOf(b) ? { healthy: healthOf(b) } : {}),
        ...(b.status?.verification
          ? {
              verification: {
                phase: b.status.verification.phase,
                ...(b.status.verification.lastSucceeded
                  ? { lastSucceeded: b.status.verification.lastSucceeded }
                  : {}),
                ...(b.status.verification.message ? { message: b.status.verification.message } : {}),
              },
            }
          : {}),
      })),
  };
}

/** PAUSED_ANNOTATION's rule: any non-empty value but "false". */
export function isPaused(cluster: PostgresCluster): boolean {
  const value = cluster.metadata.annotations?.[PAUSED_ANNOTATION];
  return value !== undefined && value !== '' && value !== 'false';
}

function healthOf(b: PostgresBackup): string | undefined {
  const c = b.status?.conditions?.find((c) => c.type === 'BackupHealthy');
  return c && `${c.status} (${c.reason})`;
}

/** Columns padded to their widest cell, as kubectl prints tables. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** "3m ago" from a timestamp, against now. */
export function ago(time: string | undefined, now: Date): string {
  if (!time) return '-';
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(time)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

const bytes = (n: number | undefined) =>
  n === undefined
    ? '-'
    : n < 1024
      ? `${n} B`
      : n < 1 << 20
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${(n / (1 << 20)).toFixed(1)} MiB`;

function poolerSummary(cluster: PostgresCluster): string[] {
  const pooler = cluster.spec.pooler!;
  const ready = cluster.status?.pooler;
  const name = cluster.metadata.name ?? '';
  const readOnly = pooler.readOnlyInstances ?? 0;
  return [
    `${name}-pooler ${ready?.readyInstances ?? 0}/${pooler.instances ?? 2}`,
    ...(readOnly > 0 ? [`${name}-pooler-ro ${ready?.readyReadOnlyInstances ?? 0}/${readOnly}`] : []),
  ];
}

export function renderClusterReport(r: ClusterReport, now: Date): string {
  const out: string[] = [];
  out.push(`Cluster:   ${r.namespace}/${r.name}${r.paused ? '   (PAUSED: pgop does not reconcile it)' : ''}`);
  out.push(`Version:   PostgreSQL ${r.version ?? '?'}`);
  out.push(`Phase:     ${r.phase}, ${r.ready} instances ready`);
  out.push(`Primary:   ${r.primary ?? '-'}`);
  if (r.pooler) out.push(`Pooler:    ${r.pooler.join(', ')} ready (PgBouncer)`);
  if (r.volumes.length > 0) out.push(`Volumes:   ${r.volumes.join(', ')}`);
  out.push('', 'Instances:');
  out.push(
    indent(
      table(
        ['POD', 'ROLE', 'STATE', 'READY', 'NODE', 'TIMELINE', 'LAG', 'RESTARTS'],
        r.instances.map((i) => [
          i.pod,
          i.role,
          i.state,
          i.ready ? 'yes' : 'no',
          i.node,
          i.timeline !== undefined ? String(i.timeline) : '-',
          i.role === 'primary' ? '-' : bytes(i.lagBytes),
          String(i.restarts),
        ]),
      ),
    ),
  );
  out.push('', 'Conditions:');
  out.push(
    indent(
      table(
        ['TYPE', 'STATUS', 'REASON', 'MESSAGE'],
        r.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
      ),
    ),
  );
  out.push('', 'Primary changes:');
  out.push(
    `  last failover:   ${r.lastFailover ? `${r.lastFailover.from} -> ${r.lastFailover.to} (${r.lastFailover.reason}), ${ago(r.lastFailover.time, now)}` : 'none'}`,
  );
  out.push(
    `  last switchover: ${r.lastSwitchover ? `${r.lastSwitchover.from ?? '?'} -> ${r.lastSwitchover.to ?? '?'} (${r.lastSwitchover.reason}, ${r.lastSwitchover.phase}), ${ago(r.lastSwitchover.completedAt ?? r.lastSwitchover.startedAt, now)}` : 'none'}`,
  );
  if (r.roles.length + r.databases.length > 0) {
    out.push('', 'Roles and databases:');
    const detail = (e: RoleStatus | DatabaseStatus) =>
      [
        e.removed ? `removed, reclaimPolicy ${e.reclaimPolicy}` : '',
        'secret' in e && e.secret ? `Secret ${e.secret}` : '',
        e.state === 'Failed' ? `${e.reason}: ${e.message ?? ''}` : '',
      ]
        .filter(Boolean)
        .join('; ');
    out.push(
      indent(
        table(
          ['KIND', 'NAME', 'STATE', 'DETAIL'],
          [
            ...r.roles.map((e) => ['role', e.name, e.state, detail(e)]),
            ...r.databases.map((e) => ['database', e.name, e.state, detail(e)]),
          ],
        ),
      ),
    );
  }
  out.push('', 'Backups:');
  if (!r.repository) out.push('  no repository (spec.backup): WAL is not archived');
  else {
    out.push(`  repository: ${r.repository}`);
    const a = r.archiving;
    out.push(
      `  archiving:  last ${a?.lastArchivedWal ?? '-'} ${ago(a?.lastArchivedTime, now)}; failed ${a?.failedCount ?? 0}${a?.lastFailedTime ? `, last failure ${ago(a.lastFailedTime, now)}` : ''}`,
    );
  }
  if (r.backups.length === 0) out.push('  no PostgresBackup names this cluster');
  for (const b of r.backups) {
    out.push(
      `  ${b.name}: ${b.schedule ? `schedule ${b.schedule}, ` : ''}last backup ${ago(b.lastBackup, now)}, ${b.backupCount ?? 0} in the repository, healthy ${b.healthy ?? '-'}`,
    );
    if (b.verification)
      out.push(
        `    verification: ${b.verification.phase}, last succeeded ${ago(b.verification.lastSucceeded, now)}${b.verification.phase === 'Failed' && b.verification.message ? `: ${b.verification.message}` : ''}`,
      );
  }
  return out.join('\n');
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

export interface FleetRow {
  namespace: string;
  name: string;
  version?: number;
  phase: string;
  ready: string;
  primary: string;
  lastFailover?: string;
  lastBackup?: string;
  lastVerified?: string;
}

export function fleetRows(clusters: PostgresCluster[], backups: PostgresBackup[]): FleetRow[] {
  return clusters
    .map((c) => {
      const own = backups.filter(
        (b) => b.metadata.namespace === c.metadata.namespace && b.spec.clusterName === c.metadata.name,
      );
      const newest = (times: (string | undefined)[]) =>
        times
          .filter((t): t is string => t !== undefined)
          .sort()
          .at(-1);
      const lastBackup = newest(own.map((b) => b.status?.lastBackup));
      const lastVerified = newest(own.map((b) => b.status?.verification?.lastSucceeded));
      return {
        namespace: c.metadata.namespace ?? '',
        name: c.metadata.name ?? '',
        version: c.status?.version ?? c.spec.version,
        phase: c.status?.phase ?? 'Pending',
        ready: c.status?.readySummary ?? `0/${c.spec.replicas}`,
        primary: c.status?.primaryPod ?? '',
        ...(c.status?.lastFailover ? { lastFailover: c.status.lastFailover.time } : {}),
        ...(lastBackup ? { lastBackup } : {}),
        ...(lastVerified ? { lastVerified } : {}),
      };
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export function renderFleet(rows: FleetRow[], now: Date): string {
  if (rows.length === 0) return 'No PostgresClusters found.';
  return table(
    [
      'NAMESPACE',
      'NAME',
      'VERSION',
      'PHASE',
      'READY',
      'PRIMARY',
      'LAST FAILOVER',
      'LAST BACKUP',
      'LAST VERIFIED',
    ],
    rows.map((r) => [
      r.namespace,
      r.name,
      String(r.version ?? ''),
      r.phase,
      r.ready,
      r.primary || '-',
      ago(r.lastFailover, now),
      ago(r.lastBackup, now),
      ago(r.lastVerified, now),
    ]),
  );
}

export const instanceSelector = (cluster: string) =>
  `${CLUSTER_LABEL}=${cluster},app.kubernetes.io/component=database`;
