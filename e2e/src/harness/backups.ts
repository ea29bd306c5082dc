/** PostgresBackup in end-to-end tests: its status, and waiting for it or the cluster's BackupHealthy. */
import { eventually } from './eventually.js';
import type { TestNamespace } from './local-cluster.js';
import { copyLocalS3Credentials, localS3Backup } from './local-s3.js';
import { clusterStatus, condition, postgresCluster, waitRunning } from './operator.js';

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
