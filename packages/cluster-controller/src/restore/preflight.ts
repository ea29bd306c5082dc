/**
 * The pre-flight verdict of a restore: is the target inside what the source repository can
 * restore (after its oldest backup ended, before its newest WAL segment was stored), and is the
 * data of the cluster's PostgreSQL version? Pure: the facts come from the check Job
 * (render/restore-check-job.ts).
 */
import type { RestoreTarget } from '@pgop/api';

/** What the check Job reports (its termination message). Times are Unix seconds. */
export interface RepositoryFacts {
  status: string;
  backups: number;
  first: BackupPoint | null;
  last: BackupPoint | null;
  /** The requested backup label, when given and found. */
  label: BackupPoint | null;
  version?: string | null;
  wal?: { segment: string; time: number | null };
}

interface BackupPoint {
  label: string;
  stop: number;
}

export type PreflightVerdict =
  | { ok: true; recoverableFrom: string; recoverableUntil: string; summary: string }
  | { ok: false; reason: string; message: string };

export function parseRepositoryFacts(message: string | undefined): RepositoryFacts | undefined {
  try {
    const facts = JSON.parse(message ?? '') as RepositoryFacts;
    return typeof facts.backups === 'number' ? facts : undefined;
  } catch {
    return undefined;
  }
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

export function checkRestoreTarget(
  target: RestoreTarget,
  facts: RepositoryFacts,
  version: number,
): PreflightVerdict {
  if (facts.backups === 0 || !facts.first || !facts.last)
    return {
      ok: false,
      reason: 'NoBackupInRepository',
      message: `the source repository holds no backup to restore (pgBackRest: ${facts.status}); take a backup first`,
    };
  const from = iso(facts.first.stop);
  // Without archived WAL the newest backup's end is as far as the repository reaches.
  const untilSeconds = Math.max(facts.wal?.time ?? 0, facts.last.stop);
  const until = iso(untilSeconds);
  const window = `the repository can restore from ${from} (end of backup ${facts.first.label}) to ${until} (newest WAL)`;
  if (facts.version && Number(facts.version) !== version)
    return {
      ok: false,
      reason: 'RestoreVersionMismatch',
      message: `the backups are of PostgreSQL ${facts.version}, but spec.version is ${version}: restore into a cluster of version ${facts.version} (upgrade it afterwards)`,
    };
  if (target.backupLabel && !facts.label)
    return {
      ok: false,
      reason: 'RestoreTargetOutOfRange',
      message: `backup ${target.backupLabel} is not in the source repository (it holds ${facts.backups}, oldest ${facts.first.label}, newest ${facts.last.label})`,
    };
  if (target.targetTime) {
    const time = Date.parse(target.targetTime) / 1000;
    if (time < facts.first.stop)
      return {
        ok: false,
        reason: 'RestoreTargetOutOfRange',
        message: `targetTime ${target.targetTime} is before the end of the oldest backup: ${window}`,
      };
    if (time > untilSeconds)
      return {
        ok: false,
        reason: 'RestoreTargetOutOfRange',
        message: `targetTime ${target.targetTime} is after the newest WAL in the repository: ${window}`,
      };
  }
  return { ok: true, recoverableFrom: from, recoverableUntil: until, summary: window };
}
