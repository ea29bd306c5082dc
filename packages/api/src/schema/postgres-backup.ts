/** PostgresBackup: a backup schedule, retention and on-demand trigger for one cluster's repository. */
import { Type, type Static } from '@sinclair/typebox';
import { BACKUP_TRIGGER_ANNOTATION, VERIFY_TRIGGER_ANNOTATION } from '../labels.js';
import { statusTail } from './condition.js';
import { CRON_PATTERN } from './cron.js';
import { cel, stringEnum } from './k8s.js';
import type { CustomObject } from './meta.js';
import { clusterNameField } from './names.js';

export const DEFAULT_RETENTION_DAYS = 7;
export const DEFAULT_RETENTION_COUNT = 5;

export const BACKUP_TYPES = ['Full', 'Differential', 'Incremental'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export const RetentionSchema = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({
        description: `Remove backups older than this many days; 0 keeps backups of any age. Default: ${DEFAULT_RETENTION_DAYS}.`,
        default: DEFAULT_RETENTION_DAYS,
        minimum: 0,
        maximum: 36500,
      }),
    ),
    count: Type.Optional(
      Type.Integer({
        description: `Keep at most this many backups (at least 1). Default: ${DEFAULT_RETENTION_COUNT}.`,
        default: DEFAULT_RETENTION_COUNT,
        minimum: 1,
        maximum: 1000,
      }),
    ),
  },
  {
    description:
      'Which backups are kept after each successful backup. A backup is removed when it is older than days or beyond the newest count, unless it is kept forever or later backups still need it.',
    default: {},
  },
);

const cronField = (description: string) =>
  Type.String({
    description,
    maxLength: 256,
    'x-kubernetes-validations': [
      cel(
        `self.matches('${CRON_PATTERN.replaceAll('\\', '\\\\')}')`,
        'must be a cron expression of five fields (minute 0-59, hour 0-23, day-of-month 1-31, month 1-12, day-of-week 0-7; *, ranges a-b, lists a,b and steps /n), e.g. "0 2 * * *", or one of @hourly, @daily, @weekly, @monthly, @yearly',
      ),
    ],
  });

/** What a verification runs against the restored data when spec.verify.query is not given. */
export const DEFAULT_VERIFY_QUERY = 'SELECT count(*) FROM pg_class';

export const VerifySchema = Type.Object(
  {
    schedule: cronField(
      'When to verify (cron, UTC), e.g. "0 6 * * 0": restore the latest backup into a temporary cluster, run query, delete the cluster.',
    ),
    query: Type.Optional(
      Type.String({
        description: `SQL run in the database postgres of the restored data as pgop_verify, a read-only role that reads every table and is not a superuser. The verification passes when it runs and returns at least one row; only the row count is reported, never the rows. Default: ${DEFAULT_VERIFY_QUERY}.`,
        minLength: 1,
        maxLength: 4096,
      }),
    ),
  },
  {
    description:
      'Restore verification: proof that the backups restore. The result is the BackupVerified condition and status.verification.',
  },
);

export const PostgresBackupSpecSchema = Type.Object(
  {
    clusterName: clusterNameField(
      'Name of the PostgresCluster (same namespace) whose repository receives the backups. Immutable.',
    ),
    schedule: Type.Optional(
      cronField(
        'Cron schedule of five fields (minute hour day-of-month month day-of-week, in UTC), e.g. "0 2 * * *", or @hourly, @daily, @weekly, @monthly, @yearly. Absent: one backup now.',
      ),
    ),
    type: Type.Optional(
      stringEnum(BACKUP_TYPES, {
        description:
          'pgBackRest backup type of scheduled backups. Absent: Full when the repository has no full backup, Incremental otherwise.',
      }),
    ),
    retention: Type.Optional(RetentionSchema),
    keepForever: Type.Optional(
      Type.Boolean({
        description:
          'Keep the backups this object takes on demand (the one-off backup when there is no schedule, and each trigger annotation) forever: retention never removes them. Default: false.',
        default: false,
      }),
    ),
    verify: Type.Optional(VerifySchema),
  },
  {
    description: 'Desired backups of the cluster.',
    'x-kubernetes-validations': [
      cel(
        'self.clusterName == oldSelf.clusterName',
        'clusterName is immutable: create another PostgresBackup for another cluster',
        {
          fieldPath: '.clusterName',
        },
      ),
    ],
  },
);

export const BACKUP_TRIGGER_PHASES = ['Running', 'Succeeded', 'Failed'] as const;

const timestamp = (description: string) => Type.String({ description, format: 'date-time' });

/** One backup in the repository, as pgBackRest's info reports it. */
export const BackupRecordSchema = Type.Object(
  {
    label: Type.String({ description: 'pgBackRest backup label, e.g. 20261125-020000F.', maxLength: 64 }),
    type: stringEnum(BACKUP_TYPES, { description: 'Full, Differential or Incremental.' }),
    start: timestamp('When the backup started.'),
    stop: timestamp('When the backup finished.'),
    databaseSize: Type.Integer({ description: 'Size of the database, in bytes.', minimum: 0 }),
    repositorySize: Type.Integer({
      description: 'What this backup added to the repository (compressed), in bytes.',
      minimum: 0,
    }),
    walStart: Type.Optional(
      Type.String({ description: 'First WAL segment the backup needs.', maxLength: 32 }),
    ),
    walStop: Type.Optional(Type.String({ description: 'Last WAL segment the backup needs.', maxLength: 32 })),
    keepForever: Type.Optional(
      Type.Boolean({
        description: 'Retention never removes this backup (an on-demand backup of keepForever).',
      }),
    ),
  },
  { description: 'A backup in the repository.' },
);

export const BACKUP_LIST_LIMIT = 20;

export const BackupRunSchema = Type.Object(
  {
    job: Type.String({ description: 'The Job that takes the backup.', maxLength: 63 }),
    phase: stringEnum(BACKUP_TRIGGER_PHASES, { description: 'Where the backup is.' }),
    backup: Type.Optional(Type.String({ description: 'Label of the backup it made.', maxLength: 64 })),
    message: Type.Optional(Type.String({ description: 'Why it failed.', maxLength: 2048 })),
    startedAt: timestamp('When pgop created the Job.'),
    completedAt: Type.Optional(timestamp('When the Job succeeded or failed for good.')),
  },
  { description: 'A backup pgop started on demand.' },
);

export const VERIFICATION_PHASES = ['Running', 'Succeeded', 'Failed'] as const;

export const VerificationStatusSchema = Type.Object(
  {
    phase: stringEnum(VERIFICATION_PHASES, { description: 'The last (or current) verification.' }),
    cluster: Type.String({ description: 'The temporary PostgresCluster it restores into.', maxLength: 63 }),
    trigger: Type.Optional(
      Type.String({
        description: `The value of the ${VERIFY_TRIGGER_ANNOTATION} annotation it answered, if it was asked for.`,
        maxLength: 1024,
      }),
    ),
    startedAt: timestamp('When it started.'),
    completedAt: Type.Optional(timestamp('When it succeeded or failed.')),
    message: Type.Optional(Type.String({ description: 'What it found, or why it failed.', maxLength: 2048 })),
    backupLabel: Type.Optional(Type.String({ description: 'The backup restored.', maxLength: 64 })),
    lastTransactionTime: Type.Optional(
      timestamp('Commit time of the newest transaction the restored data holds.'),
    ),
    lastSucceeded: Type.Optional(timestamp('When a verification last succeeded.')),
    next: Type.Optional(timestamp('When spec.verify.schedule runs next.')),
  },
  { description: 'Restore verification (spec.verify).' },
);

export const PostgresBackupStatusSchema = Type.Object(
  {
    lastBackup: Type.Optional(
      Type.String({ description: 'When the last successful backup finished.', format: 'date-time' }),
    ),
    lastBackupSize: Type.Optional(
      Type.String({
        description: 'Size of the database in the last backup, human-readable, e.g. 1.2GB.',
        maxLength: 32,
      }),
    ),
    backupCount: Type.Optional(
      Type.Integer({ description: 'Number of backups in the repository.', minimum: 0 }),
    ),
    nextScheduled: Type.Optional(
      Type.String({ description: 'When the schedule runs next.', format: 'date-time' }),
    ),
    backups: Type.Optional(
      Type.Array(BackupRecordSchema, {
        description: `The newest ${BACKUP_LIST_LIMIT} backups in the repository, newest first (pgbackrest info lists them all).`,
        maxItems: BACKUP_LIST_LIMIT,
      }),
    ),
    oneOff: Type.Optional(
      Type.Object(BackupRunSchema.properties, {
        description:
          'The one backup of a PostgresBackup without a schedule. Once recorded, it is never taken again.',
      }),
    ),
    lastTrigger: Type.Optional(
      Type.Object(
        {
          value: Type.String({
            description: `The value of the ${BACKUP_TRIGGER_ANNOTATION} annotation this backup answered.`,
            maxLength: 1024,
          }),
          ...BackupRunSchema.properties,
        },
        {
          description:
            'The last on-demand backup. A value equal to this one never backs up again, even after a controller restart.',
        },
      ),
    ),
    verification: Type.Optional(VerificationStatusSchema),
    ...statusTail(),
  },
  { description: 'Observed state of the backups, written by the backup controller.' },
);

export type PostgresBackupSpec = Static<typeof PostgresBackupSpecSchema>;
export type BackupRun = Static<typeof BackupRunSchema>;
export type BackupRecord = Static<typeof BackupRecordSchema>;
export type VerificationStatus = Static<typeof VerificationStatusSchema>;
export type PostgresBackupStatus = Static<typeof PostgresBackupStatusSchema>;
export type PostgresBackup = CustomObject<PostgresBackupSpec, PostgresBackupStatus>;
