/** Ports and paths inside an instance pod, shared by the Patroni and pgBackRest configuration. */
export const POSTGRES_PORT = 5432;
export const PATRONI_PORT = 8008;
export const DATA_VOLUME_MOUNT = '/var/lib/postgresql/data';
export const PGDATA = `${DATA_VOLUME_MOUNT}/pgdata`;
/** spec.walStorage's volume, and pg_wal on it (a symlink from PGDATA, made by initdb and pg_basebackup). */
export const WAL_VOLUME_MOUNT = '/var/lib/postgresql/wal';
export const WAL_DIR = `${WAL_VOLUME_MOUNT}/pg_wal`;
export const SOCKET_DIR = '/var/run/postgresql';
/**
 * The named pipe Patroni's watchdog writes to and pgop-fence, the container's first process,
 * reads (images/postgres/pgop-fence): it fences PostgreSQL when a leader stops renewing its lock.
 */
export const WATCHDOG_DEVICE = '/tmp/pgop-watchdog';
/** The container command: pgop-fence starts Patroni as its child. */
export const FENCE_COMMAND = 'pgop-fence';
