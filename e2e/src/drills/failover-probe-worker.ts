/**
 * The failover probe's worker thread (see failover-probe.ts). It runs apart from the test's
 * thread, whose synchronous kubectl calls would otherwise stall the writer and distort the gap.
 * - The writer inserts one row at a time at a steady rate through the primary's Service
 *   and records each acknowledged commit (id, time). A failed statement drops the connection;
 *   the next tick connects again. Optionally a second writer connects anew for every row.
 * - The sampler asks every instance pod, twice a second, whether it is a primary: the operator's
 *   role label (from the API) and PostgreSQL itself (pg_is_in_recovery() over the pod IP).
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  POOLER_TIMEOUT_MS,
  POOLER_WRITER_IDS,
  probeConnection,
  RECONNECTING_WRITER_IDS,
  type ProbeOptions,
  type ProbeRecord,
  type RoleSample,
  type WriterRecord,
} from './failover-probe.js';

const options = workerData as ProbeOptions;
const record: ProbeRecord = {
  acks: [],
  errors: 0,
  errorMessages: [],
  maxLatencyMs: 0,
  samples: [],
  ...(options.pooler ? { pooler: { acks: [], errors: 0, errorMessages: [], maxLatencyMs: 0 } } : {}),
};
let stopped = false;

/**
 * Direct to the primary: a connection not made in 1 s or a statement that takes 2 s counts as
 * failed (the server is gone). Through the pooler both wait longer (WriterTarget.timeoutMs): a
 * paused PgBouncer holds statements and logins alike (a login needs its auth query).
 */
const connection = (host: string, serverName: string, timeoutMs?: number) => ({
  ...probeConnection(options, host, serverName),
  connectionTimeoutMillis: timeoutMs ?? 1000,
  query_timeout: timeoutMs ?? 2000,
});

interface WriterTarget {
  host: string;
  serverName: string;
  /** How long a login or a statement may wait. */
  timeoutMs?: number;
  into: WriterRecord;
}

/**
 * Inserts one row per tick. The long-lived writer keeps its connection until a statement fails
 * (then the next tick connects again), as a pool does; the reconnecting one connects for each row.
 */
async function writer(firstId: number, reconnectEachWrite: boolean, target: WriterTarget): Promise<void> {
  const interval = 1000 / options.ratePerSecond;
  let client: pg.Client | undefined;
  let id = firstId;
  const { into } = target;
  while (!stopped) {
    const started = Date.now();
    id += 1;
    try {
      if (!client) {
        client = new pg.Client(connection(target.host, target.serverName, target.timeoutMs));
        client.on('error', () => undefined); // a broken connection is seen by the next query
        await client.connect();
      }
      if (options.transactionMs) {
        await client.query('BEGIN');
        await client.query('INSERT INTO pgop_writes (id) VALUES ($1)', [id]);
        await client.query('SELECT pg_sleep($1)', [options.transactionMs / 1000]);
        await client.query('COMMIT');
      } else await client.query('INSERT INTO pgop_writes (id) VALUES ($1)', [id]);
      into.acks.push([id, Date.now()]);
      if (reconnectEachWrite) {
        void client.end().catch(() => undefined);
        client = undefined;
      }
    } catch (err) {
      into.errors += 1;
      into.lastErrorAt = Date.now();
      noteError(into, err);
      void client?.end().catch(() => undefined);
      client = undefined;
    }
    into.maxLatencyMs = Math.max(into.maxLatencyMs, Date.now() - started);
    await sleep(Math.max(0, interval - (Date.now() - started)));
  }
  await client?.end().catch(() => undefined);
}

const KEPT_ERROR_MESSAGES = 5;

function noteError(into: WriterRecord, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (into.errorMessages.length >= KEPT_ERROR_MESSAGES || into.errorMessages.some((m) => m.endsWith(message)))
    return;
  into.errorMessages.push(`${new Date().toISOString()} ${message}`);
}

async function isWritablePrimary(pod: string, ip: string): Promise<boolean | undefined> {
  const serverName = options.podsDomain ? `${pod}.${options.podsDomain}` : options.primaryServerName;
  const client = new pg.Client(connection(ip, serverName));
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    return res.rows[0]?.r === false;
  } catch {
    return undefined; // unreachable or not accepting connections: not counted
  } finally {
    void client.end().catch(() => undefined);
  }
}

async function sampler(): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  let pods: { name: string; ip?: string; labelledPrimary: boolean }[] = [];
  while (!stopped) {
    const started = Date.now();
    let apiReachable = true;
    try {
      const list = await Promise.race([
        core.listNamespacedPod({ namespace: options.namespace, labelSelector: options.podSelector }),
        sleep(1000).then(() => Promise.reject(new Error('timeout'))),
      ]);
      pods = list.items.map((p) => ({
        name: p.metadata!.name!,
        ip: p.status?.podIP,
        labelledPrimary: p.metadata?.labels?.[options.roleLabel] === 'primary',
      }));
    } catch {
      apiReachable = false; // the API server is down: keep probing the pods last seen
    }
    const writable = await Promise.all(pods.map((p) => (p.ip ? isWritablePrimary(p.name, p.ip) : undefined)));
    const sample: RoleSample = {
      t: started,
      apiReachable,
      labelledPrimaries: apiReachable ? pods.filter((p) => p.labelledPrimary).map((p) => p.name) : [],
      writablePrimaries: pods.filter((_, i) => writable[i] === true).map((p) => p.name),
    };
    record.samples.push(sample);
    await sleep(Math.max(0, 500 - (Date.now() - started)));
  }
}

const direct = { host: options.primaryHost, serverName: options.primaryServerName, into: record };
const running = Promise.all([
  writer(0, false, direct),
  options.reconnectingWriter ? writer(RECONNECTING_WRITER_IDS, true, direct) : undefined,
  options.pooler
    ? writer(POOLER_WRITER_IDS, false, {
        ...options.pooler,
        timeoutMs: POOLER_TIMEOUT_MS,
        into: record.pooler!,
      })
    : undefined,
  sampler(),
]);
parentPort!.on('message', (message) => {
  if (message !== 'stop') return;
  stopped = true;
  void running.then(() => parentPort!.postMessage(record));
});
