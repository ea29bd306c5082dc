/**
 * `npm run bench:failover`: the write gap an application sees in each fault drill. A writer
 * inserts 20 rows/s through <cluster>-primary and records every acknowledged commit; a sampler
 * checks every pod's role twice a second; then a fault is injected and the cluster is waited on
 * until it is whole again. Per run it prints the write gap, the acknowledged rows missing, and
 * the most writable primaries seen at once; per drill the median and maximum. The drills a pooler
 * can hide (Drill.throughPooler) run a third writer through <cluster>-pooler (PgBouncer, spec.pooler)
 * beside the direct one, and print both writers' failed statements and longest statement. Results go to
 * docs/benchmarks/failover.json, where they replace the same drills' earlier figures.
 *
 * Environment: PGOP_BENCH_RUNS (default 5), PGOP_BENCH_DRILLS (comma-separated, default all of
 * DRILLS), PGOP_BENCH_REPLICATION (Sync or Async, default Sync).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DRILLS, runDrill, waitWhole } from '../drills/failover-drills.js';
import {
  poolerTarget,
  probeOptions,
  PROBE_TABLE,
  type DrillFigures,
  type WriterFigures,
} from '../drills/failover-probe.js';
import { localCluster, TestNamespace } from '../harness/local-cluster.js';
import { installOperator, postgresCluster, waitPoolerReady } from '../harness/operator.js';
import { REPO_ROOT } from '../harness/paths.js';
import { mergeResultsFile, summary } from './stats.js';

const RUNS = Number(process.env.PGOP_BENCH_RUNS ?? 5);
const DRILL_NAMES = (process.env.PGOP_BENCH_DRILLS ?? Object.keys(DRILLS).join(',')).split(',');
const REPLICATION = process.env.PGOP_BENCH_REPLICATION ?? 'Sync';
const CLUSTER = 'bench';
const DEFAULT_INSTANCES = 3;
const POOLER_TRANSACTION_MS = 50;

execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
const cluster = localCluster();
installOperator(cluster);

/** Each drill gets a cluster of the shape it needs (the lost-node drill: one instance per node). */
async function benchDrill(name: string): Promise<DrillFigures[]> {
  const drill = DRILLS[name];
  if (!drill) throw new Error(`unknown drill ${name}: one of ${Object.keys(DRILLS).join(', ')}`);
  const instances = drill.instances ?? DEFAULT_INSTANCES;
  const ns = new TestNamespace(cluster, `pgop-bench-${name}`);
  try {
    ns.apply(
      postgresCluster(CLUSTER, {
        replicas: instances,
        replication: { mode: REPLICATION },
        ...(drill.throughPooler ? { pooler: { instances: 2 } } : {}),
        ...drill.spec,
      }),
    );
    await waitWhole(ns, CLUSTER, instances);
    if (drill.throughPooler) await waitPoolerReady(ns, CLUSTER);
    const options = {
      ...(await probeOptions(ns, CLUSTER)),
      reconnectingWriter: drill.reconnectingWriter,
      // Both writers then run 50 ms transactions back to back, as applications do: one is in
      // flight when the primary stops.
      ...(drill.throughPooler
        ? { pooler: poolerTarget(ns, CLUSTER), transactionMs: POOLER_TRANSACTION_MS }
        : {}),
    };
    const runs: DrillFigures[] = [];
    for (let run = 1; run <= RUNS; run++) {
      await drill.prepare?.(ns, CLUSTER);
      try {
        const { figures } = await runDrill(
          ns,
          CLUSTER,
          instances,
          options,
          (primary) => drill.inject(ns, CLUSTER, primary),
          { movesPrimary: drill.movesPrimary },
        );
        console.log(
          `${name} run ${run}: write gap ${(figures.writeGapMs / 1000).toFixed(2)} s, ` +
            `${figures.acknowledged} acknowledged, ${figures.missing} missing, ` +
            `max writable primaries ${figures.maxWritablePrimaries}, max labelled primaries ${figures.maxLabelledPrimaries}` +
            (figures.splitBrainSamples.length
              ? `, two writable: ${figures.splitBrainSamples.join('; ')}`
              : '') +
            `; direct: ${writerLine(figures)}` +
            (figures.pooler ? `; through ${CLUSTER}-pooler: ${writerLine(figures.pooler)}` : ''),
        );
        runs.push(figures);
      } finally {
        await drill.recover?.();
      }
    }
    return runs;
  } finally {
    ns.delete();
  }
}

function writerLine(w: WriterFigures): string {
  const last = w.lastFailureAfterFaultMs;
  return (
    `${w.failedStatements} failed${last !== undefined ? ` (the last ${(last / 1000).toFixed(1)} s after the fault)` : ''}, ` +
    `longest transaction ${w.maxLatencyMs} ms, ${w.missing} missing`
  );
}

/** A writer's failed transactions and longest transaction per run, with medians and maxima. */
function writerSummary(runs: WriterFigures[]) {
  return {
    failedTransactions: summary(
      runs.map((r) => r.failedStatements),
      0,
    ),
    lastFailureAfterFaultSeconds: runs.map((r) =>
      r.lastFailureAfterFaultMs === undefined ? null : Math.round(r.lastFailureAfterFaultMs / 100) / 10,
    ),
    longestTransactionSeconds: summary(
      runs.map((r) => r.maxLatencyMs / 1000),
      2,
    ),
    missingAcknowledgedRows: runs.map((r) => r.missing),
  };
}

const results: Record<string, unknown> = {};
for (const name of DRILL_NAMES) {
  const runs = await benchDrill(name);
  const gap = summary(
    runs.map((r) => r.writeGapMs / 1000),
    2,
  );
  // Sync figures under the drill's name, another mode's beside them (e.g. hang-patroni-async).
  results[REPLICATION === 'Sync' ? name : `${name}-${REPLICATION.toLowerCase()}`] = {
    drill: DRILLS[name]!.name,
    measuredAt: new Date().toISOString(),
    replication: REPLICATION,
    target: DRILLS[name]!.target,
    instances: DRILLS[name]!.instances ?? DEFAULT_INSTANCES,
    writeGapSeconds: gap,
    missingAcknowledgedRows: runs.map((r) => r.missing),
    maxWritablePrimaries: Math.max(...runs.map((r) => r.maxWritablePrimaries)),
    maxLabelledPrimaries: Math.max(...runs.map((r) => r.maxLabelledPrimaries)),
    splitBrainSamples: runs.flatMap((r) => r.splitBrainSamples),
    direct: writerSummary(runs),
    ...(DRILLS[name]!.throughPooler
      ? { transactionMs: POOLER_TRANSACTION_MS, pooler: writerSummary(runs.map((r) => r.pooler!)) }
      : {}),
  };
  console.log(`${name}: write gap median ${gap.median} s, max ${gap.max} s (target ${DRILLS[name]!.target})`);
}

mergeResultsFile('failover', { writerRatePerSecond: 20, table: PROBE_TABLE }, results);
