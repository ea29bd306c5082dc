/**
 * `npm run bench:provision`: time from `kubectl apply` of a PostgresCluster to phase Running with
 * every instance ready, for 1 and 3 instances, several runs each (PGOP_BENCH_RUNS, default 5).
 * Prints the median, minimum and maximum and writes them to docs/benchmarks/provision.json.
 * Runs on the local Kubernetes with the operator installed by Helm, like the demo.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { kubectl, kubectlOk } from '../harness/kubectl.js';
import { localCluster, RESTRICTED } from '../harness/local-cluster.js';
import { installOperator, postgresCluster } from '../harness/operator.js';
import { REPO_ROOT } from '../harness/paths.js';
import { summary } from './stats.js';

const NAMESPACE = 'pgop-bench';
const RUNS = Number(process.env.PGOP_BENCH_RUNS ?? 5);

execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
const cluster = localCluster();
installOperator(cluster);
kubectlOk(
  cluster,
  ['apply', '--server-side', '-f', '-'],
  stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: RESTRICTED } }),
);
const k = (...args: string[]) => kubectlOk(cluster, ['-n', NAMESPACE, ...args]);

async function provisionSeconds(instances: number, run: number): Promise<number> {
  const name = `bench-${instances}-${run}`;
  const manifest = postgresCluster(name, {
    replicas: instances,
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
  });
  const started = Date.now();
  kubectlOk(cluster, ['-n', NAMESPACE, 'apply', '--server-side', '-f', '-'], stringify(manifest));
  for (;;) {
    const shown = kubectl(cluster, [
      '-n',
      NAMESPACE,
      'get',
      'pgc',
      name,
      '-o',
      'jsonpath={.status.phase} {.status.readySummary}',
    ]).stdout;
    if (shown === `Running ${instances}/${instances}`) break;
    if (Date.now() - started > 600_000) throw new Error(`${name}: ${shown} after 10 minutes`);
    await sleep(250);
  }
  const seconds = (Date.now() - started) / 1000;
  k('delete', 'pgc', name, '--timeout=180s');
  return seconds;
}

const results: Record<string, ReturnType<typeof summary>> = {};
for (const instances of [1, 3]) {
  const times: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    times.push(await provisionSeconds(instances, run));
    console.log(`${instances} instance(s), run ${run}: ${times.at(-1)!.toFixed(1)} s`);
  }
  results[`${instances}`] = summary(times);
  console.log(
    `apply → Running ${instances}/${instances}: median ${results[`${instances}`]!.median} s (min ${results[`${instances}`]!.min}, max ${results[`${instances}`]!.max}, ${RUNS} runs)`,
  );
}
kubectlOk(cluster, ['delete', 'namespace', NAMESPACE, '--wait=false']);
const out = join(REPO_ROOT, 'docs/benchmarks');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'provision.json'),
  JSON.stringify({ measuredAt: new Date().toISOString(), machine: '2 cores, 24 GiB', results }, null, 2) +
    '\n',
);
console.log(`written to docs/benchmarks/provision.json`);
