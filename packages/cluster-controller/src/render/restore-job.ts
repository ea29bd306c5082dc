/**
 * A cluster created from a backup (spec.restore): before the StatefulSet exists, a Job restores
 * the backup onto the first instance's volume with pgBackRest, replays WAL to the target in a
 * private PostgreSQL (no network, no archiving), promotes it, sets the new cluster's passwords
 * and stops it cleanly. Patroni then starts on that data as on any existing data directory, and
 * the other instances are cloned from it.
 *
 * Running the restore in a Job, not in the instance pods, keeps the source repository's
 * configuration and credentials out of the StatefulSet: the pods never change (or roll) when the
 * restore is over, and never depend on the source cluster's Secrets again.
 */
import type { V1ConfigMap, V1Job, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { PGBACKREST_STANZA, type ClusterRestore, type PostgresCluster } from '@pgop/api';
import { childMetadata, childNames, clusterLabels, DATABASE_COMPONENT } from '../naming.js';
import { DATA_VOLUME_MOUNT, PGDATA } from './instance-paths.js';
import { ini, repositoryOptions, repositorySecretSources, type RepositoryOf } from './pgbackrest.js';
import { REPLICATION_USER, SUPERUSER } from './secrets.js';
import { postgresImagePodSpec, RESTRICTED_CONTAINER_SECURITY_CONTEXT } from './security-context.js';
import { DATA_VOLUME, resourceRequirements } from './statefulset.js';

/** Where the Job mounts the source repository's configuration and Secret files. */
export const RESTORE_SOURCE_DIR = '/etc/pgbackrest-source';
const SCRIPT_KEY = 'restore.sh';
const CONFIG_KEY = 'pgbackrest.conf';

/** The first instance's volume, named as the StatefulSet's claim template names it. */
export function firstInstanceVolume(clusterName: string): string {
  return `${DATA_VOLUME}-${childNames(clusterName).statefulSet}-0`;
}

/**
 * RFC 3339 as PostgreSQL and pgBackRest read a timestamp ("2024-01-15 01:30:00+00"): pgBackRest
 * refuses the "T" and "Z" when it picks the backup for a time. Textual, so microseconds stay.
 */
export function pgTimestamp(rfc3339: string): string {
  return rfc3339.replace(/[tT]/, ' ').replace(/[zZ]$/, '+00');
}

/** pgbackrest restore's options for the target: latest, a backup, or a time. */
export function restoreTargetOptions(restore: ClusterRestore): string[] {
  if (restore.backupLabel)
    return [`--set=${restore.backupLabel}`, '--type=immediate', '--target-action=promote'];
  if (restore.targetTime)
    return [
      '--type=time',
      `--target=${pgTimestamp(restore.targetTime)}`,
      ...(restore.exclusive ? ['--target-exclusive'] : []),
      '--target-action=promote',
    ];
  // No target: replay every archived WAL segment; recovery ends (and promotes) when they run out.
  return ['--type=default'];
}

/**
 * What pgbackrest restore writes into postgresql.auto.conf. Left there, the source's
 * restore_command would run whenever Patroni starts the instance in recovery.
 */
const RECOVERY_SETTINGS = [
  'restore_command',
  'recovery_target',
  'recovery_target_time',
  'recovery_target_inclusive',
  'recovery_target_action',
  'recovery_target_timeline',
  'recovery_target_name',
  'recovery_target_lsn',
  'recovery_target_xid',
];

/**
 * The Job's script. It owns the volume (the StatefulSet does not exist yet), so a retry starts
 * from an empty data directory. The result is the termination message: timeline, LSN and the
 * last replayed transaction's time, as JSON.
 */
export const RESTORE_SCRIPT = `#!/bin/sh
set -eu
fail() { echo "$1" >&2; printf '%s' "$1" | tail -c 3500 > /dev/termination-log; exit 1; }
# The source repository's credentials, from files, never on a command line.
for file in ${RESTORE_SOURCE_DIR}/secret/*; do
  [ -f "$file" ] || continue
  export "PGBACKREST_$(basename "$file")=$(cat "$file")"
done
export PGBACKREST_CONFIG=${RESTORE_SOURCE_DIR}/${CONFIG_KEY}
rm -rf "$PGDATA"
mkdir -m 0700 "$PGDATA"
if ! pgbackrest --stanza=${PGBACKREST_STANZA} --log-level-console=info restore "$@" > /tmp/restore.out 2>&1; then
  cat /tmp/restore.out
  why=$(grep -A 3 ERROR /tmp/restore.out) || why=$(tail -n 5 /tmp/restore.out)
  fail "pgbackrest restore failed: $why"
fi
cat /tmp/restore.out
# A private server: no TCP, no archiving into any repository, no synchronous standby to wait for.
pg_ctl -D "$PGDATA" -l /tmp/postgres.log -w -t 3600 start -o "-c listen_addresses= -c port=5432 \\
  -c unix_socket_directories=/tmp -c archive_mode=off -c synchronous_standby_names= -c hot_standby=on" ||
  fail "PostgreSQL did not start on the restored data: $(tail -n 5 /tmp/postgres.log)"
sql() { psql -h /tmp -d postgres -XAtq "$@"; }
while [ "$(sql -c 'SELECT pg_is_in_recovery()' 2>/dev/null || echo gone)" != f ]; do
  pg_ctl -D "$PGDATA" status > /dev/null || fail "recovery failed: $(tail -n 5 /tmp/postgres.log)"
  sleep 1
done
# The new cluster's own credentials (Patroni does not set them on existing data). Generated
# passwords are URL-safe base64: nothing to escape. Sent on stdin, not on a command line.
sql <<SQL
SET synchronous_commit = local;
ALTER ROLE ${SUPERUSER} WITH PASSWORD '$SUPERUSER_PASSWORD';
DO \\$\\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${REPLICATION_USER}') THEN
    CREATE ROLE ${REPLICATION_USER} WITH LOGIN REPLICATION;
  END IF;
END \\$\\$;
ALTER ROLE ${REPLICATION_USER} WITH LOGIN REPLICATION PASSWORD '$REPLICATION_PASSWORD';
${RECOVERY_SETTINGS.map((p) => `ALTER SYSTEM RESET ${p};`).join('\n')}
CHECKPOINT;
SQL
result=$(sql -c "SELECT json_build_object('timeline', timeline_id, 'lsn', pg_current_wal_lsn()::text) FROM pg_control_checkpoint()")
pg_ctl -D "$PGDATA" -m fast -w stop
# The source's Patroni configuration cache (its restore_command, replication settings): this
# cluster's Patroni must start from its own.
rm -f "$PGDATA/patroni.dynamic.json"
time=$(sed -n 's/.*last completed transaction was at log time \\(.*\\)$/\\1/p' /tmp/postgres.log | tail -n 1)
printf '%s' "$result" | sed "s/}$/, \\"time\\" : \\"$time\\"}/" > /dev/termination-log
cat /dev/termination-log
`;

/** The Job's pgBackRest configuration: the source repository as repo1, this volume as pg1. */
export function restoreSourceConf(source: RepositoryOf): string {
  return ini({
    global: {
      ...repositoryOptions(source, RESTORE_SOURCE_DIR),
      'log-level-file': 'off',
      // The restore is done when the Job ends; no archive-get spool to keep.
      'archive-async': 'n',
    },
    [PGBACKREST_STANZA]: { 'pg1-path': PGDATA },
  });
}

export function restoreJobName(clusterName: string): string {
  return `${clusterName}-restore`;
}

/** The first instance's volume, created before the StatefulSet so the Job can fill it. */
export function renderFirstInstanceVolume(cluster: PostgresCluster): V1PersistentVolumeClaim {
  const storage = cluster.spec.storage;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    // Labels as the StatefulSet's claim template; the StatefulSet adopts it by name.
    metadata: {
      name: firstInstanceVolume(cluster.metadata.name!),
      namespace: cluster.metadata.namespace!,
      labels: clusterLabels(cluster, DATABASE_COMPONENT),
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storage.storageClass ? { storageClassName: storage.storageClass } : {}),
      resources: { requests: { storage: storage.size } },
    },
  };
}

/** The ConfigMap (script and source configuration) and the Job that restores spec.restore. */
export function renderRestoreJob(
  cluster: PostgresCluster,
  source: RepositoryOf,
  image: string,
): [V1ConfigMap, V1Job] {
  const name = restoreJobName(cluster.metadata.name!);
  const names = childNames(cluster.metadata.name!);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(cluster, name, 'restore'),
    data: { [SCRIPT_KEY]: RESTORE_SCRIPT, [CONFIG_KEY]: restoreSourceConf(source) },
  };
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMetadata(cluster, name, 'restore'),
    spec: {
      // A failed restore is reported, not repeated: its cause (a target outside the WAL, a
      // repository refusing access) does not go away by itself.
      backoffLimit: 0,
      template: {
        metadata: { labels: clusterLabels(cluster, 'restore') },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...postgresImagePodSpec(cluster),
          containers: [
            {
              name: 'restore',
              image,
              command: [
                'sh',
                `${RESTORE_SOURCE_DIR}/${SCRIPT_KEY}`,
                ...restoreTargetOptions(cluster.spec.restore!),
              ],
              env: [
                { name: 'PGDATA', value: PGDATA },
                {
                  name: 'SUPERUSER_PASSWORD',
                  valueFrom: { secretKeyRef: { name: names.superuserSecret, key: 'password' } },
                },
                {
                  name: 'REPLICATION_PASSWORD',
                  valueFrom: { secretKeyRef: { name: names.replicationSecret, key: 'password' } },
                },
              ],
              resources: resourceRequirements(cluster.spec.resources),
              securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              terminationMessagePolicy: 'File',
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: DATA_VOLUME_MOUNT },
                { name: 'source', mountPath: RESTORE_SOURCE_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            {
              name: DATA_VOLUME,
              persistentVolumeClaim: { claimName: firstInstanceVolume(cluster.metadata.name!) },
            },
            {
              name: 'source',
              projected: {
                sources: [
                  {
                    configMap: {
                      name,
                      items: [
                        { key: SCRIPT_KEY, path: SCRIPT_KEY },
                        { key: CONFIG_KEY, path: CONFIG_KEY },
                      ],
                    },
                  },
                  ...repositorySecretSources(source),
                ],
              },
            },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
  return [configMap, job];
}
