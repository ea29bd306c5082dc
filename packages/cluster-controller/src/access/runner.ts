/**
 * Carries out decideApplicationAccess (application.ts): runs the SQL on the primary through the
 * pods/exec API (psql over the local socket as the superuser, which peer authentication allows
 * only there), then records the applied password on the Secret and rewrites its connection
 * strings. Runs when the Secret's password differs from the applied one: at creation, and after
 * someone changes it (a rotation); otherwise it does nothing and execs nothing.
 */
import { DATABASE_CONTAINER } from '@pgop/api';
import { execInPod, type EventRecorder, type ExecResult, type ObjectClient } from '@pgop/runtime';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { childNames, clusterEventTarget } from '../naming.js';
import { ownedBy, type ClusterObservation } from '../observe.js';
import { isPodReady } from '../patroni/member.js';
import { SOCKET_DIR } from '../instance-paths.js';
import type { Informer } from '@pgop/runtime';
import {
  applicationRoleStatements,
  APPLICATION_DATABASE,
  APPLICATION_USER,
  CREATE_APPLICATION_DATABASE,
  decideApplicationAccess,
  PASSWORD_APPLIED_ANNOTATION,
} from './application.js';
import { scramVerifier } from './scram.js';

const SQL_TIMEOUT_MS = 60_000;

/** psql statements, each on its own, in a pod's database container, as the superuser. */
export type RunSql = (namespace: string, pod: string, statements: string[]) => Promise<ExecResult>;

export function execSql(kubeConfig: KubeConfig): RunSql {
  return (namespace, pod, statements) =>
    execInPod(
      kubeConfig,
      { namespace, pod, container: DATABASE_CONTAINER },
      [
        'psql',
        '-h',
        SOCKET_DIR,
        '-d',
        'postgres',
        '-XAtq',
        '-v',
        'ON_ERROR_STOP=1',
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
  constructor(private readonly deps: AccessRunnerDeps) {}

  async ensureApplicationAccess(o: ClusterObservation): Promise<void> {
    const primary = o.pods.find((p) => p.metadata?.name === o.primary);
    if (!primary || !isPodReady(primary)) return;
    const secretName = childNames(o.name).applicationSecret;
    const secret = ownedBy(o.cluster, this.deps.secrets.get(secretName, o.namespace));
    const step = decideApplicationAccess(o.cluster, secret);
    const events = this.deps.events.about(clusterEventTarget(o.cluster));
    if (step.type === 'none') return;
    if (step.type === 'invalid') {
      await events('Warning', 'ApplicationPasswordInvalid', 'Reconcile', step.message);
      return;
    }
    const failed = async (what: string, result: ExecResult) => {
      const why = result.stderr.trim().split('\n').slice(-2).join(' ').slice(-400);
      await events('Warning', 'ApplicationRoleFailed', 'Reconcile', `${what} on ${o.primary} failed: ${why}`);
    };
    const role = await this.deps.runSql(
      o.namespace,
      o.primary!,
      applicationRoleStatements(scramVerifier(step.password)),
    );
    if (role.exitCode !== 0) return failed(`setting role ${APPLICATION_USER}`, role);
    if (role.stdout.trim().split('\n').at(-1) === '0') {
      const database = await this.deps.runSql(o.namespace, o.primary!, [CREATE_APPLICATION_DATABASE]);
      if (database.exitCode !== 0) return failed(`creating database ${APPLICATION_DATABASE}`, database);
    }
    await this.deps.client.mergePatch(
      { apiVersion: 'v1', kind: 'Secret', name: secretName, namespace: o.namespace },
      {
        metadata: { annotations: { [PASSWORD_APPLIED_ANNOTATION]: step.fingerprint } },
        stringData: step.data,
      },
    );
    this.deps.logger.info(
      step.rotation ? 'applied a changed application password' : 'application role ready',
      {
        key: o.key,
      },
    );
    await events(
      'Normal',
      step.rotation ? 'ApplicationPasswordRotated' : 'ApplicationRoleReady',
      'Reconcile',
      step.rotation
        ? `the new password in Secret ${secretName} is set on role ${APPLICATION_USER}; its connection strings are rewritten`
        : `role ${APPLICATION_USER} owns database ${APPLICATION_DATABASE}; connection details in Secret ${secretName}`,
    );
  }
}
