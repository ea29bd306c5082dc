/**
 * Keeping Patroni's dynamic configuration (in its DCS, `my-cluster-config`) in line with the
 * spec. Patroni reads the bootstrap section of patroni.yml only when a cluster is initialized;
 * afterwards changes go through its REST API (PATCH /config), and Patroni reloads every member
 * or marks it pending_restart, which the rolling update then honours.
 * Pure: the patch that turns the current configuration into the desired one, or undefined.
 */
import type { dynamicConfiguration } from './config.js';

type DynamicConfiguration = ReturnType<typeof dynamicConfiguration>;
type Json = Record<string, unknown>;

/** Patroni stores `on` as true and numbers as numbers: compare values as PostgreSQL would. */
function normalize(value: unknown): string {
  if (value === true) return 'on';
  if (value === false) return 'off';
  if (Array.isArray(value) || (typeof value === 'object' && value !== null)) return JSON.stringify(value);
  return String(value).toLowerCase();
}

export function dynamicConfigPatch(
  desired: DynamicConfiguration,
  current: Json | undefined,
): Json | undefined {
  if (!current) return undefined;
  const patch: Json = {};
  const { postgresql: desiredPostgresql, ...desiredTop } = desired;
  for (const [key, value] of Object.entries(desiredTop))
    if (normalize(current[key]) !== normalize(value)) patch[key] = value;

  const currentPostgresql = (current.postgresql ?? {}) as Json;
  const postgresqlPatch: Json = {};
  const { parameters, ...desiredPostgresqlRest } = desiredPostgresql;
  for (const [key, value] of Object.entries(desiredPostgresqlRest))
    if (normalize(currentPostgresql[key]) !== normalize(value)) postgresqlPatch[key] = value;
  // recovery_conf exists only with a repository; removing the repository removes it (null).
  if (currentPostgresql.recovery_conf && !('recovery_conf' in desiredPostgresql))
    postgresqlPatch.recovery_conf = null;
  const currentParameters = (currentPostgresql.parameters ?? {}) as Json;
  const parameterPatch: Json = {};
  for (const [name, value] of Object.entries(parameters))
    if (normalize(currentParameters[name]) !== normalize(value)) parameterPatch[name] = value;
  // A parameter removed from the spec goes back to PostgreSQL's default (null removes it in Patroni).
  for (const name of Object.keys(currentParameters)) if (!(name in parameters)) parameterPatch[name] = null;
  if (Object.keys(parameterPatch).length > 0) postgresqlPatch.parameters = parameterPatch;
  if (Object.keys(postgresqlPatch).length > 0) patch.postgresql = postgresqlPatch;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
