/**
 * `npm run bench:backup`: a full backup of a ~1 GB database (pgbench scale 70) through the
 * operator, next to `pgbackrest backup` run by hand in the same pod on the same data, alternating,
 * several rounds (PGOP_BENCH_RUNS, default 3). The operator's time runs from `kubectl apply` of a
 * PostgresBackup to its status saying Succeeded (Job start, exec, retention, info, status); by
 * hand it is the `kubectl exec` of the same pgBackRest command. The ratio of the medians is the
 * figure. Repository: the local S3 server. Writes docs/benchmarks/backup.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { kubectl, kubectlOk } from '../harness/kubectl.js';
import { localCluster, RESTRICTED } from '../harness/local-cluster.js';
import { copyLocalS3Credentials, localS3Backup } from '../harness/local-s3.js';
import { installOperator, postgresCluster } from '../harness/operator.js';
import { REPO_ROOT } from '../harness/paths.js';
import { summary } from './stats.js';

const NAMESPACE = 'pgop-bench-backup';
const RUNS = Number(process.env.PGOP_BENCH_RUNS ?? 3);
const PGBENCH_SCALE = 70; // about 1 GB with indexes
const CLUSTER = 'bench';
const POD = `${CLUSTER}-0`;

execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
const cluster = localCluster();
installOperator(cluster);
kubectl(cluster, ['delete', 'namespace', NAMESPACE, '--wait=true', '--timeout=180s']);
kubectlOk(
  cluster,
  ['apply', '--server-side', '-f', '-'],
  stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: RESTRICTED } }),
);
const k = (...args: string[]) => kubectlOk(cluster, ['-n', NAMESPACE, ...args]);
const apply = (object: object) =>
  kubectlOk(cluster, ['-n', NAMESPACE, 'apply', '--server-side', '-f', '-'], stringify(object));

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
    storage: { size: '4Gi' },
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
console.log(`loading pgbench scale ${PGBENCH_SCALE}...`);
k('exec', POD, '--', 'pgbench', '-i', '-q', '-s', String(PGBENCH_SCALE), 'postgres');
const size = k('exec', POD, '--', 'psql', '-XAtc', "select pg_size_pretty(pg_database_size('postgres'))");
console.log(`database size: ${size.trim()}`);

/** pgBackRest's own duration of the newest backup, from `pgbackrest info`. */
function newestBackupSeconds(): number {
  const info = JSON.parse(k('exec', POD, '--', 'pgbackrest', '--stanza=db', '--output=json', 'info')) as {
    backup: { timestamp: { start: number; stop: number } }[];
  }[];
  const newest = info[0]!.backup.at(-1)!;
  return newest.timestamp.stop - newest.timestamp.start;
}

async function throughOperator(run: number): Promise<number> {
  const name = `full-${run}`;
  const started = Date.now();
  apply({
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresBackup',
    metadata: { name },
    spec: { clusterName: CLUSTER, type: 'Full' },
  });
  await until(
    `${name} succeeded`,
    () => {
      const phase = kubectl(cluster, [
        '-n',
        NAMESPACE,
        'get',
        'pgbackup',
        name,
        '-o',
        'jsonpath={.status.oneOff.phase}',
      ]).stdout;
      if (phase === 'Failed') throw new Error(`${name} failed: ${k('get', 'pgbackup', name, '-o', 'yaml')}`);
      return phase === 'Succeeded';
    },
    1800,
  );
  const seconds = (Date.now() - started) / 1000;
  k('delete', 'pgbackup', name);
  return seconds;
}

function byHand(): number {
  const started = Date.now();
  k('exec', POD, '--', 'pgbackrest', '--stanza=db', '--type=full', 'backup');
  return (Date.now() - started) / 1000;
}

const operator: number[] = [];
const operatorPgbackrest: number[] = [];
const manual: number[] = [];
const manualPgbackrest: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  manual.push(byHand());
  manualPgbackrest.push(newestBackupSeconds());
  operator.push(await throughOperator(run));
  operatorPgbackrest.push(newestBackupSeconds());
  console.log(
    `run ${run}: by hand ${manual.at(-1)!.toFixed(1)} s (pgBackRest ${manualPgbackrest.at(-1)} s), through the operator ${operator.at(-1)!.toFixed(1)} s (pgBackRest ${operatorPgbackrest.at(-1)} s)`,
  );
}

const results = {
  databaseSize: size.trim(),
  byHandSeconds: summary(manual),
  byHandPgbackrestSeconds: summary(manualPgbackrest, 0),
  operatorSeconds: summary(operator),
  operatorPgbackrestSeconds: summary(operatorPgbackrest, 0),
  ratio: Math.round((summary(operator).median / summary(manual).median) * 100) / 100,
};
console.log(
  `full backup of ${results.databaseSize}: by hand median ${results.byHandSeconds.median} s, through the operator median ${results.operatorSeconds.median} s; ratio ${results.ratio} (${RUNS} runs each)`,
);
kubectlOk(cluster, ['delete', 'namespace', NAMESPACE, '--wait=false']);
const out = join(REPO_ROOT, 'docs/benchmarks');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'backup.json'),
  JSON.stringify({ measuredAt: new Date().toISOString(), machine: '2 cores, 24 GiB', results }, null, 2) +
    '\n',
);
console.log('written to docs/benchmarks/backup.json');
