/** PostgresBackup in end-to-end tests: its status, and waiting for it or the cluster's BackupHealthy. */
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './eventually.js';
import type { TestNamespace } from './local-cluster.js';
import { copyLocalS3Credentials, localS3Backup } from './local-s3.js';
import { clusterStatus, condition, postgresCluster, psqlInPod, waitRunning } from './operator.js';

export const TRIGGER = 'backup.postgres.example.com/trigger';

export interface BackupStatus {
  lastBackup?: string;
  lastBackupSize?: string;
  backupCount?: number;
  nextScheduled?: string;
  backups?: { label: string; type: string }[];
  lastTrigger?: { value: string; job: string; phase: string; backup?: string };
  oneOff?: { job: string; phase: string };
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

export function backupStatus(ns: TestNamespace, name: string): BackupStatus {
  return (JSON.parse(ns.k('get', 'pgbackup', name, '-o', 'json')) as { status?: BackupStatus }).status ?? {};
}

export function waitBackup(
  ns: TestNamespace,
  name: string,
  what: string,
  check: (s: BackupStatus) => boolean,
  timeout = 240,
) {
  return eventually(
    `${name}: ${what}`,
    () => {
      const s = backupStatus(ns, name);
      return check(s) ? s : undefined;
    },
    timeout,
    () => JSON.stringify(backupStatus(ns, name), null, 1) + '\n' + ns.try('get', 'jobs,pods').stdout,
  );
}

export function waitBackupHealthy(
  ns: TestNamespace,
  cluster: string,
  status: string,
  reason?: string,
  timeout = 240,
) {
  return eventually(
    `${cluster} BackupHealthy=${status}${reason ? ` ${reason}` : ''}`,
    () => {
      const c = condition(clusterStatus(ns, cluster), 'BackupHealthy');
      return c?.status === status && (!reason || c.reason === reason) ? c : undefined;
    },
    timeout,
    () => JSON.stringify(clusterStatus(ns, cluster).conditions, null, 1),
  );
}

/**
 * Applies PostgresCluster `name` (spec: more fields) archiving to the local S3 server (credentials copied into the
 * namespace as Secret s3) and waits until it runs and archiving works.
 */
export async function startArchivingCluster(
  ns: TestNamespace,
  name: string,
  replicas: number,
  spec: Record<string, unknown> = {},
) {
  copyLocalS3Credentials(ns.cluster, ns.name, 's3');
  ns.apply(postgresCluster(name, { replicas, backup: localS3Backup(ns.cluster, ns.name, 's3'), ...spec }));
  await waitRunning(ns, name, replicas);
  await waitBackupHealthy(ns, name, 'True', 'ArchivingWorking');
}

/**
 * Rows stamped with their commit time around a one-off backup of a running, archiving cluster:
 * table `stamped` gets ids 1-5, then PostgresBackup `backup` runs, then ids 6-10, then, after
 * the returned target time, ids 11-15. The WAL segment is closed and archived before this
 * returns, since a restore reads only the archive: restored to the target, exactly 1-10 are back.
 */
export async function stampedRowsAroundBackup(
  ns: TestNamespace,
  cluster: string,
  backup: string,
): Promise<string> {
  const onPrimary = (statement: string) => psqlInPod(ns, clusterStatus(ns, cluster).primaryPod!, statement);
  onPrimary(
    'CREATE TABLE stamped (id int PRIMARY KEY, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())',
  );
  onPrimary('INSERT INTO stamped (id) SELECT generate_series(1, 5)');
  ns.apply({
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresBackup',
    metadata: { name: backup },
    spec: { clusterName: cluster },
  });
  await waitBackup(ns, backup, 'the one-off backup succeeded', (s) => s.oneOff?.phase === 'Succeeded', 600);
  onPrimary('INSERT INTO stamped (id) SELECT generate_series(6, 10)');
  await sleep(1500);
  const targetTime = new Date().toISOString();
  await sleep(1500);
  onPrimary('INSERT INTO stamped (id) SELECT generate_series(11, 15)');
  const segment = onPrimary('SELECT pg_walfile_name(pg_switch_wal())');
  await eventually(`${cluster}: WAL segment ${segment} archived`, () =>
    onPrimary('SELECT last_archived_wal FROM pg_stat_archiver') >= segment ? true : undefined,
  );
  return targetTime;
}
