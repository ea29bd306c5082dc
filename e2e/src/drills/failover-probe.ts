/**
 * Measures what an application sees during a fault: a writer at a steady rate through
 * <cluster>-primary (optionally a second one that reconnects for every commit), and a sampler of every pod's role (failover-probe-worker.ts). analyzeDrill
 * turns the record into the figures of docs/ha.md: the write gap, acknowledged rows missing
 * afterwards, and the most primaries seen at once.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { TestNamespace } from '../harness/local-cluster.js';
import { secretValue, waitForApplicationRole } from '../harness/operator.js';

export interface ProbeOptions {
  namespace: string;
  podSelector: string;
  primaryHost: string;
  user: string;
  password: string;
  kubeconfigPath: string;
  ratePerSecond: number;
  /** The cluster's CA, which every connection verifies the server with (verify-full). */
  ca: string;
  /** The name the primary Service's certificate is checked for (primaryHost is its IP). */
  primaryServerName: string;
  /**
   * Each pod's DNS name is <pod>.<podsDomain>, which the instances' certificate covers; without
   * it, every pod is verified as primaryServerName (an operator whose certificate names only
   * its Services).
   */
  podsDomain?: string;
  /** The pod label whose value "primary" marks the operator's primary. */
  roleLabel: string;
  /**
   * Besides the writer that keeps its connection until a statement fails (an application's
   * pool), one that connects anew for every commit. Its row ids start at RECONNECTING_WRITER_IDS.
   */
  reconnectingWriter?: boolean;
  /**
   * A third writer, through the cluster's pooler (spec.pooler): its Service's IP and the name its
   * certificate is checked for. Its ids start at POOLER_WRITER_IDS, and it waits up to
   * POOLER_TIMEOUT_MS for a login or a statement (a paused pooler holds both), as an application
   * would.
   */
  pooler?: { host: string; serverName: string };
  /**
   * Each write a transaction that lasts this long (BEGIN, INSERT, pg_sleep, COMMIT), as an
   * application's transactions do, so that one is in flight when the primary stops; 0 (the
   * default): a single autocommit INSERT.
   */
  transactionMs?: number;
}

/** The first row id of the reconnecting writer, apart from the long-lived writer's. */
export const RECONNECTING_WRITER_IDS = 1_000_000_000;
/** The first row id of the writer through the pooler. */
export const POOLER_WRITER_IDS = 2_000_000_000;
export const POOLER_TIMEOUT_MS = 30_000;

export interface RoleSample {
  t: number;
  apiReachable: boolean;
  /** Pods labelled primary (options.roleLabel). */
  labelledPrimaries: string[];
  /** Pods whose PostgreSQL answered pg_is_in_recovery() = false. */
  writablePrimaries: string[];
}

export interface WriterRecord {
  /** [row id, time the commit was acknowledged] */
  acks: [number, number][];
  errors: number;
  /** When the last failed write was given up. */
  lastErrorAt?: number;
  /** The first few distinct messages of failed writes, with when they came (ISO time). */
  errorMessages: string[];
  /** The longest time one write took, acknowledged or not. */
  maxLatencyMs: number;
}

export interface ProbeRecord extends WriterRecord {
  samples: RoleSample[];
  /** The writer through the pooler (ProbeOptions.pooler). */
  pooler?: WriterRecord;
}

/** What one writer saw during a drill. */
export interface WriterFigures {
  /** The longest time between two consecutive acknowledged commits, from the last one before the fault. */
  writeGapMs: number;
  acknowledged: number;
  /** Acknowledged rows absent from the table afterwards. */
  missing: number;
  failedStatements: number;
  /** The longest one write (a statement, or a transaction with ProbeOptions.transactionMs) took. */
  maxLatencyMs: number;
  /** When the last write failed, from the fault; absent when none did. */
  lastFailureAfterFaultMs?: number;
  /** The first few distinct messages of failed writes (what a failure was). */
  errorMessages: string[];
}

/** The direct writers' figures, the pooler's writer's, and what the sampler saw. */
export interface DrillFigures extends WriterFigures {
  pooler?: WriterFigures;
  maxLabelledPrimaries: number;
  maxWritablePrimaries: number;
  /** Samples where two pods accepted writes, with their names (should be empty). */
  splitBrainSamples: string[];
}

export const PROBE_TABLE = 'pgop_writes';
/** The application role's database, where the probe's table lives. */
export const PROBE_DATABASE = 'app';
export const CREATE_PROBE_TABLE = `DROP TABLE IF EXISTS ${PROBE_TABLE}; CREATE TABLE ${PROBE_TABLE} (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`;

/**
 * Where and as whom the probe connects: the -primary Service, as the application role into its
 * database (what an application gets; the superuser may not log in over the network).
 */
export async function probeOptions(
  ns: TestNamespace,
  cluster: string,
  ratePerSecond = 20,
): Promise<ProbeOptions> {
  await waitForApplicationRole(ns, cluster);
  const secret = (key: string) => secretValue(ns, `${cluster}-app`, key);
  return {
    namespace: ns.name,
    podSelector: `postgres.example.com/cluster=${cluster},app.kubernetes.io/component=database`,
    primaryHost: ns.k('get', 'service', `${cluster}-primary`, '-o', 'jsonpath={.spec.clusterIP}'),
    user: secret('username'),
    password: secret('password'),
    kubeconfigPath: ns.cluster.kubeconfigPath,
    ratePerSecond,
    ca: secret('ca.crt'),
    primaryServerName: `${cluster}-primary.${ns.name}.svc`,
    podsDomain: `${cluster}-pods.${ns.name}.svc`,
    roleLabel: 'postgres.example.com/role',
  };
}

/** The writer through the cluster's pooler (spec.pooler): its Service, checked by its name. */
export function poolerTarget(ns: TestNamespace, cluster: string): NonNullable<ProbeOptions['pooler']> {
  return {
    host: ns.k('get', 'service', `${cluster}-pooler`, '-o', 'jsonpath={.spec.clusterIP}'),
    serverName: `${cluster}-pooler.${ns.name}.svc`,
  };
}

/** A connection as the application role over TLS, the server verified as serverName (verify-full). */
export function probeConnection(options: ProbeOptions, host: string, serverName: string) {
  return {
    host,
    port: 5432,
    user: options.user,
    password: options.password,
    database: PROBE_DATABASE,
    ssl: { ca: options.ca, servername: serverName },
  };
}

/**
 * How long a connection refused by the primary Service (or not answered) is retried. Once (CI,
 * after the API server drill) the Service refused connections right after the cluster was whole
 * again, and into the next drill: Kubernetes' routing catching up after the control plane was down (the
 * node controller marks pods NotReady until the kubelets report; inferred, not proven), not the
 * database. These queries set up and read back a drill; its probe records every refused write.
 */
const SERVICE_ROUTING_GRACE_MS = 90_000;

/** Runs statements on the primary through the Service; returns the last result's rows. */
export async function primaryQuery(
  options: ProbeOptions,
  statement: string,
): Promise<Record<string, unknown>[]> {
  const connect = async () => {
    const client = new pg.Client({
      ...probeConnection(options, options.primaryHost, options.primaryServerName),
      connectionTimeoutMillis: 5000,
    });
    await client.connect();
    return client;
  };
  const deadline = Date.now() + SERVICE_ROUTING_GRACE_MS;
  let client: pg.Client;
  for (;;) {
    try {
      client = await connect();
      break;
    } catch (err) {
      // Refused, or no answer within the connect timeout (a loaded machine, once in CI with five
      // clusters switching over at once and another test file beside them): tried again.
      const retried =
        (err as { code?: string }).code === 'ECONNREFUSED' || /timeout expired/.test((err as Error).message);
      if (!retried || Date.now() > deadline) throw err;
      await sleep(1000);
    }
  }
  try {
    const result = (await client.query(statement)) as pg.QueryResult | pg.QueryResult[];
    return (Array.isArray(result) ? result.at(-1)! : result).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** The ids in pgop_writes now. */
export async function probeRows(options: ProbeOptions): Promise<Set<number>> {
  const rows = await primaryQuery(options, `SELECT id FROM ${PROBE_TABLE}`);
  return new Set(rows.map((r) => Number(r.id)));
}

/** Starts the writer and the sampler; pgop_writes must exist. stop() returns the record. */
export function startProbe(options: ProbeOptions): { stop: () => Promise<ProbeRecord> } {
  const worker = new Worker(new URL('./failover-probe-worker.js', import.meta.url), { workerData: options });
  return {
    stop: () =>
      new Promise<ProbeRecord>((resolve, reject) => {
        worker.once('message', (record: ProbeRecord) => {
          void worker.terminate();
          resolve(record);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

export function analyzeDrill(record: ProbeRecord, faultAt: number, rowsAfter: Set<number>): DrillFigures {
  const split = record.samples.filter((s) => s.writablePrimaries.length > 1);
  return {
    ...writerFigures(record, faultAt, rowsAfter),
    ...(record.pooler ? { pooler: writerFigures(record.pooler, faultAt, rowsAfter) } : {}),
    maxLabelledPrimaries: Math.max(0, ...record.samples.map((s) => s.labelledPrimaries.length)),
    maxWritablePrimaries: Math.max(0, ...record.samples.map((s) => s.writablePrimaries.length)),
    splitBrainSamples: split.map((s) => `${new Date(s.t).toISOString()}: ${s.writablePrimaries.join(', ')}`),
  };
}

/** The longest gap between acknowledged commits from the last one before the fault, and the rest. */
function writerFigures(record: WriterRecord, faultAt: number, rowsAfter: Set<number>): WriterFigures {
  const times = record.acks.map(([, t]) => t).sort((a, b) => a - b);
  const from = Math.max(
    0,
    times.findLastIndex((t) => t <= faultAt),
  );
  let writeGapMs = 0;
  for (let i = from; i + 1 < times.length; i++) writeGapMs = Math.max(writeGapMs, times[i + 1]! - times[i]!);
  return {
    writeGapMs,
    acknowledged: record.acks.length,
    missing: record.acks.filter(([id]) => !rowsAfter.has(id)).length,
    failedStatements: record.errors,
    maxLatencyMs: record.maxLatencyMs,
    errorMessages: record.errorMessages,
    ...(record.lastErrorAt !== undefined ? { lastFailureAfterFaultMs: record.lastErrorAt - faultAt } : {}),
  };
}
