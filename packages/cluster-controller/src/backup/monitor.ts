/**
 * Watches each cluster's pgBackRest repository in the background: checks it (S3 with the AWS
 * SDK, a PVC repository through its host's readiness), creates the stanza on the primary, and
 * reads pg_stat_archiver there. A reconcile never waits for this (an S3 timeout or a slow exec
 * would hold up every cluster); it reads the last facts and the monitor enqueues the cluster
 * again when they change.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { execInPod, type Stored } from '@pgop/runtime';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'winston';
import { dueSteps, type ArchiverStats, type RepositoryFacts } from './health.js';
import { childNames, clusterKey, repositoryHostSelector, selectorString } from '../naming.js';
import { PGBACKREST, STANZA } from '../pgbackrest/config.js';
import { ownRepository, repositoryPathOf, repositoryUrl } from '../pgbackrest/repository.js';
import { lastLines } from '../exec-output.js';
import { checkS3Repository, type RepositoryCheck } from '../pgbackrest/s3-check.js';

const EXEC_TIMEOUT_MS = 120_000;

const ARCHIVER_QUERY = `select archived_count, coalesce(last_archived_wal, ''),
  coalesce(floor(extract(epoch from last_archived_time) * 1000)::bigint::text, ''),
  failed_count, coalesce(last_failed_wal, ''),
  coalesce(floor(extract(epoch from last_failed_time) * 1000)::bigint::text, '')
  from pg_stat_archiver`;

/** One line of `psql -At` output of ARCHIVER_QUERY. */
export function parseArchiverStats(line: string): ArchiverStats {
  const [archived, lastWal, lastAt, failed, failedWal, failedAt] = line.trim().split('|');
  const time = (s: string | undefined) => (s ? Number(s) : undefined);
  return {
    archivedCount: Number(archived),
    ...(lastWal ? { lastArchivedWal: lastWal } : {}),
    ...(lastAt ? { lastArchivedAt: time(lastAt) } : {}),
    failedCount: Number(failed),
    ...(failedWal ? { lastFailedWal: failedWal } : {}),
    ...(failedAt ? { lastFailedAt: time(failedAt) } : {}),
  };
}

export class BackupRepositoryMonitor {
  private readonly facts = new Map<string, RepositoryFacts>();
  private readonly running = new Set<string>();
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly logger: Logger,
    private readonly enqueue: (key: string) => void,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  /** The facts gathered so far; starts gathering more when some are due. */
  observe(cluster: Stored<PostgresCluster>, primary: string | undefined): RepositoryFacts | undefined {
    const key = clusterKey(cluster);
    const url = repositoryUrl(cluster);
    if (!url) {
      this.facts.delete(key);
      return undefined;
    }
    let facts = this.facts.get(key);
    if (facts?.url !== url) {
      facts = { url };
      this.facts.set(key, facts);
    }
    const steps = dueSteps(cluster, facts, primary, Date.now());
    if (steps.length > 0 && !this.running.has(key)) {
      this.running.add(key);
      void this.gather(key, cluster, primary, steps).finally(() => this.running.delete(key));
    }
    return facts;
  }

  forget(key: string): void {
    this.facts.delete(key);
  }

  private async gather(
    key: string,
    cluster: Stored<PostgresCluster>,
    primary: string | undefined,
    steps: string[],
  ) {
    const before = structuredClone(this.facts.get(key));
    const facts = structuredClone(before)!;
    try {
      for (const step of steps) {
        if (step === 'repositoryCheck') {
          const result = cluster.spec.backup?.pvc
            ? await this.checkRepositoryHost(cluster)
            : await this.checkS3(cluster);
          facts.reachable = { ...result, at: Date.now() };
          if (!result.ok) break; // no use creating a stanza in a bucket we cannot write
        } else if (step === 'stanzaCreate') facts.stanza = await this.createStanza(cluster, primary!);
        else if (step === 'archiverStats') {
          try {
            facts.archiver = { stats: await this.archiverStats(cluster, primary!), at: Date.now() };
            delete facts.archiverError;
          } catch (err) {
            facts.archiverError = { message: (err as Error).message, at: Date.now() };
          }
        }
      }
    } catch (err) {
      this.logger.warn('checking the backup repository failed', { key, error: (err as Error).message });
    }
    if (this.facts.get(key)?.url !== facts.url) return; // the spec moved on meanwhile
    this.facts.set(key, facts);
    const withoutTime = (check: RepositoryFacts['reachable']) => check && { ...check, at: 0 };
    if (
      !isDeepStrictEqual(withoutTime(before?.reachable), withoutTime(facts.reachable)) ||
      before?.stanza?.ok !== facts.stanza?.ok ||
      !isDeepStrictEqual(before?.archiver?.stats, facts.archiver?.stats)
    )
      this.enqueue(key);
  }

  private async checkS3(cluster: Stored<PostgresCluster>): Promise<RepositoryCheck> {
    const s3 = cluster.spec.backup!.s3!;
    const namespace = cluster.metadata.namespace;
    const secretValue = async (name: string, key: string) => {
      const secret = await this.core.readNamespacedSecret({ name, namespace });
      const value = secret.data?.[key];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
    };
    const {
      name,
      accessKeyIdKey = 'AWS_ACCESS_KEY_ID',
      secretAccessKeyKey = 'AWS_SECRET_ACCESS_KEY',
    } = s3.credentialsSecret;
    let accessKeyId: string | undefined, secretAccessKey: string | undefined, ca: string | undefined;
    try {
      accessKeyId = await secretValue(name, accessKeyIdKey);
      secretAccessKey = await secretValue(name, secretAccessKeyKey);
      const caSecret = s3.tls?.verify === false ? undefined : s3.tls?.caSecret;
      if (caSecret) ca = await secretValue(caSecret.name, caSecret.key ?? 'ca.crt');
    } catch (err) {
      return {
        ok: false,
        reason: 'S3CredentialsMissing',
        message: `cannot read Secret ${name}: ${(err as Error).message}`,
      };
    }
    if (!accessKeyId || !secretAccessKey)
      return {
        ok: false,
        reason: 'S3CredentialsMissing',
        message: `Secret ${name} lacks key ${!accessKeyId ? accessKeyIdKey : secretAccessKeyKey}`,
      };
    return checkS3Repository(s3, repositoryPathOf(ownRepository(cluster)!), {
      accessKeyId,
      secretAccessKey,
      ...(ca ? { ca } : {}),
    });
  }

  /**
   * A PVC repository is reachable when its repository host has a ready pod; otherwise the
   * message says what holds it (often the volume, which cannot be provisioned or attached).
   */
  private async checkRepositoryHost(cluster: Stored<PostgresCluster>): Promise<RepositoryCheck> {
    const namespace = cluster.metadata.namespace;
    const names = childNames(cluster.metadata.name);
    try {
      const deployment = await this.apps.readNamespacedDeployment({ name: names.repositoryHost, namespace });
      if ((deployment.status?.readyReplicas ?? 0) > 0) return { ok: true };
      const volume = await this.core
        .readNamespacedPersistentVolumeClaim({ name: names.repositoryVolume, namespace })
        .catch(() => undefined);
      const phase = volume?.status?.phase ?? 'missing';
      return {
        ok: false,
        reason: 'RepositoryHostNotReady',
        message: `the repository host ${names.repositoryHost} has no ready pod (PersistentVolumeClaim ${names.repositoryVolume}: ${phase}); see kubectl describe pod -l ${selectorString(repositoryHostSelector(cluster.metadata.name))}`,
      };
    } catch (err) {
      return {
        ok: false,
        reason: 'RepositoryHostNotReady',
        message: `cannot read Deployment ${names.repositoryHost}: ${(err as Error).message}`,
      };
    }
  }

  private exec(cluster: Stored<PostgresCluster>, pod: string, command: string[]) {
    return execInPod(
      this.kubeConfig,
      { namespace: cluster.metadata.namespace, pod, container: 'postgres' },
      command,
      { timeoutMs: EXEC_TIMEOUT_MS },
    );
  }

  /**
   * stanza-create (idempotent: it succeeds on a stanza that already matches this database), then
   * pgbackrest check, which switches WAL and waits until that segment is in the repository.
   */
  private async createStanza(
    cluster: Stored<PostgresCluster>,
    primary: string,
  ): Promise<NonNullable<RepositoryFacts['stanza']>> {
    const at = Date.now();
    const run = async (command: string, ...options: string[]) => {
      const result = await this.exec(cluster, primary, [
        PGBACKREST,
        `--stanza=${STANZA}`,
        ...options,
        command,
      ]);
      return result.exitCode === 0
        ? undefined
        : `pgbackrest ${command} exit ${result.exitCode}: ${lastLines(result.stderr || result.stdout)}`;
    };
    try {
      const created = await run('stanza-create');
      if (created) return { ok: false, reason: 'StanzaCreateFailed', message: created, at };
      const checked = await run('check', '--archive-timeout=60');
      if (checked) return { ok: false, reason: 'ArchivingFailing', message: checked, at };
      return { ok: true, at };
    } catch (err) {
      return { ok: false, reason: 'StanzaCreateFailed', message: (err as Error).message, at };
    }
  }

  private async archiverStats(cluster: Stored<PostgresCluster>, primary: string): Promise<ArchiverStats> {
    const result = await this.exec(cluster, primary, [
      'psql',
      '-XAtq',
      '-d',
      'postgres',
      '-c',
      ARCHIVER_QUERY,
    ]);
    if (result.exitCode !== 0) throw new Error(`psql exit ${result.exitCode}: ${lastLines(result.stderr)}`);
    return parseArchiverStats(result.stdout);
  }
}
