#!/usr/bin/env node
/**
 * The verification Job: runs spec.verify.query as the superuser in the primary of the temporary
 * cluster a backup was restored into, and reports the outcome in its termination message
 * (verification/result.ts). It runs as the PostgresBackup's Job identity, which may exec into pods of
 * its namespace and nothing more.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { DATABASE_CONTAINER } from '@pgop/api';
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

async function run(): Promise<VerifyResult> {
  const pod = await primaryPod(kubeConfig, namespace, clusterName);
  console.log(`running the check query in ${pod} of PostgresCluster ${namespace}/${clusterName}`);
  const psql = ['psql', '-h', '/var/run/postgresql', '-d', 'postgres', '-XAtq', '-v', 'ON_ERROR_STOP=1'];
  const result = await execInPod(
    kubeConfig,
    { namespace, pod, container: DATABASE_CONTAINER },
    [...psql, '-c', query],
    { timeoutMs: QUERY_TIMEOUT_MS },
  );
  if (result.exitCode !== 0)
    return { ok: false, error: `the query failed (psql exit ${result.exitCode}): ${result.stderr.trim()}` };
  return { ok: true, output: result.stdout.trim() };
}

let result: VerifyResult;
try {
  result = await run();
} catch (err) {
  result = { ok: false, error: (err as Error).message };
}
console.log(result.ok ? `query output: ${result.output}` : result.error);
writeFileSync(env('PGOP_TERMINATION_LOG', '/dev/termination-log'), encodeVerifyResult(result));
process.exit(result.ok ? 0 : 1);
