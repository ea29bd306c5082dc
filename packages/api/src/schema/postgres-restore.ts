/** PostgresRestore: restore a cluster's backups into a new cluster or, confirmed, in place. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { statusTail } from './condition.js';
import { cel, stringEnum } from './k8s.js';
import type { CustomObject } from './meta.js';
import { clusterNameField } from './names.js';
import { PostgresClusterSpecSchema } from './postgres-cluster.js';
import {
  backupLabelField,
  EXCLUSIVE_DESCRIPTION,
  TARGET_TIME_DESCRIPTION,
  restoreSourceFields,
  restoreSourceRules,
} from './cluster-restore.js';

/**
 * A copy of a schema without CEL transition rules (those using oldSelf). A restore's embedded
 * cluster spec is a plan, not a running cluster: retrying a failed restore with a lower version
 * or smaller volumes must be allowed.
 */
function withoutTransitionRules<T extends TSchema>(schema: T): T {
  const copy = structuredClone(schema) as Record<string, unknown>;
  const strip = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(strip);
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    const rules = obj['x-kubernetes-validations'];
    if (Array.isArray(rules)) {
      const kept = rules.filter((r: { rule: string }) => !r.rule.includes('oldSelf'));
      if (kept.length > 0) obj['x-kubernetes-validations'] = kept;
      else delete obj['x-kubernetes-validations'];
    }
    Object.values(obj).forEach(strip);
  };
  strip(copy);
  return copy as T;
}

export const RestoreSourceSchema = Type.Object(restoreSourceFields, {
  description: 'Where the backups come from: clusterName (optionally with its repository) or backupName.',
  'x-kubernetes-validations': restoreSourceRules,
});

export const RestoreTargetSchema = Type.Object(
  {
    backupLabel: Type.Optional(
      backupLabelField('Restore this backup (pgBackRest label, e.g. 20240115-020000F) and stop at its end.'),
    ),
    time: Type.Optional(
      Type.String({
        description: TARGET_TIME_DESCRIPTION,
        format: 'date-time',
      }),
    ),
    exclusive: Type.Optional(
      Type.Boolean({
        description: EXCLUSIVE_DESCRIPTION,
        default: false,
      }),
    ),
  },
  {
    description:
      'How far to recover: backupLabel, time, or neither for the latest point the repository holds.',
    'x-kubernetes-validations': [
      cel('!(has(self.backupLabel) && has(self.time))', 'set backupLabel or time, not both'),
      cel('!has(self.exclusive) || !self.exclusive || has(self.time)', 'exclusive applies only to time', {
        fieldPath: '.exclusive',
        reason: 'FieldValueForbidden',
      }),
    ],
  },
);

export const RestoreDestinationSchema = Type.Object(
  {
    newCluster: Type.Optional(
      Type.Object(
        {
          name: clusterNameField('Name of the PostgresCluster to create; it must not exist yet.'),
          spec: withoutTransitionRules(PostgresClusterSpecSchema),
        },
        {
          description: 'Create a new PostgresCluster with this spec from the backup.',
          'x-kubernetes-validations': [
            cel(
              '!has(self.spec.restore)',
              'spec.restore is set by pgop from source and target; leave it out of newCluster.spec',
              { fieldPath: '.spec.restore', reason: 'FieldValueForbidden' },
            ),
            cel('!has(self.spec.inPlaceRestore)', 'spec.inPlaceRestore has no place in a new cluster', {
              fieldPath: '.spec.inPlaceRestore',
              reason: 'FieldValueForbidden',
            }),
          ],
        },
      ),
    ),
    inPlace: Type.Optional(
      Type.Object(
        {
          clusterName: clusterNameField('The existing PostgresCluster whose data is replaced.'),
          confirm: Type.String({
            description: "Must repeat clusterName: confirms that the cluster's current data is replaced.",
            maxLength: 253,
          }),
        },
        {
          description:
            'Stop the existing cluster, replace its data with the restored data, and start it again on a new timeline.',
          'x-kubernetes-validations': [
            cel(
              'self.confirm == self.clusterName',
              "confirm must repeat clusterName to confirm that the cluster's current data is replaced",
              { fieldPath: '.confirm' },
            ),
          ],
        },
      ),
    ),
  },
  {
    description: 'Where the restored data goes: exactly one of newCluster or inPlace.',
    'x-kubernetes-validations': [
      cel('has(self.newCluster) != has(self.inPlace)', 'exactly one of newCluster or inPlace must be set'),
    ],
  },
);

export const PostgresRestoreSpecSchema = Type.Object(
  {
    source: RestoreSourceSchema,
    target: Type.Optional(RestoreTargetSchema),
    destination: RestoreDestinationSchema,
  },
  { description: 'What to restore, to which point, and where.' },
);

export const RESTORE_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type RestorePhase = (typeof RESTORE_PHASES)[number];

export const PostgresRestoreStatusSchema = Type.Object(
  {
    phase: Type.Optional(
      stringEnum(RESTORE_PHASES, {
        description:
          'Pending: checks not yet passed. Running: restoring. Succeeded: the cluster serves the restored data. Failed: see conditions; update the spec to retry.',
        default: 'Pending',
      }),
    ),
    startTime: Type.Optional(Type.String({ description: 'When the restore started.', format: 'date-time' })),
    completionTime: Type.Optional(
      Type.String({ description: 'When the restore finished.', format: 'date-time' }),
    ),
    restoredTo: Type.Optional(
      Type.Object(
        {
          backupLabel: Type.Optional(
            Type.String({ description: 'The backup the restore started from.', maxLength: 64 }),
          ),
          time: Type.Optional(
            Type.String({ description: 'The recovery target time reached.', format: 'date-time' }),
          ),
          timeline: Type.Optional(
            Type.Integer({ description: 'Timeline of the restored cluster.', minimum: 1 }),
          ),
          lsn: Type.Optional(Type.String({ description: 'WAL position recovery ended at.', maxLength: 32 })),
        },
        { description: 'The point the data was restored to.' },
      ),
    ),
    ...statusTail(),
  },
  { description: 'Observed state of the restore, written by the backup controller.', default: {} },
);

export type PostgresRestoreSpec = Static<typeof PostgresRestoreSpecSchema>;
export type PostgresRestoreStatus = Static<typeof PostgresRestoreStatusSchema>;
export type PostgresRestore = CustomObject<PostgresRestoreSpec, PostgresRestoreStatus>;
