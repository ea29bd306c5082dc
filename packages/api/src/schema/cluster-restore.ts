/**
 * PostgresCluster.spec.restore: create the cluster from a pgBackRest backup instead of initdb
 * (the seed's form, and what a PostgresRestore with destination newCluster creates), and
 * status.restore, the cluster controller's account of it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { cel, stringEnum } from './k8s.js';
import { clusterNameField } from './names.js';
import { RepositorySchema } from './repository.js';

/** pgBackRest backup labels: 20240115-020000F, optionally _20240116-020000D or I for diff/incr. */
export const BACKUP_LABEL_PATTERN = '^[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?$';

export const backupLabelField = (description: string) =>
  Type.String({
    description,
    maxLength: 64,
    'x-kubernetes-validations': [
      cel(
        `self.matches('${BACKUP_LABEL_PATTERN}')`,
        'must be a pgBackRest backup label such as 20240115-020000F or 20240115-020000F_20240116-020000I',
      ),
    ],
  });

/** The source fields, shared with PostgresRestore.spec.source. */
export const restoreSourceFields = {
  clusterName: Type.Optional(
    clusterNameField(
      'The cluster whose backups are restored. Its repository is read from the PostgresCluster of that name unless repository is given (needed when that cluster no longer exists).',
    ),
  ),
  repository: Type.Optional(RepositorySchema),
  backupName: Type.Optional(
    Type.String({
      description: "A PostgresBackup (same namespace); its cluster's repository is the source.",
      minLength: 1,
      maxLength: 253,
    }),
  ),
};

export const restoreSourceRules = [
  cel(
    'has(self.clusterName) != has(self.backupName)',
    'exactly one of clusterName or backupName must be set',
  ),
  cel('!has(self.repository) || has(self.clusterName)', 'repository can only be given with clusterName', {
    fieldPath: '.repository',
    reason: 'FieldValueForbidden',
  }),
];

export const TARGET_TIME_DESCRIPTION =
  'Point-in-time recovery: replay WAL up to this time, in RFC 3339 with a time zone (e.g. 2024-01-15T01:30:00Z).';
export const EXCLUSIVE_DESCRIPTION =
  'With a time: stop just before a transaction that committed exactly at that time instead of after it. Default: false.';

/** The target fields, shared by spec.restore and spec.inPlaceRestore. */
const restoreTargetFields = {
  backupLabel: Type.Optional(
    backupLabelField('Restore this backup (pgBackRest label) and stop where it ends.'),
  ),
  targetTime: Type.Optional(Type.String({ description: TARGET_TIME_DESCRIPTION, format: 'date-time' })),
  exclusive: Type.Optional(Type.Boolean({ description: EXCLUSIVE_DESCRIPTION, default: false })),
};

const restoreTargetRules = [
  cel('!(has(self.backupLabel) && has(self.targetTime))', 'set backupLabel or targetTime, not both'),
  cel(
    '!has(self.exclusive) || !self.exclusive || has(self.targetTime)',
    'exclusive applies only to targetTime',
    {
      fieldPath: '.exclusive',
      reason: 'FieldValueForbidden',
    },
  ),
];

export const ClusterRestoreSchema = Type.Object(
  { ...restoreSourceFields, ...restoreTargetFields },
  {
    description:
      'Create the cluster from a backup instead of an empty database: the first instance runs pgbackrest restore before Patroni starts PostgreSQL, the others are cloned from it. Without backupLabel or targetTime, to the latest point the repository holds. Used only when the cluster is created.',
    'x-kubernetes-validations': [...restoreSourceRules, ...restoreTargetRules],
  },
);

export const InPlaceRestoreSchema = Type.Object(
  {
    requestId: Type.String({
      description:
        'Names this request; a new value starts a new restore (the backup controller writes <PostgresRestore uid>/<generation>).',
      minLength: 1,
      maxLength: 128,
    }),
    ...restoreTargetFields,
  },
  {
    description:
      "Replace this cluster's data with its own backups (spec.backup): the instances are stopped, the first is restored with pgbackrest restore --delta, the others are cloned again; the cluster continues on a new timeline. Written by the backup controller for a confirmed PostgresRestore (destination.inPlace), not by hand.",
    'x-kubernetes-validations': restoreTargetRules,
  },
);

export const CLUSTER_RESTORE_PHASES = ['Checking', 'Restoring', 'Restored', 'Failed'] as const;
export type ClusterRestorePhase = (typeof CLUSTER_RESTORE_PHASES)[number];

export const ClusterRestoreStatusSchema = Type.Object(
  {
    phase: stringEnum(CLUSTER_RESTORE_PHASES, {
      description:
        'Checking: the source repository is read and the target checked against it; nothing is touched yet. Restoring: pgbackrest restore and recovery are running. Restored: the cluster runs on the restored data. Failed: see reason and message.',
    }),
    reason: Type.Optional(
      Type.String({
        description:
          'Why it failed: RestoreSourceNotFound, RestoreSourceInvalid, RepositoryUnreachable, RestoreTargetOutOfRange, RestoreVersionMismatch, RestoreFailed.',
        maxLength: 128,
      }),
    ),
    requestId: Type.Optional(
      Type.String({
        description: 'The spec.inPlaceRestore.requestId this reports on (unset for spec.restore).',
        maxLength: 128,
      }),
    ),
    backupLabel: Type.Optional(
      Type.String({ description: 'The backup the data was restored from.', maxLength: 64 }),
    ),
    instancesStopped: Type.Optional(
      Type.Boolean({
        description:
          'True while the instances are stopped for an in-place restore: they start again only on restored data (after a failed restore, only when a retry succeeds).',
      }),
    ),
    recoverableFrom: Type.Optional(
      Type.String({
        description: "The earliest time the repository can restore to (its oldest backup's end).",
        format: 'date-time',
      }),
    ),
    recoverableUntil: Type.Optional(
      Type.String({
        description: 'When the newest WAL segment reached the repository: the latest time it can restore to.',
        format: 'date-time',
      }),
    ),
    source: Type.Optional(
      Type.String({
        description: 'The repository restored from, e.g. s3://bucket/pgbackrest/ns/name.',
        maxLength: 2048,
      }),
    ),
    message: Type.Optional(Type.String({ description: 'What happened, or why it failed.', maxLength: 2048 })),
    timeline: Type.Optional(
      Type.Integer({
        description:
          'The timeline the restored cluster runs on once its first instance leads (new: recovery ends with a promotion).',
        minimum: 1,
      }),
    ),
    lsn: Type.Optional(
      Type.String({ description: 'The WAL position when the restored cluster opened.', maxLength: 32 }),
    ),
    lastTransactionTime: Type.Optional(
      Type.String({
        description: 'Commit time of the last transaction the restored data contains.',
        format: 'date-time',
      }),
    ),
    completedAt: Type.Optional(
      Type.String({ description: 'When the restore succeeded or failed.', format: 'date-time' }),
    ),
  },
  { description: 'How the restore of spec.restore went (set only for clusters created from a backup).' },
);

export type ClusterRestore = Static<typeof ClusterRestoreSchema>;
export type ClusterRestoreStatus = Static<typeof ClusterRestoreStatusSchema>;
export type InPlaceRestore = Static<typeof InPlaceRestoreSchema>;
/** The target of either kind of restore. */
export type RestoreTarget = Pick<ClusterRestore, 'backupLabel' | 'targetTime' | 'exclusive'>;
