/**
 * Carries out spec.pooler: issues the pooler's certificates (certificates.ts), makes the role
 * PgBouncer looks passwords up as (access/pooler-role.ts), removes the pooler objects that are
 * no longer asked for, and pauses and resumes PgBouncer around the switchovers pgop makes
 * (ha/runner.ts), through its admin console on the pod's socket. The decisions are in config.ts,
 * certificates.ts and pods.ts; this is the thin half that talks to the API and the pods.
 */
import type { V1Secret, V1Service } from '@kubernetes/client-node';
import { POOLER_ROLE, type PostgresCluster } from '@pgop/api';
import {
  secretData,
  type EventRecorder,
  type ExecResult,
  type Informer,
  type ObjectClient,
} from '@pgop/runtime';
import type { Logger } from 'winston';
import { POOLER_ROLE_STATEMENTS } from '../access/pooler-role.js';
import type { RunSql } from '../access/runner.js';
import { lastLines } from '../exec-output.js';
import { POSTGRES_PORT } from '../instance-paths.js';
import {
  childMetadata,
  childNames,
  clusterEventTarget,
  POOLER_COMPONENTS,
  type PoolerKind,
} from '../naming.js';
import { ownedBy, type ClusterObservation } from '../observe.js';
import { isPodReady } from '../patroni/member.js';
import { contentHash } from '../render/statefulset.js';
import { saveCertificates } from '../tls/runner.js';
import { keptCertificateAuthority } from '../tls/cluster-certificates.js';
import { issuePoolerCertificates, poolerCertificatesDue } from './certificates.js';
import { POOLER_ADMIN_USER, POOLER_PATHS, POOLER_PORT, POOLER_TLS_FILES, poolerTlsFile } from './config.js';
import { POOLER_READY, readyPoolerPods, unwantedPoolerKinds } from './pods.js';

/** A command in a pooler pod's pgbouncer container, with a time limit (pods/exec). */
export type ExecInPooler = (
  namespace: string,
  pod: string,
  command: string[],
  timeoutMs: number,
) => Promise<ExecResult>;

const POOLER_KINDS: readonly PoolerKind[] = ['readWrite', 'readOnly'];

/** How long PAUSE may wait for the transactions in flight to end before pgop goes on without it. */
const PAUSE_TIMEOUT_MS = 15_000;
/** How long the pooler stays paused at most for the primary Service to lead to the new primary. */
const PRIMARY_WAIT_SECONDS = 20;
/** Answers from a primary in a row that count as the primary Service leading to it. */
const PRIMARY_CHECKS = 3;

export interface PoolerRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  secrets: Informer<V1Secret>;
  /** A pooler kind exists while its Service does (removeUnused). */
  services: Informer<V1Service>;
  runSql: RunSql;
  /** Absent in tests without pods to exec in: then nothing is paused. */
  exec?: ExecInPooler;
  /** The PgBouncer image (Helm value poolerImage); without one spec.pooler waits. */
  image?: string;
}

export class PoolerRunner {
  /** Where the auth role was made (cluster uid and data generation) in this process. */
  private readonly authRoleMade = new Set<string>();
  private readonly makingAuthRole = new Set<string>();
  /** Clusters whose pooler is being reconnected after a failover. */
  private readonly reconnecting = new Set<string>();

  constructor(private readonly deps: PoolerRunnerDeps) {}

  /**
   * The inputs render/pooler.ts needs, once they are at hand: the image and the certificates,
   * issued from the cluster's CA when missing or due. Undefined without spec.pooler, and while
   * waiting (an event says why).
   */
  async prepare(o: ClusterObservation): Promise<{ image: string; certificateHash: string } | undefined> {
    if (!o.cluster.spec.pooler) return undefined;
    if (!this.deps.image) {
      await this.events(o)(
        'Warning',
        'PoolerImageMissing',
        'Reconcile',
        'spec.pooler is set but the operator has no PgBouncer image (Helm value poolerImage): the pooler is not created',
      );
      return undefined;
    }
    const names = childNames(o.name);
    const clusterTls = this.deps.secrets.get(names.tlsSecret, o.namespace);
    const ca = clusterTls ? keptCertificateAuthority(secretData(clusterTls)) : undefined;
    if (!ca) return undefined; // issued by tls/runner.ts first
    const existing = this.deps.secrets.get(names.poolerTlsSecret, o.namespace);
    let data = existing ? secretData(existing) : undefined;
    if (poolerCertificatesDue(data, ca.certificate, new Date())) {
      data = await issuePoolerCertificates(ca, o.name, o.namespace);
      const rendered: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: childMetadata(o.cluster, names.poolerTlsSecret, POOLER_COMPONENTS.readWrite),
        type: 'Opaque',
        stringData: data,
      };
      const saved = await saveCertificates(this.deps, o, existing, rendered, {
        what: 'pooler certificates',
        reason: existing ? 'renewed' : 'issued',
        afterwards: 'the pooler pods roll to read them',
      });
      if (!saved) return undefined;
    }
    return {
      image: this.deps.image,
      certificateHash: contentHash(
        `${data![POOLER_TLS_FILES.certificate]}${data![POOLER_TLS_FILES.authCertificate]}`,
      ),
    };
  }

  /**
   * Whether the lookup role exists: made by this process, or reported ready before (the role
   * lives in the data; a restart of the operator must not flip the condition).
   */
  lookupRoleReady(o: ClusterObservation): boolean {
    return (
      this.authRoleMade.has(authRoleKey(o)) ||
      !!o.cluster.status?.conditions?.some((c) => c.type === POOLER_READY && c.status === 'True')
    );
  }

  /**
   * Makes the role and lookup function PgBouncer needs, in the background, once per process and
   * data (an in-place restore brings back the server as it was at the backup).
   */
  ensureAuthRole(o: ClusterObservation): void {
    if (!o.cluster.spec.pooler) return;
    const key = authRoleKey(o);
    const primary = o.pods.find((p) => p.metadata?.name === o.primary);
    if (this.authRoleMade.has(key) || this.makingAuthRole.has(key) || !primary || !isPodReady(primary))
      return;
    this.makingAuthRole.add(key);
    void this.deps
      .runSql(o.namespace, o.primary!, POOLER_ROLE_STATEMENTS, 'postgres', false)
      .then(async (result) => {
        if (result.exitCode === 0) {
          this.authRoleMade.add(key);
          this.deps.logger.info('pooler role ready', { key: o.key, role: POOLER_ROLE });
          return;
        }
        await this.events(o)(
          'Warning',
          'PoolerRoleNotApplied',
          'Reconcile',
          `making role ${POOLER_ROLE} and its lookup function on ${o.primary} failed: ${lastLines(result.stderr)}`,
        );
      })
      .catch((err: unknown) =>
        this.deps.logger.warn('making the pooler role failed; retried on the next reconcile', {
          key: o.key,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => this.makingAuthRole.delete(key));
  }

  /** Deletes the Deployment, Service and PodDisruptionBudget of each kind no longer asked for. */
  async removeUnused(o: ClusterObservation): Promise<boolean> {
    const names = childNames(o.name);
    const existing = POOLER_KINDS.filter((kind) =>
      ownedBy(o.cluster, this.deps.services.get(names.pooler[kind], o.namespace)),
    );
    const kinds = unwantedPoolerKinds(o.cluster, existing);
    for (const kind of kinds) {
      const name = names.pooler[kind];
      const at = { name, namespace: o.namespace };
      await this.deps.client.delete({ apiVersion: 'apps/v1', kind: 'Deployment', ...at });
      await this.deps.client.delete({ apiVersion: 'v1', kind: 'Service', ...at });
      await this.deps.client.delete({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', ...at });
      this.deps.logger.info('removed a pooler', { key: o.key, name });
    }
    if (kinds.length > 0 && !o.cluster.spec.pooler)
      await this.deps.client.delete({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: names.poolerConfigMap,
        namespace: o.namespace,
      });
    return kinds.length > 0;
  }

  /**
   * PAUSE on every ready read-write pooler pod: each waits for its transactions in flight to
   * end, closes its server connections and holds new queries. The pods that did not pause in
   * time are resumed at once (their clients may then see the switchover); the paused ones are
   * returned, for resume().
   */
  async pause(o: ClusterObservation): Promise<string[]> {
    // In session mode PAUSE waits for every client to disconnect: nothing to gain but a delay.
    if (!o.cluster.spec.pooler || o.cluster.spec.pooler.poolMode === 'session' || !this.deps.exec) return [];
    const pods = readyPoolerPods(o.name, o.poolerPods, 'readWrite');
    const results = await Promise.all(pods.map((pod) => this.console(o, pod, 'PAUSE', PAUSE_TIMEOUT_MS)));
    const failed = pods.filter((_, i) => results[i]!.exitCode !== 0);
    if (failed.length > 0) {
      await Promise.all(failed.map((pod) => this.console(o, pod, 'RESUME', PAUSE_TIMEOUT_MS)));
      await this.events(o)(
        'Warning',
        'PoolerNotPaused',
        'Switchover',
        `${failed.join(', ')} did not pause within ${PAUSE_TIMEOUT_MS / 1000} s (a long transaction, or the pod does not answer): the switchover goes on, and their clients may see it (${lastLines(results[pods.indexOf(failed[0]!)]!.stderr)})`,
      );
    }
    const paused = pods.filter((pod) => !failed.includes(pod));
    if (paused.length > 0) this.deps.logger.info('pooler paused', { key: o.key, pods: paused });
    return paused;
  }

  /**
   * Once the primary Service leads to a primary again as seen from each paused pod (a pod's node
   * may route to the old one for a moment), RESUME: the held queries run on the new primary.
   * Resumes after PRIMARY_WAIT_SECONDS regardless: clients wait no longer than that.
   */
  async resume(o: ClusterObservation, pods: string[]): Promise<void> {
    await Promise.all(
      pods.map(async (pod) => {
        const reached = await this.awaitPrimary(o, pod);
        const resumed = await this.console(o, pod, 'RESUME', PAUSE_TIMEOUT_MS);
        // Not paused (its pod restarted, or an earlier attempt resumed it): nothing to do.
        if (resumed.exitCode !== 0 && !/not paused/i.test(resumed.stderr))
          await this.events(o)(
            'Warning',
            'PoolerNotResumed',
            'Switchover',
            `RESUME on ${pod} failed: ${lastLines(resumed.stderr)}`,
          );
        if (reached.exitCode !== 0)
          this.deps.logger.warn('resumed the pooler before it reached the new primary', { key: o.key, pod });
      }),
    );
    if (pods.length > 0) this.deps.logger.info('pooler resumed', { key: o.key, pods });
  }

  /**
   * After a failover (a change of primary pgop did not make, so the pooler was not paused):
   * RECONNECT on every pooler pod, once the read-write ones reach the new primary, so that no
   * server connection made during the change, through the Service to the old primary restarted
   * as a replica, stays in a pool refusing every write. In the background, once per change.
   */
  reconnectAfterFailover(o: ClusterObservation): void {
    if (!o.cluster.spec.pooler || !this.deps.exec || this.reconnecting.has(o.key)) return;
    this.reconnecting.add(o.key);
    const readWrite = readyPoolerPods(o.name, o.poolerPods, 'readWrite');
    const readOnly = readyPoolerPods(o.name, o.poolerPods, 'readOnly');
    void Promise.all([
      ...readWrite.map(async (pod) => {
        await this.awaitPrimary(o, pod);
        return this.console(o, pod, 'RECONNECT', PAUSE_TIMEOUT_MS);
      }),
      ...readOnly.map((pod) => this.console(o, pod, 'RECONNECT', PAUSE_TIMEOUT_MS)),
    ])
      .then((results) => {
        const failed = [...readWrite, ...readOnly].filter((_, i) => results[i]!.exitCode !== 0);
        if (failed.length > 0)
          this.deps.logger.warn('RECONNECT failed on pooler pods after a failover', {
            key: o.key,
            pods: failed,
          });
        else this.deps.logger.info('pooler reconnected after a failover', { key: o.key });
      })
      .catch((err: unknown) =>
        this.deps.logger.warn('reconnecting the pooler after a failover failed', {
          key: o.key,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => this.reconnecting.delete(o.key));
  }

  /** Every ready read-write pooler pod resumed: after an operator restart between the two. */
  async resumeAll(o: ClusterObservation): Promise<void> {
    if (o.cluster.spec.pooler && this.deps.exec)
      await this.resume(o, readyPoolerPods(o.name, o.poolerPods, 'readWrite'));
  }

  /** A command in PgBouncer's admin console over the pod's socket. */
  private console(o: ClusterObservation, pod: string, command: string, timeoutMs: number) {
    return this.run(
      o,
      pod,
      [
        'psql',
        '-h',
        POOLER_PATHS.socketDir,
        '-p',
        String(POOLER_PORT),
        '-U',
        POOLER_ADMIN_USER,
        '-d',
        'pgbouncer',
        '-XAtq',
        '-c',
        command,
      ],
      timeoutMs,
    );
  }

  private awaitPrimary(o: ClusterObservation, pod: string) {
    return this.run(o, pod, awaitPrimaryScript(o.cluster), (PRIMARY_WAIT_SECONDS + 5) * 1000);
  }

  /**
   * Never throws: a pod that cannot be reached (gone, its node lost) is a failed command, so a
   * pause is always followed by the resumes of the pods that did pause.
   */
  private async run(
    o: ClusterObservation,
    pod: string,
    command: string[],
    timeoutMs: number,
  ): Promise<ExecResult> {
    try {
      return await this.deps.exec!(o.namespace, pod, command, timeoutMs);
    } catch (err) {
      return { exitCode: 126, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
    }
  }

  private events(o: ClusterObservation) {
    return this.deps.events.about(clusterEventTarget(o.cluster));
  }
}

/** The cluster and the generation of its data (an in-place restore brings back older roles). */
const authRoleKey = (o: ClusterObservation) =>
  `${o.cluster.metadata.uid}/${o.cluster.status?.restore?.requestId ?? ''}`;

/**
 * A shell loop in the pooler pod: connects through the primary Service as pgop_pooler (its
 * certificate) until the server there is a primary PRIMARY_CHECKS times in a row (each a new
 * connection, which the Service may send to any pod it still lists), for up to
 * PRIMARY_WAIT_SECONDS.
 */
function awaitPrimaryScript(cluster: PostgresCluster): string[] {
  const host = `${childNames(cluster.metadata.name!).primaryService}.${cluster.metadata.namespace}.svc`;
  const conninfo = [
    `host=${host}`,
    `port=${POSTGRES_PORT}`,
    'dbname=postgres',
    `user=${POOLER_ROLE}`,
    'sslmode=verify-full',
    `sslrootcert=${poolerTlsFile('trustedCa')}`,
    `sslcert=${poolerTlsFile('authCertificate')}`,
    `sslkey=${poolerTlsFile('authKey')}`,
    'connect_timeout=2',
  ].join(' ');
  const tries = PRIMARY_WAIT_SECONDS * 4;
  return [
    'sh',
    '-c',
    `i=0; ok=0; while [ $i -lt ${tries} ]; do if [ "$(psql "${conninfo}" -XAtqc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; then ok=$((ok+1)); [ $ok -ge ${PRIMARY_CHECKS} ] && exit 0; else ok=0; fi; i=$((i+1)); sleep 0.25; done; exit 1`,
  ];
}
