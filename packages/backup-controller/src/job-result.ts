/**
 * What a backup Job reports to the controller: one JSON line in its container's termination
 * message (at most 4096 bytes, so only the newest backups fit; the count covers all). Written by
 * job/main.ts, read by the reconciler. Pure.
 */
import { BACKUP_LIST_LIMIT, type BackupRecord } from '@pgop/api';

export interface JobResult {
  ok: boolean;
  /** The backup this Job took. */
  label?: string;
  /** Seconds pgbackrest backup ran. */
  durationSeconds?: number;
  /** Newest first. */
  backups: BackupRecord[];
  backupCount: number;
  expired: string[];
  /** Why it failed: the end of pgBackRest's output. */
  error?: string;
}

export const TERMINATION_MESSAGE_LIMIT = 4096;

export function encodeJobResult(result: JobResult): string {
  const trimmed = { ...result, backups: result.backups.slice(0, BACKUP_LIST_LIMIT) };
  let text = JSON.stringify(trimmed);
  while (text.length > TERMINATION_MESSAGE_LIMIT && trimmed.backups.length > 0) {
    trimmed.backups = trimmed.backups.slice(0, -1);
    text = JSON.stringify(trimmed);
  }
  if (text.length > TERMINATION_MESSAGE_LIMIT && trimmed.error) {
    trimmed.error = trimmed.error.slice(-1000);
    text = JSON.stringify(trimmed);
  }
  return text;
}

export function decodeJobResult(message: string | undefined): JobResult | undefined {
  if (!message) return undefined;
  try {
    const value = JSON.parse(message) as JobResult;
    return typeof value.ok === 'boolean' && Array.isArray(value.backups) ? value : undefined;
  } catch {
    return undefined;
  }
}
