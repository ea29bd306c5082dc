/**
 * What a restore verification (spec.verify) creates: a temporary PostgresCluster restored from
 * the latest backup (spec.restore, carried out by the cluster controller like any restore), and
 * the Job that runs the check query in it. Both are owned by the PostgresBackup. Pure.
 */
import type { V1Job } from '@kubernetes/client-node';
import {
  API_VERSION,
  controllerReference,
  DEFAULT_VERIFY_QUERY,
  KINDS,
  VERIFY_LABEL,
  type PostgresBackup,
  type PostgresCluster,
} from '@pgop/api';
import { metadata, runSpec, VERIFY_JOB_ENTRYPOINT, type JobSettings } from './backup-job.js';
import { BACKUP_REASON_LABEL, names, VERIFY_REASON } from '../naming.js';

/**
 * One instance of the source's version, image, storage and resources, with no repository of its
 * own (it archives nothing), restored to the latest point of the backup's repository. Its volume
 * goes with it: it holds a copy, nothing of its own.
 */
export function renderVerifyCluster(backup: PostgresBackup, source: PostgresCluster): PostgresCluster {
  const { version, image, storage, resources } = source.spec;
  return {
    apiVersion: API_VERSION,
    kind: KINDS.PostgresCluster.kind,
    metadata: {
      name: names.verifyCluster(backup),
      namespace: backup.metadata.namespace!,
      labels: { [VERIFY_LABEL]: backup.metadata.name! },
      ownerReferences: [controllerReference(KINDS.PostgresBackup.kind, backup.metadata)],
    },
    spec: {
      version,
      replicas: 1,
      ...(image ? { image } : {}),
      storage,
      ...(resources ? { resources } : {}),
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
      restore: { backupName: backup.metadata.name! },
    },
  };
}

/** The Job that runs the check query in the temporary cluster; a failure is not retried. */
export function renderVerifyJob(backup: PostgresBackup, settings: JobSettings, startedAt: string): V1Job {
  const meta = metadata(backup, names.verifyJob(backup, startedAt), VERIFY_REASON);
  const spec = runSpec(
    backup,
    settings,
    VERIFY_REASON,
    VERIFY_JOB_ENTRYPOINT,
    {
      PGOP_NAMESPACE: backup.metadata.namespace!,
      PGOP_CLUSTER: names.verifyCluster(backup),
      PGOP_VERIFY_QUERY: backup.spec.verify?.query ?? DEFAULT_VERIFY_QUERY,
    },
    0,
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...meta, labels: { ...meta.labels, [BACKUP_REASON_LABEL]: VERIFY_REASON } },
    spec,
  };
}
