/**
 * Carries out spec.roles and spec.databases (declared.ts decides) on the primary, in the
 * background like the backup monitor: a reconcile starts a run when one is due and reads the
 * last outcome for status; a run that looked at the server enqueues the cluster.
 *
 * A run reads the password Secrets (generating the missing ones), and when something it applies
 * changed, or the last run failed, or the last look at the server is old (someone may have
 * altered a role by hand), reads the server's roles and databases in one query and runs only
 * the statements that differ, entry by entry: one entry refused does not hold up the others.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { DatabaseStatus, PostgresCluster, RoleStatus } from '@pgop/api';
import { secretData, type EventRecorder, type ObjectClient, type Stored } from '@pgop/runtime';
import type { Logger } from 'winston';
import { childMetadata, clusterEventTarget } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { isPodReady } from '../patroni/member.js';
import {
  accessInputKey,
  databaseMismatch,
  databaseProblem,
  databaseStep,
  defaultDatabaseOf,
  dropStep,
  extensionStep,
  managedNames,
  membershipStep,
  observeQuery,
  parseServerAccess,
  passwordSecretOf,
  readPassword,
  removedEntries,
  roleProblem,
  roleStep,
  type AccessOutcome,
  type AccessStep,
  type PasswordRead,
} from './declared.js';
import { lastLines } from '../exec-output.js';
import { connectionDetails } from './roles.js';
import type { RunSql } from './runner.js';
import { scramVerifier } from './scram.js';
import { generatePassword } from '../render/secrets.js';

/** How soon a failed entry is tried again, and user Secrets are read again for a changed password. */
export const RETRY_MS = 30_000;
/** How often the server is read even when nothing changed, to undo changes made by hand. */
export const DRIFT_CHECK_MS = 10 * 60_000;

interface AccessFacts {
  /** accessInputKey of the spec alone at the last run: a change starts a run at once. */
  specKey: string;
  /** accessInputKey of the last run that applied everything. */
  appliedKey?: string;
  /** When the server was last read, and when the Secrets were. */
  observedAt: number;
  checkedAt: number;
  failed: boolean;
  outcome: AccessOutcome;
}

export interface DeclaredAccessDeps {
  kubeConfig: KubeConfig;
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  runSql: RunSql;
  enqueue: (key: string) => void;
}

export class DeclaredAccessRunner {
  private readonly facts = new Map<string, AccessFacts>();
  private readonly running = new Set<string>();
  /** When a run last ended in an error (an exec that failed, an API error): retried after RETRY_MS. */
  private readonly erredAt = new Map<string, number>();
  private readonly core: CoreV1Api;

  constructor(private readonly deps: DeclaredAccessDeps) {
    this.core = deps.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The last run's outcome; undefined before the first (status then keeps what it said). */
  outcome(key: string): AccessOutcome | undefined {
    return this.facts.get(key)?.outcome;
  }

  forget(key: string): void {
    this.facts.delete(key);
    this.erredAt.delete(key);
  }

  /** Starts a run in the background when one is due and the primary can take SQL. */
  ensure(o: ClusterObservation): void {
    const { cluster } = o;
    const declared =
      (cluster.spec.roles?.length ?? 0) +
      (cluster.spec.databases?.length ?? 0) +
      (cluster.status?.roles?.length ?? 0) +
      (cluster.status?.databases?.length ?? 0);
    if (declared === 0) {
      this.facts.delete(o.key);
      return;
    }
    const primary = o.pods.find((p) => p.metadata?.name === o.primary);
    if (!primary || !isPodReady(primary) || this.running.has(o.key)) return;
    const facts = this.facts.get(o.key);
    const now = Date.now();
    const due = !facts || facts.specKey !== accessInputKey(cluster) || now - facts.checkedAt >= RETRY_MS;
    if (!due || now - (this.erredAt.get(o.key) ?? 0) < RETRY_MS) return;
    this.running.add(o.key);
    void this.run(o.key, cluster, o.primary!)
      .then(() => this.erredAt.delete(o.key))
      .catch((err: unknown) => {
        this.erredAt.set(o.key, Date.now());
        this.deps.logger.warn('applying roles and databases failed; retried in 30 s', {
          key: o.key,
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => this.running.delete(o.key));
  }

  private async run(key: string, cluster: Stored<PostgresCluster>, primary: string): Promise<void> {
    const previous = this.facts.get(key);
    const namespace = cluster.metadata.namespace;
    const passwords = await this.readPasswords(cluster);
    const versions = Object.fromEntries(
      [...passwords].map(([role, read]) => [role, read.ok ? read.version : read.reason]),
    );
    const inputKey = accessInputKey(cluster, versions);
    const now = Date.now();
    if (
      previous &&
      !previous.failed &&
      previous.appliedKey === inputKey &&
      now - previous.observedAt < DRIFT_CHECK_MS
    ) {
      this.facts.set(key, { ...previous, checkedAt: now, specKey: accessInputKey(cluster) });
      return;
    }

    const query = await this.deps.runSql(
      namespace,
      primary,
      [observeQuery(managedNames(cluster))],
      'postgres',
      false,
    );
    if (query.exitCode !== 0) throw new Error(`reading roles and databases: ${lastLines(query.stderr)}`);
    const server = parseServerAccess(query.stdout.trim().split('\n').at(-1) ?? '{}');
    const serverRole = (name: string) => server.roles.find((r) => r.name === name);
    const serverDatabase = (name: string) => server.databases.find((d) => d.name === name);
    // What the last run applied; status may not show it yet (its write is on the way).
    const appliedRoles = previous?.outcome.roles ?? cluster.status?.roles;
    const appliedDatabases = previous?.outcome.databases ?? cluster.status?.databases;
    const known = (name: string) => appliedRoles?.find((r) => r.name === name);
    /** Roles that exist once the role steps ran: memberships are granted to them. */
    const present = new Set(server.roles.map((r) => r.name));

    const failures = new Map<string, { reason: string; message: string }>();
    const fail = (kind: string, name: string, reason: string, message: string) =>
      failures.set(`${kind}/${name}`, { reason, message });
    const events = this.deps.events.about(clusterEventTarget(cluster));
    const apply = async (step: AccessStep): Promise<boolean> => {
      const result = await this.deps.runSql(
        namespace,
        primary,
        step.statements,
        step.database,
        step.sensitive ?? false,
      );
      if (result.exitCode === 0) return true;
      const message = lastLines(result.stderr);
      const reason = step.action === 'drop' ? 'DropRefused' : 'Refused';
      fail(step.kind, step.name, reason, `${step.action} ${step.kind} ${step.name}: ${message}`);
      return false;
    };

    const roles: RoleStatus[] = [];
    for (const role of cluster.spec.roles ?? []) {
      const secret = passwordSecretOf(cluster.metadata.name, role);
      const read = passwords.get(role.name);
      const status: RoleStatus = {
        name: role.name,
        state: 'Applied',
        reclaimPolicy: role.reclaimPolicy ?? 'Delete',
        ...(secret ? { secret: secret.name } : {}),
      };
      roles.push(status);
      const problem = roleProblem(role);
      if (problem) {
        fail('role', role.name, 'NotAllowed', problem);
        continue;
      }
      if (read && !read.ok) {
        fail('role', role.name, read.reason, read.message);
        if (known(role.name)?.passwordVersion) status.passwordVersion = known(role.name)!.passwordVersion!;
        // The role keeps its password until the Secret is fixed; the rest is applied.
      }
      const existing = serverRole(role.name);
      const passwordDue = read?.ok && (!existing || known(role.name)?.passwordVersion !== read.version);
      const step = roleStep(
        role,
        existing,
        passwordDue && read.ok ? scramVerifier(read.password) : undefined,
      );
      if (step && !(await apply(step))) continue;
      present.add(role.name);
      if (read?.ok) status.passwordVersion = read.version;
      if (step?.action === 'create')
        void events('Normal', 'RoleCreated', 'ApplyRoles', `created role ${role.name}`);
      else if (passwordDue && existing)
        void events(
          'Normal',
          'PasswordChanged',
          'ApplyRoles',
          `set the password of role ${role.name} from Secret ${secret!.name}`,
        );
    }
    // Memberships once every role exists: one may name another.
    for (const role of cluster.spec.roles ?? []) {
      if (!present.has(role.name) || roleProblem(role)) continue;
      const step = membershipStep(role, serverRole(role.name));
      if (step) await apply(step);
    }

    const databases: DatabaseStatus[] = [];
    for (const database of cluster.spec.databases ?? []) {
      databases.push({
        name: database.name,
        state: 'Applied',
        reclaimPolicy: database.reclaimPolicy ?? 'Retain',
      });
      const problem = databaseProblem(database);
      if (problem) {
        fail('database', database.name, 'NotAllowed', problem);
        continue;
      }
      if (database.owner !== 'app' && !present.has(database.owner)) {
        fail('database', database.name, 'OwnerNotReady', `its owner, role ${database.owner}, is not applied`);
        continue;
      }
      const existing = serverDatabase(database.name);
      const mismatch = existing && databaseMismatch(database, existing);
      if (mismatch) {
        fail('database', database.name, 'SettingFixedAtCreation', mismatch);
        continue;
      }
      const step = databaseStep(database, existing);
      if (step && !(await apply(step))) continue;
      if (step?.action === 'create')
        void events(
          'Normal',
          'DatabaseCreated',
          'ApplyDatabases',
          `created database ${database.name} owned by ${database.owner}`,
        );
      // Extensions when the database is new or what is applied changed (removed by hand: see docs/access.md).
      const extensions = extensionStep(database);
      if (extensions && (step?.action === 'create' || previous?.appliedKey !== inputKey))
        await apply(extensions);
    }

    // Removals last: a database goes before the role that owned it.
    for (const removed of removedEntries(appliedDatabases, cluster.spec.databases)) {
      if (removed.reclaimPolicy === 'Retain') continue;
      if (!serverDatabase(removed.name)) continue;
      if (await apply(dropStep('database', removed.name)))
        void events(
          'Normal',
          'DatabaseDropped',
          'ApplyDatabases',
          `dropped database ${removed.name} (reclaimPolicy Delete)`,
        );
      else databases.push({ ...removed, removed: true, state: 'Failed' });
    }
    for (const removed of removedEntries(appliedRoles, cluster.spec.roles)) {
      if (removed.reclaimPolicy === 'Retain' || !serverRole(removed.name)) continue;
      if (await apply(dropStep('role', removed.name)))
        void events(
          'Normal',
          'RoleDropped',
          'ApplyRoles',
          `dropped role ${removed.name} (reclaimPolicy Delete)`,
        );
      else roles.push({ ...removed, removed: true, state: 'Failed' });
    }

    const withFailures = <T extends RoleStatus | DatabaseStatus>(kind: string, entries: T[]): T[] =>
      entries.map((e) => {
        const failure = failures.get(`${kind}/${e.name}`);
        return failure ? { ...e, state: 'Failed', reason: failure.reason, message: failure.message } : e;
      });
    const outcome = { roles: withFailures('role', roles), databases: withFailures('database', databases) };
    this.warnNewFailures(cluster, previous?.outcome, outcome);
    this.facts.set(key, {
      ...(failures.size === 0
        ? { appliedKey: inputKey }
        : previous?.appliedKey
          ? { appliedKey: previous.appliedKey }
          : {}),
      observedAt: now,
      checkedAt: now,
      failed: failures.size > 0,
      outcome,
      specKey: accessInputKey(cluster),
    });
    // Always: status shows the outcome, and a spec change made during the run is looked at now.
    this.deps.enqueue(key);
  }

  /**
   * Each login role's password, from its Secret (read from the API: a user's Secret is not in
   * the controller's cache). A missing generated Secret is made first, with connection strings.
   */
  private async readPasswords(cluster: Stored<PostgresCluster>): Promise<Map<string, PasswordRead>> {
    const namespace = cluster.metadata.namespace;
    const passwords = new Map<string, PasswordRead>();
    for (const role of cluster.spec.roles ?? []) {
      const source = passwordSecretOf(cluster.metadata.name, role);
      if (!source) continue;
      let secret = await this.readSecret(source.name, namespace);
      if (!secret && source.generated) {
        const password = generatePassword();
        await this.deps.client.createIfAbsent<V1Secret>({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: childMetadata(cluster, source.name, 'credentials'),
          type: 'Opaque',
          stringData: connectionDetails(cluster, role.name, password, defaultDatabaseOf(cluster, role.name)),
        });
        secret = await this.readSecret(source.name, namespace);
      }
      if (
        secret &&
        source.generated &&
        !secret.metadata?.ownerReferences?.some((r) => r.uid === cluster.metadata.uid)
      ) {
        passwords.set(role.name, {
          ok: false,
          reason: 'PasswordSecretMissing',
          message: `Secret ${source.name} exists but pgop did not make it for this cluster: name it in passwordSecret, or delete it`,
        });
        continue;
      }
      if (secret && source.generated) secret = await this.followPassword(cluster, role.name, secret);
      passwords.set(
        role.name,
        readPassword(cluster, source.name, secret && secretData(secret), secret?.metadata?.resourceVersion),
      );
    }
    return passwords;
  }

  /**
   * A generated Secret's connection strings follow its password (someone changed it: a
   * rotation) and the database the role owns; returns the Secret as it is afterwards.
   */
  private async followPassword(cluster: Stored<PostgresCluster>, role: string, secret: V1Secret) {
    const data = secretData(secret);
    const read = readPassword(cluster, secret.metadata!.name!, data, secret.metadata?.resourceVersion);
    if (!read.ok) return secret;
    const wanted = connectionDetails(cluster, role, read.password, defaultDatabaseOf(cluster, role));
    if (Object.entries(wanted).every(([k, v]) => data[k] === v)) return secret;
    await this.deps.client.mergePatch(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        name: secret.metadata!.name!,
        namespace: cluster.metadata.namespace,
      },
      { stringData: wanted },
    );
    return (await this.readSecret(secret.metadata!.name!, cluster.metadata.namespace)) ?? secret;
  }

  private async readSecret(name: string, namespace: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** A Warning event for each entry that failed now and had not failed so before. */
  private warnNewFailures(
    cluster: PostgresCluster,
    before: AccessOutcome | undefined,
    now: AccessOutcome,
  ): void {
    const events = this.deps.events.about(clusterEventTarget(cluster));
    const report = (
      kind: 'Role' | 'Database',
      entries: (RoleStatus | DatabaseStatus)[],
      was: (RoleStatus | DatabaseStatus)[] | undefined,
    ) => {
      for (const e of entries) {
        if (e.state !== 'Failed') continue;
        const old = was?.find((w) => w.name === e.name);
        if (old?.state === 'Failed' && old.message === e.message) continue;
        void events('Warning', `${kind}NotApplied`, `Apply${kind}s`, e.message ?? e.reason ?? 'failed');
      }
    };
    report('Role', now.roles, before?.roles ?? cluster.status?.roles);
    report('Database', now.databases, before?.databases ?? cluster.status?.databases);
  }
}
