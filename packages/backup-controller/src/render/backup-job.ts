/**
 * The objects a PostgresBackup owns: the CronJob of its schedule, the Jobs of one-off and
 * triggered backups, and the ServiceAccount and RoleBinding those Jobs run as (the only
 * identity in pgop allowed to exec into database pods for backups). Pure.
 */
import type {
  V1CronJob,
  V1Job,
  V1JobSpec,
  V1ObjectMeta,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import {
  APP_LABELS,
  CLUSTER_LABEL,
  controllerReference,
  DEFAULT_RETENTION_COUNT,
  DEFAULT_RETENTION_DAYS,
  KINDS,
  MANAGED_BY,
  type BackupType,
  type PostgresBackup,
} from '@pgop/api';
import { BACKUP_LABEL, BACKUP_REASON_LABEL, names, type BackupReason } from '../naming.js';

/** Where the operator image keeps the Job's entry point (images/operator/Dockerfile). */
export const JOB_ENTRYPOINT = 'packages/backup-controller/dist/src/job/main.js';
export const VERIFY_JOB_ENTRYPOINT = 'packages/backup-controller/dist/src/job/verify.js';
/** pgBackRest's lock wait and an S3 outage are retried inside; these are whole-Job retries. */
export const JOB_RETRIES = 3;

const PGBACKREST_TYPES: Record<BackupType, string> = {
  Full: 'full',
  Differential: 'diff',
  Incremental: 'incr',
};

export interface JobSettings {
  /** The operator image (the Job runs job/main.js from it). */
  image: string;
  /** The ClusterRole the Jobs are bound to in their namespace (Helm: <release>-backup-job). */
  jobClusterRole: string;
}

function labels(backup: PostgresBackup, component: string): Record<string, string> {
  return {
    [APP_LABELS.name]: 'pgop',
    [APP_LABELS.instance]: backup.spec.clusterName,
    [APP_LABELS.component]: component,
    [APP_LABELS.partOf]: 'pgop',
    [APP_LABELS.managedBy]: MANAGED_BY,
    [CLUSTER_LABEL]: backup.spec.clusterName,
    [BACKUP_LABEL]: backup.metadata.name!,
  };
}

export function metadata(backup: PostgresBackup, name: string, component: string): V1ObjectMeta {
  return {
    name,
    namespace: backup.metadata.namespace,
    labels: labels(backup, component),
    ownerReferences: [controllerReference(KINDS.PostgresBackup.kind, backup.metadata)],
  };
}

export function renderJobAccess(
  backup: PostgresBackup,
  settings: JobSettings,
): [V1ServiceAccount, V1RoleBinding] {
  const name = names.serviceAccount(backup);
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(backup, name, 'backup') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata(backup, name, 'backup'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: settings.jobClusterRole },
      subjects: [{ kind: 'ServiceAccount', name, namespace: backup.metadata.namespace! }],
    },
  ];
}

function jobSpec(backup: PostgresBackup, settings: JobSettings, reason: BackupReason): V1JobSpec {
  const { spec } = backup;
  const onDemand = reason !== 'scheduled';
  return runSpec(backup, settings, reason, JOB_ENTRYPOINT, {
    PGOP_NAMESPACE: backup.metadata.namespace!,
    PGOP_CLUSTER: spec.clusterName,
    PGOP_BACKUP: backup.metadata.name!,
    PGOP_BACKUP_TYPE: spec.type ? PGBACKREST_TYPES[spec.type] : '',
    PGOP_KEEP_FOREVER: String(onDemand && (spec.keepForever ?? false)),
    PGOP_RETENTION_COUNT: String(spec.retention?.count ?? DEFAULT_RETENTION_COUNT),
    PGOP_RETENTION_DAYS: String(spec.retention?.days ?? DEFAULT_RETENTION_DAYS),
  });
}

/** A Job of the operator image running entrypoint as the backup's Job identity. */
export function runSpec(
  backup: PostgresBackup,
  settings: JobSettings,
  reason: string,
  entrypoint: string,
  env: Record<string, string>,
  retries = JOB_RETRIES,
): V1JobSpec {
  return {
    backoffLimit: retries,
    // The controller deletes a Job once it has recorded the result; this is the safety net
    // for when it cannot (a Job it never saw finish).
    ttlSecondsAfterFinished: 24 * 3600,
    template: {
      metadata: { labels: { ...labels(backup, 'backup'), [BACKUP_REASON_LABEL]: reason } },
      spec: {
        serviceAccountName: names.serviceAccount(backup),
        restartPolicy: 'Never',
        enableServiceLinks: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 65532,
          runAsGroup: 65532,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name: 'backup',
            image: settings.image,
            // Without the image's --enable-source-maps: reading every module's source map
            // would add about 0.4 s to each Job's start, and a Job reports messages, not stacks.
            command: ['node', entrypoint],
            env: Object.entries(env).map(([name, value]) => ({ name, value })),
            terminationMessagePolicy: 'File',
            resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
      },
    },
  };
}

export function renderCronJob(backup: PostgresBackup, settings: JobSettings): V1CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: metadata(backup, names.cronJob(backup), 'backup'),
    spec: {
      schedule: backup.spec.schedule!,
      timeZone: 'Etc/UTC',
      // One backup of a stanza at a time; a missed run is made up within 5 minutes or skipped.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { ...labels(backup, 'backup'), [BACKUP_REASON_LABEL]: 'scheduled' } },
        spec: jobSpec(backup, settings, 'scheduled'),
      },
    },
  };
}

export function renderJob(
  backup: PostgresBackup,
  settings: JobSettings,
  reason: 'once' | 'trigger',
  name: string,
): V1Job {
  const meta = metadata(backup, name, 'backup');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...meta, labels: { ...meta.labels, [BACKUP_REASON_LABEL]: reason } },
    spec: jobSpec(backup, settings, reason),
  };
}
