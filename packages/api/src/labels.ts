/**
 * Label and annotation names that are part of pgop's contract with users and between its
 * two controllers. Defined once here so no controller spells them differently.
 */
import { GROUP } from './group.js';

/** On every object pgop creates for a cluster; value: the PostgresCluster's name. */
export const CLUSTER_LABEL = `${GROUP}/cluster`;

/**
 * On instance pods, set by Patroni itself: `primary` on the leader, `replica` on the others.
 * The <name>-primary and <name>-replica Services select on it.
 */
export const ROLE_LABEL = `${GROUP}/role`;
export const ROLES = { primary: 'primary', replica: 'replica' } as const;

/** Stops reconciling the annotated object (any non-empty value but "false") without touching its children. */
export const PAUSED_ANNOTATION = `${GROUP}/paused`;

/**
 * On a PostgresCluster: each distinct value asks for one switchover (e.g. the current time).
 * The switchover goes to the replica named by SWITCHOVER_TARGET_ANNOTATION, or to the best one.
 */
export const SWITCHOVER_ANNOTATION = `${GROUP}/switchover`;
export const SWITCHOVER_TARGET_ANNOTATION = `${GROUP}/switchover-target`;

/** On a PostgresBackup: each distinct value requests exactly one on-demand backup. */
export const BACKUP_TRIGGER_ANNOTATION = `backup.${GROUP}/trigger`;

/** On a PostgresBackup with spec.verify: each distinct value requests one restore verification now. */
export const VERIFY_TRIGGER_ANNOTATION = `backup.${GROUP}/verify`;

/** The PostgresBackup's condition for restore verification (spec.verify). */
export const BACKUP_VERIFIED_CONDITION = 'BackupVerified';

/** On the temporary cluster of a verification: the PostgresBackup's name. */
export const VERIFY_LABEL = `${GROUP}/verify`;

/**
 * The condition on a PostgresCluster (its repository and WAL archiving, by the cluster
 * controller) and on a PostgresBackup (that plus its Jobs, by the backup controller, which reads
 * the cluster's).
 */
export const BACKUP_HEALTHY_CONDITION = 'BackupHealthy';

/** The recommended app.kubernetes.io labels. */
export const APP_LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const MANAGED_BY = 'pgop';

/** True when the object carries the pause annotation with a value other than "false". */
export function isPaused(meta: { annotations?: Record<string, string> | undefined } | undefined): boolean {
  const value = meta?.annotations?.[PAUSED_ANNOTATION];
  return value !== undefined && value !== '' && value.toLowerCase() !== 'false';
}

/**
 * On a PostgresCluster a PostgresRestore created (destination.newCluster): the PostgresRestore's
 * name (label) and the request, <PostgresRestore uid>/<generation> (annotation; the same value
 * as spec.inPlaceRestore.requestId in place). Only a cluster carrying its uid is the restore's to
 * delete after a failure; a namesake created by anyone else is never touched. The cluster
 * controller marks the restore's Jobs with the request too.
 */
export const RESTORE_LABEL = `${GROUP}/restore`;
export const RESTORE_REQUEST_ANNOTATION = `${GROUP}/restore-request`;

/** The PostgresRestore's condition: True once the data is restored, False with the reason it failed. */
export const RESTORED_CONDITION = 'Restored';
