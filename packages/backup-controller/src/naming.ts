/**
 * Names and labels of everything the backup controller creates for a PostgresBackup: its
 * CronJob, Jobs and their identity, and a verification's temporary cluster and Job. One place,
 * so the renderers, the reconcile and the tests cannot disagree.
 */
import { GROUP, type PostgresBackup } from '@pgop/api';
import { createHash } from 'node:crypto';

/** On every object a PostgresBackup owns, and on its Jobs' pods; value: the PostgresBackup's name. */
export const BACKUP_LABEL = `${GROUP}/backup`;
/** On a Job: why it runs (scheduled, once, trigger). */
export const BACKUP_REASON_LABEL = `${GROUP}/backup-reason`;
export type BackupReason = 'scheduled' | 'once' | 'trigger';
/** The reason label of a restore verification's Job (render/verification.ts): not a backup. */
export const VERIFY_REASON = 'verify';

const hash = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** name + suffix within max characters: long names are cut and made unique with a hash. */
function childName(name: string, suffix: string, max: number): string {
  const full = `${name}-${suffix}`;
  if (full.length <= max) return full;
  return `${name.slice(0, max - suffix.length - 10)}-${hash(name, 8)}-${suffix}`;
}

export const names = {
  serviceAccount: (backup: PostgresBackup) => childName(backup.metadata.name!, 'backup-job', 63),
  // A CronJob's Jobs get an 11-character suffix: its own name may have 52.
  cronJob: (backup: PostgresBackup) => childName(backup.metadata.name!, 'scheduled', 52),
  onceJob: (backup: PostgresBackup) => childName(backup.metadata.name!, 'once', 63),
  triggerJob: (backup: PostgresBackup, value: string) =>
    childName(backup.metadata.name!, `trigger-${hash(value, 10)}`, 63),
  /** The temporary cluster of a verification (a cluster name: at most 50 characters). */
  verifyCluster: (backup: PostgresBackup) =>
    childName(backup.metadata.name!.replaceAll('.', '-'), 'verify', 50),
  verifyJob: (backup: PostgresBackup, startedAt: string) =>
    childName(backup.metadata.name!, `verify-${hash(startedAt, 10)}`, 63),
};
