/**
 * `npm run bench:peers`: pgop and CloudNativePG side by side on the local Kubernetes, the same
 * day, the same machine, the same PostgreSQL 17 image: 3 instances with one synchronous standby
 * (src/peers/subjects.ts says how each is written), then each fault of the HA drills with the
 * same write probe (a writer at 20 rows/s through the primary's Service, a sampler of every
 * pod's role). Per row and operator: the median and maximum of PGOP_BENCH_RUNS runs (default 5),
 * acknowledged commits missing, most pods accepting writes at once; and the ratio of the medians
 * pgop / CloudNativePG. Writes docs/benchmarks/peers.json.
 *
 * CloudNativePG is installed at the start and removed at the end (e2e/tools/cloudnative-pg).
 * PGOP_BENCH_ROWS (comma-separated keys of ROWS) runs some rows only.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DRILLS, runDrill } from '../drills/failover-drills.js';
import type { DrillFigures } from '../drills/failover-probe.js';
import { localCluster, TestNamespace } from '../harness/local-cluster.js';
import { REPO_ROOT } from '../harness/paths.js';
import { CLOUDNATIVE_PG, PGOP, type PeerOperator } from '../peers/subjects.js';
import { mergeResultsFile, summary } from './stats.js';

const RUNS = Number(process.env.PGOP_BENCH_RUNS ?? 5);
const CLUSTER = 'peer';
const OPERATORS = [PGOP, CLOUDNATIVE_PG];

interface Row {
  name: string;
  /** Instances of the row's cluster (3; the lost node 2, one per node of the local cluster). */
  instances: number;
  /** A fault; absent: the row times apply → whole. */
  fault?: {
    movesPrimary: boolean;
    prepare?: (op: PeerOperator, ns: TestNamespace) => Promise<void>;
    inject: (op: PeerOperator, ns: TestNamespace, primary: string) => void | Promise<void>;
    recover?: () => Promise<void>;
  };
}

const drill = (name: keyof typeof DRILLS) => DRILLS[name]!;
const ROWS: Record<string, Row> = {
  provision: { name: 'apply → ready (every replica streaming, a synchronous standby)', instances: 3 },
  switchover: {
    name: 'planned switchover',
    instances: 3,
    fault: { movesPrimary: true, inject: (op, ns) => op.switchover(ns, CLUSTER) },
  },
  'delete-primary-pod': {
    name: 'primary pod deleted',
    instances: 3,
    fault: {
      movesPrimary: true,
      inject: (_op, ns, primary) => drill('delete-primary-pod').inject(ns, CLUSTER, primary),
    },
  },
  'kill-postmaster': {
    name: "primary's PostgreSQL killed (SIGKILL of the postmaster)",
    instances: 3,
    // The operator may restart it in place or fail over: either way the row ends once whole.
    fault: {
      movesPrimary: false,
      inject: (_op, ns, primary) => drill('kill-postmaster').inject(ns, CLUSTER, primary),
    },
  },
  'kill-container': {
    name: 'primary container killed (SIGKILL from containerd)',
    instances: 3,
    fault: {
      movesPrimary: false,
      inject: (_op, ns, primary) => drill('kill-container').inject(ns, CLUSTER, primary),
    },
  },
  'lose-node': {
    name: "primary's node lost (kubelet and containers killed, then the out-of-service taint)",
    instances: 2,
    fault: {
      movesPrimary: true,
      prepare: (op, ns) => op.primaryOnDrillNode(ns, CLUSTER),
      inject: (_op, ns, primary) => drill('lose-node').inject(ns, CLUSTER, primary),
      recover: () => drill('lose-node').recover!(),
    },
  },
};

interface RowResult {
  seconds: ReturnType<typeof summary>;
  missingAcknowledgedCommits?: number[];
  maxWritablePrimaries?: number;
}

async function provisionRuns(op: PeerOperator): Promise<RowResult> {
  const times: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const ns = new TestNamespace(localCluster(), `peers-${op.name.toLowerCase()}`);
    try {
      const started = Date.now();
      ns.apply(op.manifest(CLUSTER, 3, false));
      await op.waitWhole(ns, CLUSTER, 3);
      times.push((Date.now() - started) / 1000);
      console.log(`${op.name} provision run ${run}: ${times.at(-1)!.toFixed(1)} s`);
    } finally {
      ns.delete();
    }
  }
  return { seconds: summary(times, 1) };
}

async function faultRuns(op: PeerOperator, key: string, row: Row): Promise<RowResult> {
  const fault = row.fault!;
  const ns = new TestNamespace(localCluster(), `peers-${op.name.toLowerCase()}-${key}`);
  try {
    ns.apply(op.manifest(CLUSTER, row.instances, key === 'lose-node'));
    await op.waitWhole(ns, CLUSTER, row.instances);
    const options = await op.probeOptions(ns, CLUSTER);
    const runs: DrillFigures[] = [];
    for (let run = 1; run <= RUNS; run++) {
      await fault.prepare?.(op, ns);
      try {
        const { figures } = await runDrill(
          ns,
          CLUSTER,
          row.instances,
          options,
          (primary) => fault.inject(op, ns, primary),
          // CloudNativePG stops a deleted primary's pod with a smart shutdown first, which waits
          // up to its smartShutdownTimeout (180 s by default) for the clients to leave.
          { movesPrimary: fault.movesPrimary, subject: op, primaryMoveTimeoutSeconds: 600 },
        );
        console.log(
          `${op.name} ${key} run ${run}: write gap ${(figures.writeGapMs / 1000).toFixed(2)} s, ` +
            `${figures.missing} of ${figures.acknowledged} acknowledged missing, ` +
            `max writable primaries ${figures.maxWritablePrimaries}`,
        );
        runs.push(figures);
      } finally {
        await fault.recover?.();
      }
    }
    return {
      seconds: summary(
        runs.map((r) => r.writeGapMs / 1000),
        2,
      ),
      missingAcknowledgedCommits: runs.map((r) => r.missing),
      maxWritablePrimaries: Math.max(...runs.map((r) => r.maxWritablePrimaries)),
    };
  } finally {
    ns.delete();
  }
}

const keys = (process.env.PGOP_BENCH_ROWS ?? Object.keys(ROWS).join(',')).split(',');
for (const key of keys)
  if (!ROWS[key]) throw new Error(`unknown row ${key}: one of ${Object.keys(ROWS).join(', ')}`);

execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
const cluster = localCluster();
for (const op of OPERATORS) op.install(cluster);
const results: Record<string, unknown> = {};
try {
  for (const key of keys) {
    const row = ROWS[key]!;
    const byOperator: Record<string, RowResult | { failed: string }> = {};
    // Each row for one operator, then the other: the same hour, neither one warming the other.
    // A row an operator does not get through is a finding, kept with its reason.
    for (const op of OPERATORS)
      byOperator[op.name] = await (row.fault ? faultRuns(op, key, row) : provisionRuns(op)).catch(
        (err: Error) => {
          console.log(`${op.name} ${key} failed: ${err.message.split('\n')[0]}`);
          return { failed: err.message.split('\n')[0]! };
        },
      );
    const median = (name: string) => (byOperator[name] as RowResult | undefined)?.seconds?.median;
    const [ours, theirs] = [median(PGOP.name), median(CLOUDNATIVE_PG.name)];
    const ratio = ours !== undefined && theirs ? Math.round((ours / theirs) * 100) / 100 : null;
    results[key] = {
      name: row.name,
      measuredAt: new Date().toISOString(),
      runs: RUNS,
      pgopCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
      instances: row.instances,
      measure: row.fault ? 'write gap (s)' : 'seconds',
      ...byOperator,
      ratio,
    };
    console.log(`${row.name}: pgop ${ours} s, CloudNativePG ${theirs} s, ratio ${ratio}`);
  }
} finally {
  CLOUDNATIVE_PG.remove(cluster);
}

mergeResultsFile(
  'peers',
  {
    machine: '2 cores, 24 GiB; the local Kubernetes (two kubelets on one machine)',
    CloudNativePG: 'v1.30.0',
  },
  results,
);
