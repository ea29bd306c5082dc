/**
 * `pgbackrest info --output=json`, read into what pgop shows and decides on. Pure.
 * The stanza's system-id is an integer above 2^53, which JSON.parse would silently round: it is
 * read as text.
 */
import type { BackupRecord, BackupType } from '@pgop/api';

/** The annotation pgop puts on backups that retention must never remove. */
export const KEEP_FOREVER_ANNOTATION = 'pgop-keep-forever';
/** The annotation naming the PostgresBackup whose Job took a backup: its retention owns it. */
export const OWNER_ANNOTATION = 'pgop-backup';

export interface BackupInfo {
  label: string;
  type: BackupType;
  /** Labels of every backup this one needs (its full, and for an incremental the ones between). */
  references: string[];
  start: number;
  stop: number;
  databaseSize: number;
  repositorySize: number;
  walStart?: string;
  walStop?: string;
  keepForever: boolean;
  /** The PostgresBackup that took it (OWNER_ANNOTATION); absent for backups taken otherwise. */
  owner?: string;
  error: boolean;
}

const TYPES: Record<string, BackupType> = { full: 'Full', diff: 'Differential', incr: 'Incremental' };

interface RawBackup {
  label: string;
  type: string;
  reference?: string[] | null;
  timestamp: { start: number; stop: number };
  info: { size: number; repository: { delta: number } };
  archive?: { start?: string | null; stop?: string | null };
  annotation?: Record<string, string>;
  error?: boolean;
}

/** The backups of the stanza, oldest first, as pgBackRest lists them. */
export function parseInfo(json: string, stanza: string): BackupInfo[] {
  const safe = json.replace(/("system-id"\s*:\s*)(\d+)/g, '$1"$2"');
  const stanzas = JSON.parse(safe) as { name: string; backup?: RawBackup[] }[];
  const raw = stanzas.find((s) => s.name === stanza)?.backup ?? [];
  return raw.map((b) => ({
    label: b.label,
    type: TYPES[b.type] ?? 'Full',
    references: b.reference ?? [],
    start: b.timestamp.start,
    stop: b.timestamp.stop,
    databaseSize: b.info.size,
    repositorySize: b.info.repository.delta,
    ...(b.archive?.start ? { walStart: b.archive.start } : {}),
    ...(b.archive?.stop ? { walStop: b.archive.stop } : {}),
    keepForever: b.annotation?.[KEEP_FOREVER_ANNOTATION] === 'true',
    ...(b.annotation?.[OWNER_ANNOTATION] ? { owner: b.annotation[OWNER_ANNOTATION] } : {}),
    error: b.error === true,
  }));
}

/** A backup as status.backups lists it. */
export function toRecord(b: BackupInfo): BackupRecord {
  const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return {
    label: b.label,
    type: b.type,
    start: iso(b.start),
    stop: iso(b.stop),
    databaseSize: b.databaseSize,
    repositorySize: b.repositorySize,
    ...(b.walStart ? { walStart: b.walStart } : {}),
    ...(b.walStop ? { walStop: b.walStop } : {}),
    ...(b.keepForever ? { keepForever: true } : {}),
  };
}

/** 1234567890 → "1.1GB": decimal units with one decimal, as the demo prints them. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(1)}${units[unit]}`;
}
