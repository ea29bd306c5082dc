/**
 * What the instance pods offer the controllers and the backup Jobs that exec into them: the
 * container's name, the pgBackRest wrapper and stanza the cluster controller configures, and the
 * role restore verification queries run as.
 */
export const DATABASE_CONTAINER = 'postgres';
/** pgop's stanza name in every repository (one cluster per repository path). */
export const PGBACKREST_STANZA = 'db';
/** pgBackRest with the repository credentials read from the pod's projected Secret. */
export const PGBACKREST_COMMAND = '/etc/pgbackrest/bin/pgbackrest';
/**
 * The role a restore verification runs its query as: a member of pg_read_all_data, read-only
 * by default, no superuser (so the query cannot reach the operating system). Reached through
 * the local socket without a password: pg_ident maps the container's OS user to it.
 */
export const VERIFY_ROLE = 'pgop_verify';
/**
 * The role each instance's metrics container (postgres_exporter) connects as: a member of
 * pg_monitor, no superuser. Reached through the local socket without a password: pg_ident maps
 * the container's OS user to it.
 */
export const MONITOR_ROLE = 'pgop_monitor';
/** The metrics container of an instance pod and its port (HTTPS, the instance's certificate). */
export const METRICS_CONTAINER = 'metrics';
export const METRICS_PORT = 9187;
/**
 * The role PgBouncer (spec.pooler) looks passwords up as (auth_query): it logs in only with the
 * client certificate the cluster's CA issues the pooler, and may only call the lookup function.
 */
export const POOLER_ROLE = 'pgop_pooler';
