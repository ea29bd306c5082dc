/**
 * `npm run bench:failover`: the write gap an application sees in each fault drill. A writer
 * inserts 20 rows/s through <cluster>-primary and records every acknowledged commit; a sampler
 * checks every pod's role twice a second; then a fault is injected and the cluster is waited on
 * until it is whole again. Per run it prints the write gap, the acknowledged rows missing, and
 * the most writable primaries seen at once; per drill the median and maximum. Results go to
 * docs/benchmarks/failover.json.
 *
 * Environment: PGOP_BENCH_RUNS (default 5), PGOP_BENCH_DRILLS (comma-separated, default all of
 * DRILLS), PGOP_BENCH_REPLICATION (Sync or Async, default Sync).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRILLS, runDrill, waitWhole } from './failover-drills.js';
import { probeOptions, PROBE_TABLE, type DrillFigures } from './failover-probe.js';
import { localCluster, TestNamespace } from './local-cluster.js';
import { installOperator, postgresCluster } from './operator.js';
import { REPO_ROOT } from './paths.js';
import { summary } from './stats.js';

const RUNS = Number(process.env.PGOP_BENCH_RUNS ?? 5);
const DRILL_NAMES = (process.env.PGOP_BENCH_DRILLS ?? Object.keys(DRILLS).join(',')).split(',');
const REPLICATION = process.env.PGOP_BENCH_REPLICATION ?? 'Sync';
const CLUSTER = 'bench';
const INSTANCES = 3;

execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
const cluster = localCluster();
installOperator(cluster);
const ns = new TestNamespace(cluster, 'pgop-bench-failover');
ns.apply(postgresCluster(CLUSTER, { replicas: INSTANCES, replication: { mode: REPLICATION } }));
await waitWhole(ns, CLUSTER, INSTANCES);
const options = probeOptions(ns, CLUSTER);

async function measure(drillName: string, run: number): Promise<DrillFigures> {
  const drill = DRILLS[drillName]!;
  const { figures } = await runDrill(
    ns,
    CLUSTER,
    INSTANCES,
    options,
    (primary) => drill.inject(ns, CLUSTER, primary),
    {
      movesPrimary: drill.movesPrimary,
    },
  );
  console.log(
    `${drillName} run ${run}: write gap ${(figures.writeGapMs / 1000).toFixed(2)} s, ` +
      `${figures.acknowledged} acknowledged, ${figures.missing} missing, ` +
      `max writable primaries ${figures.maxWritablePrimaries}, max labelled primaries ${figures.maxLabelledPrimaries}`,
  );
  return figures;
}

const results: Record<string, unknown> = {};
try {
  for (const name of DRILL_NAMES) {
    if (!DRILLS[name]) throw new Error(`unknown drill ${name}: one of ${Object.keys(DRILLS).join(', ')}`);
    const runs: DrillFigures[] = [];
    for (let run = 1; run <= RUNS; run++) runs.push(await measure(name, run));
    const gap = summary(
      runs.map((r) => r.writeGapMs / 1000),
      2,
    );
    results[name] = {
      drill: DRILLS[name]!.name,
      target: DRILLS[name]!.target,
      writeGapSeconds: gap,
      missingAcknowledgedRows: runs.map((r) => r.missing),
      maxWritablePrimaries: Math.max(...runs.map((r) => r.maxWritablePrimaries)),
      splitBrainSamples: runs.flatMap((r) => r.splitBrainSamples),
    };
    console.log(
      `${name}: write gap median ${gap.median} s, max ${gap.max} s (target ${DRILLS[name]!.target})`,
    );
  }
} finally {
  ns.delete();
}

const file = join(REPO_ROOT, 'docs/benchmarks/failover.json');
mkdirSync(join(REPO_ROOT, 'docs/benchmarks'), { recursive: true });
writeFileSync(
  file,
  JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      replication: REPLICATION,
      instances: INSTANCES,
      writerRatePerSecond: 20,
      table: PROBE_TABLE,
      results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${file}`);
