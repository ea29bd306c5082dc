/**
 * `npm run bench:backup`: a full backup through the operator next to `pgbackrest backup` run by
 * hand in the same pod on the same data, alternating, several rounds (PGOP_BENCH_RUNS, default
 * 3), for each database size of PGOP_BACKUP_SIZES_GB (default 1 and 10; pgbench data). The
 * operator's time runs from `kubectl apply` of a PostgresBackup to its status saying Succeeded
 * (Job start, exec, retention, info, status), with where that time goes (backup-timeline.ts); by
 * hand it is the `kubectl exec` of the same pgBackRest command. The ratio of the medians is the
 * figure. Repository: the local S3 server. Writes docs/benchmarks/backup.json.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { kubectl, kubectlOk } from '../harness/kubectl.js';
import { localCluster, RESTRICTED } from '../harness/local-cluster.js';
import { copyLocalS3Credentials, localS3Backup } from '../harness/local-s3.js';
import { installOperator, postgresCluster } from '../harness/operator.js';
import { REPO_ROOT } from '../harness/paths.js';
import { timeBackup, type BackupTimeline } from './backup-timeline.js';
import { mergeResultsFile, summary } from './stats.js';

const NAMESPACE = 'pgop-bench-backup';
const RUNS = Number(process.env.PGOP_BENCH_RUNS ?? 3);
const SIZES_GB = (process.env.PGOP_BACKUP_SIZES_GB ?? '1,10').split(',').map(Number);
const PGBENCH_SCALE_PER_GB = 70; // pgbench's tables with their indexes
const CLUSTER = 'bench';
const POD = `${CLUSTER}-0`;
/** Loading and backing up 10 GB take minutes; kubectl's default limit here is one. */
const LONG_MS = 60 * 60_000;

execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
const cluster = localCluster();
installOperator(cluster);
kubectl(cluster, ['delete', 'namespace', NAMESPACE, '--wait=true', '--timeout=180s']);
kubectlOk(
  cluster,
  ['apply', '--server-side', '-f', '-'],
  stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: RESTRICTED } }),
);
const k = (...args: string[]) => kubectlOk(cluster, ['-n', NAMESPACE, ...args], undefined, LONG_MS);
const apply = (object: object) =>
  kubectlOk(cluster, ['-n', NAMESPACE, 'apply', '--server-side', '-f', '-'], stringify(object));
const sql = (query: string) => k('exec', POD, '--', 'psql', '-XAtc', query).trim();

async function until(what: string, check: () => boolean, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutSeconds}s`);
    await sleep(250);
  }
}

copyLocalS3Credentials(cluster, NAMESPACE, 's3');
apply(
  postgresCluster(CLUSTER, {
    replicas: 1,
    // The local volumes do not enforce a size; this one says what the data needs.
    storage: { size: `${Math.ceil(Math.max(...SIZES_GB) * 2) + 4}Gi` },
    // A repository path per run: a re-made cluster cannot reuse the last run's stanza.
    backup: localS3Backup(cluster, NAMESPACE, 's3', { path: `/bench/backup-${Date.now()}` }),
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
  }),
);
const clusterShows = (jsonpath: string) =>
  kubectl(cluster, ['-n', NAMESPACE, 'get', 'pgc', CLUSTER, '-o', `jsonpath=${jsonpath}`]).stdout;
await until(
  'the cluster archives to the repository',
  () => /ArchivingWorking/.test(clusterShows('{.status.conditions[?(@.type=="BackupHealthy")].reason}')),
  600,
);

/** Loads pgbench data of about `gb` GB, then waits until the WAL of the load is archived. */
async function load(gb: number): Promise<string> {
  const scale = Math.round(gb * PGBENCH_SCALE_PER_GB);
  console.log(`loading pgbench scale ${scale}...`);
  k('exec', POD, '--', 'pgbench', '-i', '-q', '-s', String(scale), 'postgres');
  // A backup waits for its last WAL segment in the archive, which comes after the load's.
  const switched = sql('select pg_walfile_name(pg_switch_wal())');
  await until(
    'the load is archived',
    () => sql('select last_archived_wal from pg_stat_archiver') >= switched,
    3600,
  );
  return sql("select pg_size_pretty(pg_database_size('postgres'))");
}

async function throughOperator(name: string): Promise<BackupTimeline> {
  const timeline = await timeBackup(
    cluster.kubeconfigPath,
    NAMESPACE,
    name,
    () =>
      apply({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresBackup',
        metadata: { name },
        spec: { clusterName: CLUSTER, type: 'Full' },
      }),
    3600,
  );
  k('delete', 'pgbackup', name);
  return timeline;
}

function byHand(): number {
  const started = Date.now();
  k('exec', POD, '--', 'pgbackrest', '--stanza=db', '--type=full', 'backup');
  return (Date.now() - started) / 1000;
}

/** Medians of each step's share of the operator's time (seconds). */
function overhead(timelines: BackupTimeline[]) {
  const median = (f: (t: BackupTimeline) => number) => summary(timelines.map(f), 2).median;
  return {
    applyToJobPod: median((t) => t.podCreated),
    jobPodToRunning: median((t) => t.containerRunning - t.podCreated),
    runningToTerminated: median((t) => t.containerTerminated - t.containerRunning),
    ofWhichPgbackrest: median((t) => t.pgbackrestSeconds),
    terminatedToStatus: median((t) => t.statusSucceeded - t.containerTerminated),
  };
}

const results: Record<string, unknown> = {};
for (const gb of SIZES_GB) {
  const size = await load(gb);
  console.log(`database size: ${size}`);
  const operator: BackupTimeline[] = [];
  const manual: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    manual.push(byHand());
    operator.push(await throughOperator(`full-${gb}gb-${run}`));
    const t = operator.at(-1)!;
    console.log(
      `${size}, run ${run}: by hand ${manual.at(-1)!.toFixed(1)} s, through the operator ` +
        `${t.statusSucceeded.toFixed(1)} s (pgBackRest inside ${t.pgbackrestSeconds.toFixed(1)} s; ` +
        `Job pod ${t.podCreated.toFixed(2)}, running ${t.containerRunning.toFixed(2)}, ` +
        `terminated ${t.containerTerminated.toFixed(2)}, Job complete ${t.jobComplete?.toFixed(2) ?? 'not seen'})`,
    );
  }
  const operatorSeconds = summary(operator.map((t) => t.statusSucceeded));
  const byHandSeconds = summary(manual);
  const ratio = Math.round((operatorSeconds.median / byHandSeconds.median) * 100) / 100;
  results[`${gb}GB`] = {
    measuredAt: new Date().toISOString(),
    pgopCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    databaseSize: size,
    runs: RUNS,
    byHandSeconds,
    operatorSeconds,
    operatorOverheadSeconds: Math.round((operatorSeconds.median - byHandSeconds.median) * 10) / 10,
    operatorSteps: overhead(operator),
    ratio,
  };
  console.log(
    `full backup of ${size}: by hand median ${byHandSeconds.median} s, through the operator median ` +
      `${operatorSeconds.median} s; ratio ${ratio} (${RUNS} runs each)`,
  );
}
kubectlOk(cluster, ['delete', 'namespace', NAMESPACE, '--wait=false']);
mergeResultsFile('backup', { machine: '2 cores, 24 GiB' }, results);
