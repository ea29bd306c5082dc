/**
 * Which backups one PostgresBackup's retention removes. Pure; the backup Job carries it out with
 * `pgbackrest expire --set=<label>`, never by deleting objects in the repository.
 *
 * A repository may hold the backups of several PostgresBackups of one cluster (a schedule, a
 * one-off before a migration, ...), each with its own policy. Every backup records the object
 * that took it (pgBackRest annotation `pgop-backup`), and an object's policy applies to its own
 * backups only: counted among its own, removed only if its own. Backups of other objects, and
 * backups without an owner (taken before pgop recorded owners, or by hand), are never removed
 * here.
 *
 * One of the object's backups is a candidate when it is beyond the object's newest `count` or
 * older than `days`. It stays anyway when it is marked keep-forever, when it is the object's
 * newest backup (so a schedule that keeps failing never ends with nothing), or when any backup
 * that stays, whoever owns it, needs it (the full an incremental is based on: pgBackRest bases an
 * incremental on the newest backup, whichever object took it, and `expire --set` would remove the
 * dependents too). So more than `count` backups may remain; never fewer than needed.
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
  /** Why each of the object's kept candidates stays. */
  keptBecause: Record<string, 'keep-forever' | 'newest' | 'needed by a kept backup'>;
}

export function decideRetention(
  backups: readonly BackupInfo[],
  policy: RetentionPolicy,
  nowEpochSeconds: number,
  owner: string,
): RetentionDecision {
  const newestFirst = backups.filter((b) => !b.error).sort((a, b) => b.stop - a.stop);
  const own = newestFirst.filter((b) => b.owner === owner);
  const oldest = policy.days > 0 ? nowEpochSeconds - policy.days * 86_400 : -Infinity;
  const candidate = (b: BackupInfo, i: number) => i >= policy.count || b.stop < oldest;

  const keptBecause: RetentionDecision['keptBecause'] = {};
  const kept = new Set(newestFirst.filter((b) => b.owner !== owner).map((b) => b.label));
  const keep = (label: string, why?: RetentionDecision['keptBecause'][string]) => {
    kept.add(label);
    if (why) keptBecause[label] = why;
  };
  own.forEach((b, i) => {
    if (!candidate(b, i)) keep(b.label);
    else if (b.keepForever) keep(b.label, 'keep-forever');
    else if (i === 0) keep(b.label, 'newest');
  });
  // Newest first, so what a kept backup needs is marked before its own turn comes.
  for (const b of newestFirst)
    if (kept.has(b.label))
      for (const ref of b.references)
        if (!kept.has(ref))
          keep(ref, own.some((o) => o.label === ref) ? 'needed by a kept backup' : undefined);

  return { expire: own.filter((b) => !kept.has(b.label)).map((b) => b.label), keptBecause };
}
