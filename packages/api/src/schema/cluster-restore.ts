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

export const ClusterRestoreSchema = Type.Object(
  {
    ...restoreSourceFields,
    backupLabel: Type.Optional(
      backupLabelField('Restore this backup (pgBackRest label) and stop where it ends.'),
    ),
    targetTime: Type.Optional(Type.String({ description: TARGET_TIME_DESCRIPTION, format: 'date-time' })),
    exclusive: Type.Optional(Type.Boolean({ description: EXCLUSIVE_DESCRIPTION, default: false })),
  },
  {
    description:
      'Create the cluster from a backup instead of an empty database: the first instance runs pgbackrest restore before Patroni starts PostgreSQL, the others are cloned from it. Without backupLabel or targetTime, to the latest point the repository holds. Used only when the cluster is created.',
    'x-kubernetes-validations': [
      ...restoreSourceRules,
      cel('!(has(self.backupLabel) && has(self.targetTime))', 'set backupLabel or targetTime, not both'),
      cel(
        '!has(self.exclusive) || !self.exclusive || has(self.targetTime)',
        'exclusive applies only to targetTime',
        { fieldPath: '.exclusive', reason: 'FieldValueForbidden' },
      ),
    ],
  },
);

export const CLUSTER_RESTORE_PHASES = ['Restoring', 'Restored', 'Failed'] as const;
export type ClusterRestorePhase = (typeof CLUSTER_RESTORE_PHASES)[number];

export const ClusterRestoreStatusSchema = Type.Object(
  {
    phase: stringEnum(CLUSTER_RESTORE_PHASES, {
      description:
        'Restoring: pgbackrest restore and recovery are running. Restored: the cluster runs on the restored data. Failed: see message; the cluster must be deleted and created again.',
    }),
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
