/**
 * The role PgBouncer looks passwords up as (spec.pooler's auth_query, pooler/config.ts), and the
 * one thing it may do: call pgop.pooler_lookup in database postgres, a SECURITY DEFINER function
 * that returns the SCRAM secret of an application login role and of nothing else (no superuser,
 * no replication role, none of pgop's own, no role past its VALID UNTIL). pgop_pooler has no
 * password: it logs in only with the pooler's client certificate (pg_hba `cert`, database
 * postgres). Idempotent statements, run as the superuser in database postgres. Pure.
 */
import { MONITOR_ROLE, POOLER_ROLE, VERIFY_ROLE } from '@pgop/api';
import { REPLICATION_USER, REWIND_USER } from './roles.js';

const EXCLUDED = [POOLER_ROLE, MONITOR_ROLE, VERIFY_ROLE, REPLICATION_USER, REWIND_USER]
  .map((role) => `'${role}'`)
  .join(', ');

export const POOLER_ROLE_STATEMENTS = [
  `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${POOLER_ROLE}') THEN CREATE ROLE ${POOLER_ROLE}; END IF; END $$`,
  `ALTER ROLE ${POOLER_ROLE} WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS PASSWORD NULL`,
  'CREATE SCHEMA IF NOT EXISTS pgop',
  'REVOKE ALL ON SCHEMA pgop FROM PUBLIC',
  `GRANT USAGE ON SCHEMA pgop TO ${POOLER_ROLE}`,
  `CREATE OR REPLACE FUNCTION pgop.pooler_lookup(username text, OUT usename name, OUT passwd text)
RETURNS SETOF record LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
  SELECT rolname, rolpassword FROM pg_authid
  WHERE rolname = username AND rolcanlogin AND NOT rolsuper AND NOT rolreplication AND NOT rolbypassrls
    AND rolname NOT IN (${EXCLUDED}) AND rolname NOT LIKE 'pg\\_%'
    AND rolpassword LIKE 'SCRAM-SHA-256$%' AND (rolvaliduntil IS NULL OR rolvaliduntil > now())
$$`,
  'REVOKE ALL ON FUNCTION pgop.pooler_lookup(text) FROM PUBLIC',
  `GRANT EXECUTE ON FUNCTION pgop.pooler_lookup(text) TO ${POOLER_ROLE}`,
];
