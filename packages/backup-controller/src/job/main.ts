#!/usr/bin/env node
/**
 * The backup Job: runs pgBackRest in the current primary's postgres container (where the data,
 * the configuration and the credentials are), then applies this PostgresBackup's retention to its
 * own backups with `pgbackrest expire --set`,
 * and reports the repository's backups in its termination message for the controller.
 * A non-zero exit makes the Job retry (backoffLimit); the controller sees the final failure.
 *
 * Settings come from the environment the controller renders (render/backup-job.ts).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { DATABASE_CONTAINER, PGBACKREST_COMMAND, PGBACKREST_STANZA } from '@pgop/api';
import { execInPod } from '@pgop/runtime';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeJobResult, type JobResult } from '../job-result.js';
import { KEEP_FOREVER_ANNOTATION, OWNER_ANNOTATION, parseInfo, toRecord } from '../pgbackrest-info.js';
import { decideRetention } from '../retention.js';
import { env, primaryPod } from './primary-pod.js';

const namespace = env('PGOP_NAMESPACE');
const clusterName = env('PGOP_CLUSTER');
/** The PostgresBackup this Job runs for: its backups carry the name, its retention owns only those. */
const owner = env('PGOP_BACKUP');
const backupType = env('PGOP_BACKUP_TYPE', ''); // full, diff, incr, or empty: pgBackRest's incr (full first)
const keepForever = env('PGOP_KEEP_FOREVER', 'false') === 'true';
const policy = { count: Number(env('PGOP_RETENTION_COUNT')), days: Number(env('PGOP_RETENTION_DAYS')) };
const terminationLog = env('PGOP_TERMINATION_LOG', '/dev/termination-log');
/** pgBackRest holds one backup lock per stanza: wait this long for a running backup to end. */
const LOCK_WAIT_MS = 30 * 60_000;
const EXEC_TIMEOUT_MS = 6 * 60 * 60_000;
const LOCK_ERROR = 50;

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();

async function pgbackrest(pod: string, args: string[], echo: boolean) {
  const command = [PGBACKREST_COMMAND, `--stanza=${PGBACKREST_STANZA}`, ...args];
  const result = await execInPod(kubeConfig, { namespace, pod, container: DATABASE_CONTAINER }, command, {
    timeoutMs: EXEC_TIMEOUT_MS,
    ...(echo ? { onOutput: (chunk: string) => process.stdout.write(chunk) } : {}),
  });
  return result;
}

const tail = (text: string) => text.trim().split('\n').slice(-6).join('\n').slice(-1500);

async function run(): Promise<JobResult> {
  const pod = await primaryPod(kubeConfig, namespace, clusterName);
  console.log(`backing up PostgresCluster ${namespace}/${clusterName} on its primary ${pod}`);
  const backupArgs = [
    '--log-level-console=info',
    ...(backupType ? [`--type=${backupType}`] : []),
    `--annotation=${OWNER_ANNOTATION}=${owner}`,
    ...(keepForever ? [`--annotation=${KEEP_FOREVER_ANNOTATION}=true`] : []),
    'backup',
  ];
  const started = Date.now();
  let backup = await pgbackrest(pod, backupArgs, true);
  // Another backup of this stanza is running (a schedule and a trigger met): wait for it.
  while (backup.exitCode === LOCK_ERROR && Date.now() - started < LOCK_WAIT_MS) {
    console.log('another backup holds the lock; waiting for it to finish');
    await sleep(15_000);
    backup = await pgbackrest(pod, backupArgs, true);
  }
  const durationSeconds = (Date.now() - started) / 1000;
  if (backup.exitCode !== 0)
    return {
      ok: false,
      backups: [],
      backupCount: 0,
      expired: [],
      error: `pgbackrest backup exit ${backup.exitCode}: ${tail(backup.stderr || backup.stdout)}`,
    };

  const info = async () => {
    const result = await pgbackrest(pod, ['--output=json', 'info'], false);
    if (result.exitCode !== 0)
      throw new Error(`pgbackrest info exit ${result.exitCode}: ${tail(result.stderr)}`);
    return parseInfo(result.stdout, PGBACKREST_STANZA);
  };
  const before = await info();
  const label = before.at(-1)?.label;
  const decision = decideRetention(before, policy, Date.now() / 1000, owner);
  for (const [kept, why] of Object.entries(decision.keptBecause))
    console.log(`retention keeps ${kept}: ${why}`);
  for (const set of decision.expire) {
    console.log(`retention removes ${set}`);
    const expired = await pgbackrest(pod, ['--log-level-console=info', `--set=${set}`, 'expire'], true);
    if (expired.exitCode !== 0) throw new Error(`pgbackrest expire --set=${set} exit ${expired.exitCode}`);
  }
  const after = decision.expire.length > 0 ? await info() : before;
  const newestFirst = after.filter((b) => !b.error).reverse();
  return {
    ok: true,
    ...(label ? { label } : {}),
    durationSeconds,
    backups: newestFirst.map(toRecord),
    backupCount: newestFirst.length,
    expired: decision.expire,
  };
}

let result: JobResult;
try {
  result = await run();
} catch (err) {
  result = { ok: false, backups: [], backupCount: 0, expired: [], error: (err as Error).message };
}
if (!result.ok) console.error(result.error);
try {
  writeFileSync(terminationLog, encodeJobResult(result));
} catch (err) {
  console.error(`cannot write ${terminationLog}: ${(err as Error).message}`);
}
process.exit(result.ok ? 0 : 1);
