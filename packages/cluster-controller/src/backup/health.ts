/**
 * What the cluster controller knows about the repository of spec.backup, and the BackupHealthy
 * condition it shows. Pure: the monitor (backup/monitor.ts) gathers the facts, these
 * functions decide what they mean and what to look at next.
 */
import { BACKUP_HEALTHY_CONDITION, type BackupRepositoryStatus, type PostgresCluster } from '@pgop/api';
import { conditionOf, type ConditionUpdate } from '@pgop/runtime';
import { repositoryUrl } from '../pgbackrest/repository.js';
import type { RepositoryProblem } from '../pgbackrest/s3-check.js';

/** pg_stat_archiver on the primary; times in epoch milliseconds. */
export interface ArchiverStats {
  archivedCount: number;
  lastArchivedWal?: string;
  lastArchivedAt?: number;
  failedCount: number;
  lastFailedWal?: string;
  lastFailedAt?: number;
}

export interface RepositoryFacts {
  /** The repository these facts are about (repositoryUrl). */
  url: string;
  /** The last repository check (S3 or the repository host); absent until one ran. */
  reachable?:
    { ok: true; at: number } | { ok: false; reason: RepositoryProblem; message: string; at: number };
  /** The last stanza-create and pgbackrest check in this process; absent until they ran. */
  stanza?:
    | { ok: true; at: number }
    | { ok: false; reason: 'StanzaCreateFailed' | 'ArchivingFailing'; message: string; at: number };
  archiver?: { stats: ArchiverStats; at: number };
  /** Why the archiver statistics could not be read, when the last attempt failed. */
  archiverError?: { message: string; at: number };
}

export type ConditionReason = RepositoryProblem | 'ArchivingFailing' | 'StanzaCreateFailed';

/** How often each fact is looked at again. */
export const RECHECK_MS = { failedCheck: 30_000, stanza: 30_000, archiver: 15_000 } as const;

/** Archiving is failing when its last failure is newer than its last success. */
export function archivingFailing(
  stats: Pick<ArchiverStats, 'lastArchivedAt' | 'lastFailedAt'> | undefined,
): boolean {
  return stats?.lastFailedAt !== undefined && (stats.lastArchivedAt ?? 0) < stats.lastFailedAt;
}

function verified(cluster: PostgresCluster, facts: RepositoryFacts): boolean {
  return cluster.status?.backup?.repository === facts.url || facts.reachable?.ok === true;
}

function stanzaCreated(cluster: PostgresCluster, facts: RepositoryFacts): boolean {
  const fromStatus = cluster.status?.backup?.repository === facts.url && cluster.status.backup.stanzaCreated;
  return Boolean(fromStatus) || facts.stanza?.ok === true;
}

export type RepositoryStep = 'repositoryCheck' | 'stanzaCreate' | 'archiverStats';

/** What the monitor should find out now, in order. */
export function dueSteps(
  cluster: PostgresCluster,
  facts: RepositoryFacts,
  primary: string | undefined,
  now: number,
): RepositoryStep[] {
  const steps: RepositoryStep[] = [];
  const failing = archivingFailing(facts.archiver?.stats);
  const checkStale =
    !facts.reachable ||
    (now - facts.reachable.at >= RECHECK_MS.failedCheck && (!facts.reachable.ok || failing));
  if (!verified(cluster, facts) || checkStale) steps.push('repositoryCheck');
  // The stanza and pgbackrest check need archive_command set, which follows the status.
  if (!primary || cluster.status?.backup?.repository !== facts.url) return steps;
  if (!stanzaCreated(cluster, facts)) {
    if (!facts.stanza || now - facts.stanza.at >= RECHECK_MS.stanza) steps.push('stanzaCreate');
    return steps;
  }
  const lastRead = Math.max(facts.archiver?.at ?? 0, facts.archiverError?.at ?? 0);
  if (now - lastRead >= RECHECK_MS.archiver) steps.push('archiverStats');
  return steps;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** status.backup, or undefined without spec.backup. */
export function repositoryStatus(
  cluster: PostgresCluster,
  facts: RepositoryFacts | undefined,
): BackupRepositoryStatus | undefined {
  const url = repositoryUrl(cluster);
  if (!url) return undefined;
  const previous = cluster.status?.backup;
  if (!facts || facts.url !== url) return previous;
  // The last checked repository stays named until another is checked: archiving stays on for it.
  if (!verified(cluster, facts)) return previous;
  const stats = facts.archiver?.stats;
  return {
    repository: url,
    stanzaCreated: stanzaCreated(cluster, facts),
    ...(stats
      ? {
          archiving: {
            ...(stats.lastArchivedWal ? { lastArchivedWal: stats.lastArchivedWal } : {}),
            ...(stats.lastArchivedAt ? { lastArchivedTime: iso(stats.lastArchivedAt) } : {}),
            failedCount: stats.failedCount,
            ...(stats.lastFailedWal ? { lastFailedWal: stats.lastFailedWal } : {}),
            ...(stats.lastFailedAt ? { lastFailedTime: iso(stats.lastFailedAt) } : {}),
          },
        }
      : previous?.repository === url && previous.archiving
        ? { archiving: previous.archiving }
        : {}),
  };
}

/** The BackupHealthy condition, or undefined without spec.backup. */
export function backupHealthCondition(
  cluster: PostgresCluster,
  facts: RepositoryFacts | undefined,
): ConditionUpdate | undefined {
  const url = repositoryUrl(cluster);
  if (!url) return undefined;
  const condition = conditionOf(BACKUP_HEALTHY_CONDITION);
  if (!facts || facts.url !== url) return condition('Unknown', 'Checking', `checking the repository ${url}`);
  if (facts.reachable && !facts.reachable.ok)
    return condition('False', facts.reachable.reason, facts.reachable.message);
  if (!verified(cluster, facts)) return condition('Unknown', 'Checking', `checking the repository ${url}`);
  if (!stanzaCreated(cluster, facts)) {
    if (facts.stanza && !facts.stanza.ok)
      return condition('False', facts.stanza.reason, facts.stanza.message);
    return condition(
      'Unknown',
      'CreatingStanza',
      `waiting for the primary to create the pgBackRest stanza in ${url}`,
    );
  }
  const stats = facts.archiver?.stats;
  if (archivingFailing(stats))
    return condition(
      'False',
      'ArchivingFailing',
      `archiving ${stats!.lastFailedWal} to ${url} failed at ${iso(stats!.lastFailedAt)} (${stats!.failedCount} failures; last success ${iso(stats!.lastArchivedAt) ?? 'never'}); PostgreSQL keeps the WAL and retries`,
    );
  return condition(
    'True',
    'ArchivingWorking',
    stats?.lastArchivedWal
      ? `WAL is archived to ${url}; last ${stats.lastArchivedWal} at ${iso(stats.lastArchivedAt)}`
      : `the stanza exists in ${url}; no WAL archived yet`,
  );
}
