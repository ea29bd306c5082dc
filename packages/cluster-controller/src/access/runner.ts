/**
 * Carries out decideRole (roles.ts) for each managed role: runs the SQL on the primary through
 * the pods/exec API (psql over the local socket as the superuser, which peer authentication
 * allows only there), then records the applied password on the Secret (and rewrites the
 * application Secret's connection strings). Runs when a Secret's password differs from the
 * applied one: at creation, and after someone changes it (a rotation); otherwise it execs nothing.
 */
import { DATABASE_CONTAINER } from '@pgop/api';
import {
  execInPod,
  type EventRecorder,
  type ExecResult,
  type Informer,
  type ObjectClient,
} from '@pgop/runtime';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { clusterEventTarget } from '../naming.js';
import { ownedBy, type ClusterObservation } from '../observe.js';
import { isPodReady } from '../patroni/member.js';
import { SOCKET_DIR } from '../instance-paths.js';
import {
  createDatabaseStatement,
  decideRole,
  managedRoles,
  PASSWORD_APPLIED_ANNOTATION,
  roleStatements,
  type ManagedRole,
} from './roles.js';
import { scramVerifier } from './scram.js';

const SQL_TIMEOUT_MS = 60_000;

/**
 * psql statements, each on its own (autocommit; the first error stops the rest), in a pod's
 * database container, as the superuser, in a database (default postgres). Sensitive statements
 * (a password verifier) get terse errors, which never quote the statement.
 */
export type RunSql = (
  namespace: string,
  pod: string,
  statements: string[],
  database?: string,
  sensitive?: boolean,
) => Promise<ExecResult>;

export function execSql(kubeConfig: KubeConfig): RunSql {
  return (namespace, pod, statements, database = 'postgres', sensitive = true) =>
    execInPod(
      kubeConfig,
      { namespace, pod, container: DATABASE_CONTAINER },
      [
        'psql',
        '-h',
        SOCKET_DIR,
        '-d',
        database,
        '-XAtq',
        '-v',
        'ON_ERROR_STOP=1',
        '-v',
        `VERBOSITY=${sensitive ? 'terse' : 'default'}`,
        ...statements.flatMap((s) => ['-c', s]),
      ],
      { timeoutMs: SQL_TIMEOUT_MS },
    );
}

export interface AccessRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  secrets: Informer<V1Secret>;
  runSql: RunSql;
}

export class AccessRunner {
  /** Clusters whose roles are being applied now: one run at a time each. */
  private readonly running = new Set<string>();

  constructor(private readonly deps: AccessRunnerDeps) {}

  /**
   * Starts applying the roles whose Secrets changed, in the background: an exec can take long
   * (a pod whose node is gone answers after the exec's time limit), and a reconcile must not
   * wait for it. The Secret's annotation, written when done, brings the cluster back.
   */
  ensureRoles(o: ClusterObservation): void {
    const primary = o.pods.find((p) => p.metadata?.name === o.primary);
    if (!primary || !isPodReady(primary) || this.running.has(o.key)) return;
    const due = managedRoles(o.name).filter(
      (role) =>
        decideRole(o.cluster, role, ownedBy(o.cluster, this.deps.secrets.get(role.secretName, o.namespace)))
          .type !== 'none',
    );
    if (due.length === 0) return;
    this.running.add(o.key);
    void (async () => {
      for (const role of due) await this.ensureRole(o, role);
    })()
      .catch((err: unknown) =>
        this.deps.logger.warn('applying roles failed; retried on the next reconcile', {
          key: o.key,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => this.running.delete(o.key));
  }

  private async ensureRole(o: ClusterObservation, role: ManagedRole): Promise<void> {
    // Read again: the Secret may have changed since the run started.
    const secret = ownedBy(o.cluster, this.deps.secrets.get(role.secretName, o.namespace));
    const step = decideRole(o.cluster, role, secret);
    const events = this.deps.events.about(clusterEventTarget(o.cluster));
    if (step.type === 'none') return;
    if (step.type === 'invalid') {
      await events('Warning', 'PasswordInvalid', 'Reconcile', step.message);
      return;
    }
    const failed = async (what: string, result: ExecResult) => {
      const why = result.stderr.trim().split('\n').slice(-2).join(' ').slice(-400);
      await events('Warning', 'RoleNotApplied', 'Reconcile', `${what} on ${o.primary} failed: ${why}`);
    };
    const result = await this.deps.runSql(
      o.namespace,
      o.primary!,
      roleStatements(role, scramVerifier(step.password)),
    );
    if (result.exitCode !== 0) return failed(`setting role ${role.user}`, result);
    if (role.database && result.stdout.trim().split('\n').at(-1) === '0') {
      const database = await this.deps.runSql(o.namespace, o.primary!, [createDatabaseStatement(role)]);
      if (database.exitCode !== 0) return failed(`creating database ${role.database}`, database);
    }
    await this.deps.client.mergePatch(
      { apiVersion: 'v1', kind: 'Secret', name: role.secretName, namespace: o.namespace },
      {
        metadata: { annotations: { [PASSWORD_APPLIED_ANNOTATION]: step.fingerprint } },
        ...(Object.keys(step.data).length > 0 ? { stringData: step.data } : {}),
      },
    );
    this.deps.logger.info(step.rotation ? 'applied a changed password' : 'role ready', {
      key: o.key,
      role: role.user,
    });
    if (step.rotation)
      await events(
        'Normal',
        'PasswordRotated',
        'Reconcile',
        `the password in Secret ${role.secretName} (changed, or the data restored in place) is set on role ${role.user}${role.connectionDetails ? '; its connection strings are rewritten' : ''}`,
      );
    else if (role.database)
      await events(
        'Normal',
        'ApplicationRoleReady',
        'Reconcile',
        `role ${role.user} owns database ${role.database}; connection details in Secret ${role.secretName}`,
      );
  }
}
