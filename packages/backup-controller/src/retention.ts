/**
 * Which backups retention removes. Pure; the backup Job carries it out with
 * `pgbackrest expire --set=<label>`, never by deleting objects in the repository.
 *
 * A backup is a candidate when it is beyond the newest `count` or older than `days`. It stays
 * anyway when it is marked keep-forever, when it is the newest backup (so a schedule that keeps
 * failing never ends with an empty repository), or when a backup that stays needs it (the full
 * an incremental is based on). So more than `count` backups may remain; never fewer than needed.
 */
import type { BackupInfo } from './pgbackrest-info.js';

export interface RetentionPolicy {
  count: number;
  /** 0: no age limit. */
  days: number;
}

export interface RetentionDecision {
  /** Labels to expire, newest first: a dependent goes before the backup it is based on. */
  expire: string[];
  /** Why each kept candidate stays. */
  keptBecause: Record<string, 'keep-forever' | 'newest' | 'needed by a kept backup'>;
}

export function decideRetention(
  backups: readonly BackupInfo[],
  policy: RetentionPolicy,
  nowEpochSeconds: number,
): RetentionDecision {
  const newestFirst = backups.filter((b) => !b.error).sort((a, b) => b.stop - a.stop);
  const oldest = policy.days > 0 ? nowEpochSeconds - policy.days * 86_400 : -Infinity;
  const candidate = (b: BackupInfo, i: number) => i >= policy.count || b.stop < oldest;

  const keptBecause: RetentionDecision['keptBecause'] = {};
  const kept = new Set<string>();
  const keep = (label: string, why?: RetentionDecision['keptBecause'][string]) => {
    kept.add(label);
    if (why) keptBecause[label] = why;
  };
  newestFirst.forEach((b, i) => {
    if (!candidate(b, i)) keep(b.label);
    else if (b.keepForever) keep(b.label, 'keep-forever');
    else if (i === 0) keep(b.label, 'newest');
  });
  // Newest first, so what a kept backup needs is marked before its own turn comes.
  for (const b of newestFirst)
    if (kept.has(b.label))
      for (const ref of b.references) if (!kept.has(ref)) keep(ref, 'needed by a kept backup');

  return { expire: newestFirst.filter((b) => !kept.has(b.label)).map((b) => b.label), keptBecause };
}
