/** Ports and paths inside an instance pod, shared by the Patroni and pgBackRest configuration. */
export const POSTGRES_PORT = 5432;
export const PATRONI_PORT = 8008;
export const DATA_VOLUME_MOUNT = '/var/lib/postgresql/data';
export const PGDATA = `${DATA_VOLUME_MOUNT}/pgdata`;
export const SOCKET_DIR = '/var/run/postgresql';
