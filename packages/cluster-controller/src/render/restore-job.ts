/**
 * The restore itself: a Job that runs pgbackrest restore onto the first instance's volume,
 * replays WAL to the target in a private PostgreSQL (no network, no archiving), promotes it,
 * sets the cluster's passwords and stops it cleanly. Patroni then starts on that data as on any
 * existing data directory, and the other instances are cloned from it. It runs only once nothing
 * else uses the volume: before the StatefulSet exists (a new cluster), or once every instance
 * is stopped (in place).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import {
  PGBACKREST_STANZA,
  RESTORE_REQUEST_ANNOTATION,
  type PostgresCluster,
  type RestoreTarget,
} from '@pgop/api';
import { childNames, clusterLabels, DATABASE_COMPONENT } from '../naming.js';
import type { RepositoryOf } from '../pgbackrest/repository.js';
import { firstInstanceVolume, renderRestoreStepJob, RESTORE_SOURCE_DIR } from './restore-pod.js';
import { REPLICATION_USER, SUPERUSER } from '../access/roles.js';

/**
 * RFC 3339 as PostgreSQL and pgBackRest read a timestamp ("2024-01-15 01:30:00+00"): pgBackRest
 * refuses the "T" and "Z" when it picks the backup for a time. Textual, so microseconds stay.
 */
export function pgTimestamp(rfc3339: string): string {
  return rfc3339.replace(/[tT]/, ' ').replace(/[zZ]$/, '+00');
}

/** pgbackrest restore's options for the target: latest, a backup, or a time. */
export function restoreTargetOptions(restore: RestoreTarget): string[] {
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
 * The Job's script. Nothing else uses the volume while it runs. A new cluster's volume is
 * emptied first (a retry starts afresh); in place (RESTORE_DELTA=y) pgBackRest's --delta keeps
 * the files that match the backup. The result is the termination message: the backup restored,
 * timeline, LSN and the last replayed transaction's time, as JSON.
 */
export const RESTORE_SCRIPT = `#!/bin/sh
set -eu
fail() { echo "$1" >&2; printf '%s' "$1" | tail -c 3500 > /dev/termination-log; exit 1; }
# The source repository's credentials, from files, never on a command line.
for file in ${RESTORE_SOURCE_DIR}/secret/*; do
  [ -f "$file" ] || continue
  export "PGBACKREST_$(basename "$file")=$(cat "$file")"
done
export PGBACKREST_CONFIG=${RESTORE_SOURCE_DIR}/pgbackrest.conf
if [ "\${RESTORE_DELTA:-n}" = y ] && [ -f "$PGDATA/PG_VERSION" ]; then
  # Every instance is stopped (the controller waited for their pods to go); a pid file left by
  # one that was killed would only make pgBackRest refuse.
  rm -f "$PGDATA/postmaster.pid"
  set -- --delta "$@"
else
  rm -rf "$PGDATA"
  mkdir -m 0700 "$PGDATA"
fi
if ! pgbackrest --stanza=${PGBACKREST_STANZA} --log-level-console=info restore "$@" > /tmp/restore.out 2>&1; then
  cat /tmp/restore.out
  why=$(grep -A 3 ERROR /tmp/restore.out) || why=$(tail -n 5 /tmp/restore.out)
  fail "pgbackrest restore failed: $why"
fi
cat /tmp/restore.out
# A private server: no TCP (so no TLS: the instances' certificates are not mounted here), no
# archiving into any repository, no synchronous standby to wait for.
pg_ctl -D "$PGDATA" -l /tmp/postgres.log -w -t 3600 start -o "-c listen_addresses= -c port=5432 -c ssl=off \\
  -c unix_socket_directories=/tmp -c archive_mode=off -c synchronous_standby_names= -c hot_standby=on" ||
  fail "PostgreSQL did not start on the restored data: $(tail -n 5 /tmp/postgres.log)"
sql() { psql -h /tmp -d postgres -XAtq "$@"; }
while [ "$(sql -c 'SELECT pg_is_in_recovery()' 2>/dev/null || echo gone)" != f ]; do
  if ! pg_ctl -D "$PGDATA" status > /dev/null; then
    # The archive holds no commit after the target yet (docs/restore.md, "Pre-flight checks").
    grep -q 'recovery ended before configured recovery target was reached' /tmp/postgres.log &&
      fail "recovery failed: no transaction committed after the target time is archived yet; retry once newer WAL is archived (archive_timeout), or restore the latest point"
    fail "recovery failed: $(tail -n 5 /tmp/postgres.log)"
  fi
  sleep 1
done
# The new cluster's own credentials (Patroni does not set them on existing data). Read by psql
# from the environment and quoted by it (:'var'): never part of the SQL text or a command line.
sql -v ON_ERROR_STOP=1 <<'SQL' || fail "could not set the new cluster's credentials"
SET synchronous_commit = local;
\\getenv superuser_password SUPERUSER_PASSWORD
\\getenv replication_password REPLICATION_PASSWORD
ALTER ROLE ${SUPERUSER} WITH PASSWORD :'superuser_password';
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${REPLICATION_USER}') THEN
    CREATE ROLE ${REPLICATION_USER} WITH LOGIN REPLICATION;
  END IF;
END $$;
ALTER ROLE ${REPLICATION_USER} WITH LOGIN REPLICATION PASSWORD :'replication_password';
${RECOVERY_SETTINGS.map((p) => `ALTER SYSTEM RESET ${p};`).join('\n')}
CHECKPOINT;
SQL
result=$(sql -c "SELECT json_build_object('timeline', timeline_id, 'lsn', pg_current_wal_lsn()::text) FROM pg_control_checkpoint()")
pg_ctl -D "$PGDATA" -m fast -w stop
# The source's Patroni configuration cache (its restore_command, replication settings): this
# cluster's Patroni must start from its own.
rm -f "$PGDATA/patroni.dynamic.json"
time=$(sed -n 's/.*last completed transaction was at log time \\(.*\\)$/\\1/p' /tmp/postgres.log | tail -n 1)
label=$(sed -n 's/.*restore backup set \\([0-9A-Z_-]*\\).*/\\1/p' /tmp/restore.out | tail -n 1)
printf '%s' "$result" | sed "s/}$/, \\"time\\" : \\"$time\\", \\"backupLabel\\" : \\"$label\\"}/" > /dev/termination-log
cat /dev/termination-log
`;

export function restoreJobName(clusterName: string): string {
  return `${clusterName}-restore`;
}

/** The first instance's volume, created before the StatefulSet so the Job can fill it. */
export function renderFirstInstanceVolume(
  cluster: PostgresCluster,
  requestKey: string,
): V1PersistentVolumeClaim {
  const storage = cluster.spec.storage;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    // Labels as the StatefulSet's claim template; the StatefulSet adopts it by name. The
    // annotation marks a volume a restore made and may write (removed once the cluster runs on
    // it): a volume without it holds data pgop never overwrites (restore/progress.ts).
    metadata: {
      name: firstInstanceVolume(cluster.metadata.name!),
      namespace: cluster.metadata.namespace!,
      labels: clusterLabels(cluster, DATABASE_COMPONENT),
      annotations: { [RESTORE_REQUEST_ANNOTATION]: requestKey },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storage.storageClass ? { storageClassName: storage.storageClass } : {}),
      resources: { requests: { storage: storage.size } },
    },
  };
}

/** The ConfigMap and the Job that restore the target onto the first instance's volume. */
export function renderRestoreJob(
  cluster: PostgresCluster,
  request: { key: string; inPlace: boolean; target: RestoreTarget },
  source: RepositoryOf,
  image: string,
) {
  const names = childNames(cluster.metadata.name!);
  const secret = (name: string) => ({ secretKeyRef: { name, key: 'password' } });
  return renderRestoreStepJob(cluster, {
    name: restoreJobName(cluster.metadata.name!),
    requestKey: request.key,
    source,
    image,
    script: { key: 'restore.sh', text: RESTORE_SCRIPT },
    command: ['sh', ...restoreTargetOptions(request.target)],
    env: [
      { name: 'SUPERUSER_PASSWORD', valueFrom: secret(names.superuserSecret) },
      { name: 'REPLICATION_PASSWORD', valueFrom: secret(names.replicationSecret) },
      ...(request.inPlace ? [{ name: 'RESTORE_DELTA', value: 'y' }] : []),
    ],
    dataVolume: true,
  });
}
