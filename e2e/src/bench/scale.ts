/**
 * `npm run bench:scale`: pgop's two controllers, as processes configured as the chart runs them,
 * against a real API server with no kubelet (the integration harness: etcd + kube-apiserver) and
 * a MinIO on loopback as every cluster's S3 repository. For 100, 250 and 500 PostgresClusters
 * (3 instances, S3 backups), each with a scheduled PostgresBackup:
 *  - cold start: the objects exist, the controllers start; time until every cluster and backup
 *    has status.observedGeneration equal to its generation;
 *  - steady state: a minute later, for a minute: reconciles, API requests and CPU per second;
 *  - spec changes under that load: a parameter of one cluster changed 4 times a second; the time
 *    from the patch to its generation in status.observedGeneration (p50, p95, p99);
 *  - resident memory of each controller, now and at its peak.
 * No pod ever runs, so every cluster stays in its first phase (waiting for its instances): the
 * controller's heaviest steady state. Then CloudNativePG's operator on the same harness and the
 * same number of clusters: cold start, steady state and memory (measureCloudNativePg says what
 * differs). Writes docs/benchmarks/scale.json (each operator's figures replace only its own).
 * PGOP_SCALE_SIZES (default 100,250,500), PGOP_SCALE_CHANGES (default 100) and
 * PGOP_SCALE_OPERATORS (default pgop,cloudnative-pg) change the run.
 */
import { resourceOf, type PostgresBackup, type PostgresCluster } from '@pgop/api';
import { createLogger, Informer, ObjectClient } from '@pgop/runtime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { startApiServer, type TestApiServer } from '../harness/envtest.js';
import { startControllerProcess, type ControllerProcess } from '../harness/controller-process.js';
import { kubectlOk } from '../harness/kubectl.js';
import { startLoopbackS3, type LoopbackS3 } from '../harness/loopback-s3.js';
import { REPO_ROOT } from '../harness/paths.js';
import {
  applyCloudNativePgCrds,
  CNPG_MEMORY_LIMIT_MIB,
  startCloudNativePg,
  type CloudNativePgProcess,
} from '../peers/cloudnative-pg-process.js';
import { CLOUDNATIVE_PG } from '../peers/subjects.js';
import { createMemoryCgroup, type MemoryCgroup } from './memory-cgroup.js';
import { mergeResultsFile } from './stats.js';
import { metricSeries, metricTotal, cpuSeconds, memoryMiB } from './process-usage.js';

const SIZES = (process.env.PGOP_SCALE_SIZES ?? '100,250,500').split(',').map(Number);
const CHANGES = Number(process.env.PGOP_SCALE_CHANGES ?? 100);
const CHANGES_PER_SECOND = 4;
const CLUSTERS_PER_NAMESPACE = 50;
const STEADY_SECONDS = Number(process.env.PGOP_SCALE_STEADY_SECONDS ?? 60);
const CONTROLLERS = ['cluster-controller', 'backup-controller'] as const;
/** What the chart gives the controllers (charts/pgop/values.yaml and its templates). */
const CHART_ENVIRONMENT = {
  LOG_LEVEL: 'info',
  PGOP_POSTGRES_IMAGES: '17=localhost/pgop/postgres:17',
  PGOP_DELETION_WAIT_SECONDS: '300',
  PGOP_JOB_IMAGE: 'localhost/pgop/operator:dev',
  PGOP_BACKUP_JOB_CLUSTER_ROLE: 'pgop-backup-job',
};

/** The chart's memory limit of a controller (charts/pgop/values.yaml), in MiB. */
function chartMemoryLimitMiB(controller: (typeof CONTROLLERS)[number]): number {
  const values = parse(readFileSync(join(REPO_ROOT, 'charts/pgop/values.yaml'), 'utf8')) as Record<
    string,
    { resources: { limits: { memory: string } } }
  >;
  const key = controller === 'cluster-controller' ? 'clusterController' : 'backupController';
  const limit = values[key]!.resources.limits.memory;
  if (!/^\d+Mi$/.test(limit)) throw new Error(`${key}.resources.limits.memory: ${limit} is not <n>Mi`);
  return Number(limit.slice(0, -2));
}

type Named = {
  metadata: { namespace?: string; name?: string; generation?: number };
  status?: { observedGeneration?: number };
};
const keyOf = (o: Named) => `${o.metadata.namespace}/${o.metadata.name}`;

/** Watches the custom resources and notes when each generation is first seen in status. */
class ObservedGenerations<T extends Named> {
  readonly informer: Informer<T>;
  private readonly seenAt = new Map<string, number>();

  constructor(server: TestApiServer, kind: 'PostgresCluster' | 'PostgresBackup') {
    this.informer = new Informer<T>({
      kubeConfig: server.kubeConfig,
      logger: createLogger({ component: 'bench', level: 'error' }),
      ...resourceOf(kind),
      onChange: (o) => {
        const generation = o.status?.observedGeneration;
        const key = `${keyOf(o)}@${generation}`;
        if (generation !== undefined && !this.seenAt.has(key)) this.seenAt.set(key, performance.now());
      },
    });
  }

  /** When `generation` of `key` was first seen in status. */
  seen(key: string, generation: number): number | undefined {
    return this.seenAt.get(`${key}@${generation}`);
  }

  /** Every object's current generation is in its status. */
  allCurrent(): boolean {
    return this.informer.list().every((o) => o.status?.observedGeneration === o.metadata.generation);
  }

  current(): number {
    return this.informer.list().filter((o) => o.status?.observedGeneration === o.metadata.generation).length;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number, decimals = 2) => Math.round(n * 10 ** decimals) / 10 ** decimals;

function manifests(clusters: number, s3: LoopbackS3): string[] {
  const docs: object[] = [];
  for (let n = 0; n < Math.ceil(clusters / CLUSTERS_PER_NAMESPACE); n++) {
    const namespace = `scale-${n}`;
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    docs.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's3-credentials', namespace },
      stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
    });
  }
  for (let i = 0; i < clusters; i++) {
    const namespace = `scale-${Math.floor(i / CLUSTERS_PER_NAMESPACE)}`;
    const name = `pg-${i}`;
    docs.push({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresCluster',
      metadata: { name, namespace },
      spec: {
        version: 17,
        replicas: 3,
        storage: { size: '1Gi' },
        backup: {
          s3: {
            bucket: s3.bucket,
            endpoint: s3.endpoint,
            uriStyle: 'Path',
            tls: { verify: false },
            credentialsSecret: { name: 's3-credentials' },
          },
        },
      },
    });
    docs.push({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: `${name}-nightly`, namespace },
      spec: { clusterName: name, schedule: '0 2 * * *', retention: { count: 7 } },
    });
  }
  return inChunks(docs);
}

/** kubectl applies a few hundred objects per call comfortably. */
function inChunks(docs: object[]): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < docs.length; i += 200)
    chunks.push(
      docs
        .slice(i, i + 200)
        .map((d) => stringify(d))
        .join('---\n'),
    );
  return chunks;
}

/** The same clusters for CloudNativePG: as bench:peers writes them, without a backup (see below). */
function cloudNativePgManifests(clusters: number): string[] {
  const docs: object[] = [];
  for (let n = 0; n < Math.ceil(clusters / CLUSTERS_PER_NAMESPACE); n++)
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `scale-${n}` } });
  for (let i = 0; i < clusters; i++) {
    const cluster = CLOUDNATIVE_PG.manifest(`pg-${i}`, 3, false) as { metadata: Record<string, string> };
    cluster.metadata.namespace = `scale-${Math.floor(i / CLUSTERS_PER_NAMESPACE)}`;
    docs.push(cluster);
  }
  return inChunks(docs);
}

async function untilTrue(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

interface Usage {
  cpu: number;
  requests: number;
  reconciles: number;
  requestsBySeries: Map<string, number>;
}

async function usage(c: ControllerProcess): Promise<Usage> {
  const url = `http://127.0.0.1:${c.port}/metrics`;
  return {
    cpu: cpuSeconds(c.child.pid!),
    requests: await metricTotal(url, 'pgop_api_requests_total'),
    reconciles: await metricTotal(url, 'pgop_reconcile_total'),
    requestsBySeries: await metricSeries(url, 'pgop_api_requests_total'),
  };
}

function rates(before: Usage, after: Usage, seconds: number) {
  const reconciles = after.reconciles - before.reconciles;
  const requests = after.requests - before.requests;
  return {
    cpuPercent: round((100 * (after.cpu - before.cpu)) / seconds, 1),
    reconcilesPerSecond: round(reconciles / seconds),
    apiRequestsPerSecond: round(requests / seconds),
    apiRequestsPerReconcile: reconciles ? round(requests / reconciles) : null,
    /** The most frequent requests, per second. */
    topRequests: Object.fromEntries(
      [...after.requestsBySeries]
        .map(
          ([series, n]) =>
            [series, round((n - (before.requestsBySeries.get(series) ?? 0)) / seconds)] as const,
        )
        .filter(([, perSecond]) => perSecond > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5),
    ),
  };
}

async function measure(size: number) {
  const server = await startApiServer();
  const s3 = await startLoopbackS3();
  const running: ControllerProcess[] = [];
  const cgroups: (MemoryCgroup | undefined)[] = [];
  const clusters = new ObservedGenerations<PostgresCluster & Named>(server, 'PostgresCluster');
  const backups = new ObservedGenerations<PostgresBackup & Named>(server, 'PostgresBackup');
  try {
    kubectlOk(server, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
    kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    for (const chunk of manifests(size, s3)) kubectlOk(server, ['apply', '--server-side', '-f', '-'], chunk);
    for (const w of [clusters, backups]) await w.informer.start();
    await Promise.all([clusters.informer.synced, backups.informer.synced]);

    const started = performance.now();
    for (const name of CONTROLLERS) {
      const cgroup = createMemoryCgroup(`pgop-bench-${name}`, chartMemoryLimitMiB(name));
      if (!cgroup) console.log(`no writable memory cgroup: ${name} runs without the chart's memory limit`);
      cgroups.push(cgroup);
      running.push(await startControllerProcess(server, name, CHART_ENVIRONMENT, cgroup?.launcher));
    }
    await untilTrue(
      'every cluster and backup reconciled',
      () => clusters.allCurrent() && backups.allCurrent(),
      30 * 60_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${clusters.current()}/${size} clusters, ${backups.current()}/${size} backups`,
      );
    });
    const coldStartSeconds = round((performance.now() - started) / 1000, 1);
    const afterColdStart = await Promise.all(running.map(usage));
    console.log(`${size} clusters: all reconciled ${coldStartSeconds} s after the controllers started`);

    await sleep(STEADY_SECONDS * 1000);
    const steadyFrom = await Promise.all(running.map(usage));
    await sleep(STEADY_SECONDS * 1000);
    const steadyTo = await Promise.all(running.map(usage));

    const client = new ObjectClient(server.kubeConfig, 'bench');
    const changes: Promise<number | undefined>[] = [];
    const changesFrom = await Promise.all(running.map(usage));
    const changesStarted = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      const index = (i * 37) % size;
      const ref = {
        ...resourceOf('PostgresCluster'),
        namespace: `scale-${Math.floor(index / CLUSTERS_PER_NAMESPACE)}`,
        name: `pg-${index}`,
      };
      changes.push(
        (async () => {
          const sent = performance.now();
          const patched = await client.mergePatch(ref, {
            spec: { postgresql: { parameters: { work_mem: `${4 + i}MB` } } },
          });
          const key = `${ref.namespace}/${ref.name}`;
          const generation = patched.metadata!.generation!;
          const deadline = Date.now() + 120_000;
          for (;;) {
            const seen = clusters.seen(key, generation);
            if (seen !== undefined) return Math.max(0, seen - sent) / 1000;
            if (Date.now() > deadline) return undefined;
            await sleep(20);
          }
        })(),
      );
      await sleep(1000 / CHANGES_PER_SECOND);
    }
    const latencies = await Promise.all(changes);
    const changesSeconds = (performance.now() - changesStarted) / 1000;
    const changesTo = await Promise.all(running.map(usage));
    const seen = latencies.filter((l): l is number => l !== undefined).sort((a, b) => a - b);

    const result = {
      clusters: size,
      coldStartSeconds,
      specChangeToStatusSeconds: {
        changes: CHANGES,
        notSeenWithin120s: CHANGES - seen.length,
        p50: round(percentile(seen, 50)),
        p95: round(percentile(seen, 95)),
        p99: round(percentile(seen, 99)),
        max: round(seen.at(-1)!),
      },
      controllers: Object.fromEntries(
        await Promise.all(
          CONTROLLERS.map(async (name, i) => [
            name,
            {
              coldStart: {
                cpuSeconds: round(afterColdStart[i]!.cpu, 1),
                apiRequests: afterColdStart[i]!.requests,
                reconciles: afterColdStart[i]!.reconciles,
              },
              steady: rates(steadyFrom[i]!, steadyTo[i]!, STEADY_SECONDS),
              underChanges: rates(changesFrom[i]!, changesTo[i]!, changesSeconds),
              memoryMiB: {
                ...memoryMiB(running[i]!.child.pid!),
                heapUsed: Math.round(
                  (await metricTotal(
                    `http://127.0.0.1:${running[i]!.port}/metrics`,
                    'nodejs_heap_size_used_bytes',
                  )) /
                    2 ** 20,
                ),
                limit: cgroups[i]?.limitMiB ?? null,
                oomKills: cgroups[i]?.oomKills() ?? null,
              },
            },
          ]),
        ),
      ),
    };
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    for (const c of running) {
      c.child.kill('SIGTERM');
      await c.exit;
    }
    for (const cgroup of cgroups) cgroup?.remove();
    for (const w of [clusters, backups]) await w.informer.stop();
    await s3.stop();
    await server.stop();
  }
}

type CnpgCluster = { metadata: { namespace?: string; name?: string }; status?: { phase?: string } };

/**
 * CloudNativePG's operator on the same harness and the same clusters (no backups: its backups
 * need its Barman Cloud plugin, a second operator with its own pods). Without a kubelet its
 * clusters stop at their first Job (initdb), so "reconciled" is: a phase in status and that Job
 * made. Its Cluster status has no observedGeneration, and a parameter reaches its instances only
 * through their pods, so there is no spec-change figure for it.
 */
async function measureCloudNativePg(size: number) {
  const server = await startApiServer();
  const logger = createLogger({ component: 'bench', level: 'error' });
  const phased = new Informer<CnpgCluster>({
    kubeConfig: server.kubeConfig,
    logger,
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    path: '/apis/postgresql.cnpg.io/v1/clusters',
    onChange: () => undefined,
  });
  const jobs = new Informer<CnpgCluster>({
    kubeConfig: server.kubeConfig,
    logger,
    apiVersion: 'batch/v1',
    kind: 'Job',
    path: '/apis/batch/v1/jobs',
    onChange: () => undefined,
  });
  const cgroup = createMemoryCgroup('pgop-bench-cloudnative-pg', CNPG_MEMORY_LIMIT_MIB);
  let operator: CloudNativePgProcess | undefined;
  try {
    applyCloudNativePgCrds(server);
    kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    for (const chunk of cloudNativePgManifests(size))
      kubectlOk(server, ['apply', '--server-side', '-f', '-'], chunk);
    for (const i of [phased, jobs]) await i.start();
    await Promise.all([phased.synced, jobs.synced]);

    const started = performance.now();
    operator = await startCloudNativePg(server, cgroup?.launcher);
    const pid = operator.process.child.pid!;
    const reconciled = () => {
      const initdb = new Set(jobs.list().map((j) => `${j.metadata.namespace}/${j.metadata.name}`));
      return phased
        .list()
        .filter((c) => c.status?.phase && initdb.has(`${c.metadata.namespace}/${c.metadata.name}-1-initdb`))
        .length;
    };
    // Ten minutes: at 500 clusters it stalled short of all (docs/benchmarks.md), a finding to record.
    await untilTrue('every CloudNativePG cluster reconciled', () => reconciled() === size, 10 * 60_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}: ${reconciled()}/${size} clusters`);
      },
    );
    const coldStartSeconds = round((performance.now() - started) / 1000, 1);
    console.log(`CloudNativePG, ${size} clusters: all reconciled ${coldStartSeconds} s after it started`);
    const usageNow = async () => ({
      cpu: cpuSeconds(pid),
      requests: await metricTotal(operator!.metricsUrl, 'rest_client_requests_total'),
      // controller-runtime counts the reconciles of each of its controllers; its clusters' only.
      reconciles: [...(await metricSeries(operator!.metricsUrl, 'controller_runtime_reconcile_total'))]
        .filter(([series]) => series.includes('controller="cluster"'))
        .reduce((n, [, value]) => n + value, 0),
    });
    const afterColdStart = await usageNow();
    await sleep(STEADY_SECONDS * 1000);
    const steadyFrom = await usageNow();
    await sleep(STEADY_SECONDS * 1000);
    const steadyTo = await usageNow();
    const reconciles = steadyTo.reconciles - steadyFrom.reconciles;
    const requests = steadyTo.requests - steadyFrom.requests;
    const result = {
      clusters: size,
      coldStartSeconds,
      coldStart: { cpuSeconds: round(afterColdStart.cpu, 1), apiRequests: afterColdStart.requests },
      steady: {
        cpuPercent: round((100 * (steadyTo.cpu - steadyFrom.cpu)) / STEADY_SECONDS, 1),
        reconcilesPerSecond: round(reconciles / STEADY_SECONDS),
        apiRequestsPerSecond: round(requests / STEADY_SECONDS),
      },
      memoryMiB: {
        ...memoryMiB(pid),
        goHeapInUse: Math.round(
          (await metricTotal(operator.metricsUrl, 'go_memstats_heap_inuse_bytes')) / 2 ** 20,
        ),
        limit: cgroup?.limitMiB ?? null,
        oomKills: cgroup?.oomKills() ?? null,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await operator?.stop();
    cgroup?.remove();
    for (const i of [phased, jobs]) await i.stop();
    await server.stop();
  }
}

const OPERATORS = (process.env.PGOP_SCALE_OPERATORS ?? 'pgop,cloudnative-pg').split(',');
const results: Record<string, { measuredAt: string; sizes: unknown[] }> = {};
for (const [operator, run] of [
  ['pgop', measure],
  ['cloudnative-pg', measureCloudNativePg],
] as const) {
  if (!OPERATORS.includes(operator)) continue;
  const sizes = [];
  for (const size of SIZES)
    sizes.push(
      // A size an operator does not get through is a finding, kept with its reason.
      await run(size).catch((err: Error) => {
        console.log(`${operator}, ${size} clusters: ${err.message}`);
        return { clusters: size, notFinished: err.message };
      }),
    );
  results[operator] = { measuredAt: new Date().toISOString(), sizes };
}
mergeResultsFile(
  'scale',
  {
    machine: '2 cores, 24 GiB; etcd, kube-apiserver, MinIO and the controllers on the same machine',
    setup: {
      clustersPerNamespace: CLUSTERS_PER_NAMESPACE,
      cluster: '3 instances, PostgreSQL 17, 1 GiB; no kubelet',
      pgop: 'both controllers; each cluster with an S3 repository and a PostgresBackup scheduled daily',
      'cloudnative-pg':
        'v1.30.0; clusters as bench:peers writes them (one synchronous standby), no backups (they need its Barman Cloud plugin), no admission webhooks',
      changesPerSecond: CHANGES_PER_SECOND,
      steadySeconds: STEADY_SECONDS,
    },
  },
  results,
);
