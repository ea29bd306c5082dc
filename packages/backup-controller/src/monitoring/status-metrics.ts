/**
 * Each PostgresBackup's status as gauges, computed from the controller's cache at scrape time:
 * whether the last backup and verification succeeded, when, and how often the schedules say
 * they should, so an alert can tell a missed run (docs/monitoring.md). Pure.
 */
import type { PostgresBackup } from '@pgop/api';
import type { Sample, SnapshotGauge } from '@pgop/runtime';
import { CronExpressionParser } from 'cron-parser';

type BackupLabel = 'namespace' | 'backup' | 'cluster';
const LABELS: BackupLabel[] = ['namespace', 'backup', 'cluster'];
/** Unix seconds of a timestamp (a string, or a Date where the client library parsed one). */
const seconds = (time: string | Date | undefined) => (time ? new Date(time).getTime() / 1000 : undefined);

/** Intervals looked at: enough to see a weekday schedule's weekend, or a monthly one's longest month. */
const RUNS_LOOKED_AT = 12;

/**
 * The longest gap between consecutive runs of a cron schedule (UTC) from `now`: how old the
 * last success may be, at most, just before the next run when every run succeeds.
 */
export function longestScheduleInterval(schedule: string | undefined, now: Date): number | undefined {
  if (!schedule) return undefined;
  try {
    const runs = CronExpressionParser.parse(schedule, { currentDate: now, tz: 'UTC' }).take(
      RUNS_LOOKED_AT + 1,
    );
    let longest = 0;
    for (let i = 1; i < runs.length; i++)
      longest = Math.max(longest, (runs[i]!.getTime() - runs[i - 1]!.getTime()) / 1000);
    return longest;
  } catch {
    return undefined;
  }
}

function perBackup<L extends string>(
  backups: () => readonly PostgresBackup[],
  samples: (b: PostgresBackup, labels: Record<BackupLabel, string>) => Sample<L | BackupLabel>[],
) {
  return () =>
    backups().flatMap((b) =>
      samples(b, {
        namespace: b.metadata.namespace ?? '',
        backup: b.metadata.name ?? '',
        cluster: b.spec.clusterName,
      }),
    );
}

const gaugeOf = (value: number | undefined, labels: Record<BackupLabel, string>) =>
  value === undefined ? [] : [{ labels, value }];

export function backupStatusGauges(
  backups: () => readonly PostgresBackup[],
  now: () => Date = () => new Date(),
): SnapshotGauge<string>[] {
  return [
    {
      name: 'pgop_backup_condition',
      help: "Always 1: each of the PostgresBackup's conditions (BackupHealthy, LastBackupSucceeded, BackupVerified) with its status and reason as labels.",
      labelNames: [...LABELS, 'type', 'status', 'reason'],
      samples: perBackup(backups, (b, labels) =>
        (b.status?.conditions ?? []).map((c) => ({
          labels: { ...labels, type: c.type, status: c.status, reason: c.reason },
          value: 1,
        })),
      ),
    },
    {
      name: 'pgop_backup_created_timestamp_seconds',
      help: 'When the PostgresBackup was created (Unix time): the age a first backup is measured from.',
      labelNames: LABELS,
      samples: perBackup(backups, (b, labels) => gaugeOf(seconds(b.metadata.creationTimestamp), labels)),
    },
    {
      name: 'pgop_backup_last_success_timestamp_seconds',
      help: 'When the last successful backup finished (status.lastBackup, Unix time).',
      labelNames: LABELS,
      samples: perBackup(backups, (b, labels) => gaugeOf(seconds(b.status?.lastBackup), labels)),
    },
    {
      name: 'pgop_backup_schedule_interval_seconds',
      help: 'The longest gap between two runs of spec.schedule (scheduled backups only).',
      labelNames: LABELS,
      samples: perBackup(backups, (b, labels) =>
        gaugeOf(longestScheduleInterval(b.spec.schedule, now()), labels),
      ),
    },
    {
      name: 'pgop_backup_verification_last_success_timestamp_seconds',
      help: 'When a restore verification last succeeded (status.verification.lastSucceeded, Unix time).',
      labelNames: LABELS,
      samples: perBackup(backups, (b, labels) =>
        gaugeOf(seconds(b.status?.verification?.lastSucceeded), labels),
      ),
    },
    {
      name: 'pgop_backup_verification_interval_seconds',
      help: 'The longest gap between two runs of spec.verify.schedule.',
      labelNames: LABELS,
      samples: perBackup(backups, (b, labels) =>
        gaugeOf(longestScheduleInterval(b.spec.verify?.schedule, now()), labels),
      ),
    },
  ];
}
