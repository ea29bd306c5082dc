#!/usr/bin/env node
/**
 * The verification Job: runs spec.verify.query in the primary of the temporary cluster a backup
 * was restored into, as a read-only role without superuser rights (VERIFY_ROLE: a superuser's
 * query could run programs in the pod), and reports pass or fail, the row count and an error's
 * SQLSTATE in its termination message (verification/result.ts), never what the query returned.
 * It runs as the PostgresBackup's Job identity, which may exec into pods of its namespace and
 * nothing more.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { DATABASE_CONTAINER, VERIFY_ROLE } from '@pgop/api';
import { execInPod } from '@pgop/runtime';
import { writeFileSync } from 'node:fs';
import { encodeVerifyResult, type VerifyResult } from '../verification/result.js';
import { env, primaryPod } from './primary-pod.js';

const namespace = env('PGOP_NAMESPACE');
const clusterName = env('PGOP_CLUSTER');
const query = env('PGOP_VERIFY_QUERY');
const QUERY_TIMEOUT_MS = 60 * 60_000;

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();

/** The role, made once per restored cluster; idempotent, as a Job's retry runs it again. */
const CREATE_VERIFY_ROLE = [
  `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${VERIFY_ROLE}') THEN CREATE ROLE ${VERIFY_ROLE} LOGIN; END IF; END $$`,
  `GRANT pg_read_all_data TO ${VERIFY_ROLE}`,
  `ALTER ROLE ${VERIFY_ROLE} SET default_transaction_read_only = on`,
];

async function run(): Promise<VerifyResult> {
  const pod = await primaryPod(kubeConfig, namespace, clusterName);
  const target = { namespace, pod, container: DATABASE_CONTAINER };
  const psql = ['psql', '-h', '/var/run/postgresql', '-d', 'postgres', '-XAtq', '-v', 'ON_ERROR_STOP=1'];
  const role = await execInPod(
    kubeConfig,
    target,
    [...psql, ...CREATE_VERIFY_ROLE.flatMap((sql) => ['-c', sql])],
    { timeoutMs: 60_000 },
  );
  if (role.exitCode !== 0)
    return {
      ok: false,
      error: `creating the read-only role failed (psql exit ${role.exitCode}): ${role.stderr.trim()}`,
    };

  console.log(
    `running the check query in ${pod} of PostgresCluster ${namespace}/${clusterName} as ${VERIFY_ROLE}`,
  );
  // The rows go to /dev/null in the pod; only their number comes back. An error shows as its
  // SQLSTATE alone: a message can quote data (invalid input syntax for type integer: "...").
  const result = await execInPod(
    kubeConfig,
    target,
    [
      ...psql,
      '-U',
      VERIFY_ROLE,
      '-v',
      'VERBOSITY=sqlstate',
      '-o',
      '/dev/null',
      '-c',
      query,
      '-c',
      '\\echo :ROW_COUNT',
    ],
    { timeoutMs: QUERY_TIMEOUT_MS },
  );
  if (result.exitCode !== 0)
    return {
      ok: false,
      error: `the check query failed (psql exit ${result.exitCode}): ${result.stderr.trim()}`,
    };
  const rows = Number(result.stdout.trim().split('\n').at(-1));
  if (!Number.isInteger(rows)) return { ok: false, error: 'psql did not report a row count' };
  if (rows === 0) return { ok: false, rows, error: 'the check query returned no rows' };
  return { ok: true, rows };
}

let result: VerifyResult;
try {
  result = await run();
} catch (err) {
  result = { ok: false, error: (err as Error).message };
}
console.log(result.ok ? `the check query returned ${result.rows} rows` : result.error);
writeFileSync(env('PGOP_TERMINATION_LOG', '/dev/termination-log'), encodeVerifyResult(result));
process.exit(result.ok ? 0 : 1);
