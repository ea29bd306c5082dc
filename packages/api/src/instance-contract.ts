/**
 * What the instance pods offer the controllers and the backup Jobs that exec into them: the
 * container's name, and the pgBackRest wrapper and stanza the cluster controller configures.
 */
export const DATABASE_CONTAINER = 'postgres';
/** pgop's stanza name in every repository (one cluster per repository path). */
export const PGBACKREST_STANZA = 'db';
/** pgBackRest with the repository credentials read from the pod's projected Secret. */
export const PGBACKREST_COMMAND = '/etc/pgbackrest/bin/pgbackrest';
