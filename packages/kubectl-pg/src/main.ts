/**
 * kubectl pg (docs/kubectl-plugin.md): each command reads or writes pgop's objects through
 * kubectl; what it shows and writes is decided by the pure modules beside this one.
 * Exit codes: 0 done, 1 failed (the message says why), 2 wrong usage.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import {
  BACKUP_TRIGGER_ANNOTATION,
  DATABASE_CONTAINER,
  PAUSED_ANNOTATION,
  ROLE_LABEL,
  ROLES,
  SWITCHOVER_ANNOTATION,
  SWITCHOVER_TARGET_ANNOTATION,
  type PostgresBackup,
  type PostgresCluster,
} from '@pgop/api';
import { clusterArgument, parseCommandLine, usage, UsageError, type Flags } from './args.js';
import { complete } from './complete.js';
import { CommandError, Kubectl } from './kubectl.js';
import { writeReport } from './report.js';
import { restoreObject } from './restore.js';
import {
  clusterReport,
  fleetRows,
  instanceSelector,
  renderClusterReport,
  renderFleet,
  type Pod,
} from './status.js';

/** Where PostgreSQL's socket is in an instance pod (the cluster controller's instance-paths.ts). */
const SOCKET_DIR = '/var/run/postgresql';

/** Prints structured data as -o asks, else the text. */
function print(flags: Flags, data: unknown, text: () => string): void {
  if (flags.output === 'json') console.log(JSON.stringify(data, null, 2));
  else if (flags.output === 'yaml') process.stdout.write(stringify(data));
  else console.log(text());
}

async function waitFor<T>(what: string, seconds: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new CommandError(`timed out after ${seconds} s waiting for ${what}`);
    await sleep(1000);
  }
}

const getCluster = (k: Kubectl, name: string) => k.json<PostgresCluster>(['get', 'postgrescluster', name]);

function status(k: Kubectl, flags: Flags, positionals: string[]): void {
  const [name] = positionals;
  if (!name || flags['all-namespaces']) {
    const all = flags['all-namespaces'] ?? false;
    const rows = fleetRows(
      k.list<PostgresCluster>('postgresclusters', { allNamespaces: all }),
      k.list<PostgresBackup>('postgresbackups', { allNamespaces: all }),
    );
    print(flags, rows, () => renderFleet(rows, new Date()));
    return;
  }
  const report = clusterReport(
    getCluster(k, name),
    k.list<Pod>('pods', { selector: instanceSelector(name) }),
    k.list<PostgresBackup>('postgresbackups'),
  );
  print(flags, report, () => renderClusterReport(report, new Date()));
}

async function switchover(k: Kubectl, flags: Flags, positionals: string[]): Promise<void> {
  const name = clusterArgument('switchover', positionals);
  const request = new Date().toISOString();
  k.run([
    'annotate',
    'postgrescluster',
    name,
    '--overwrite',
    `${SWITCHOVER_ANNOTATION}=${request}`,
    flags.to ? `${SWITCHOVER_TARGET_ANNOTATION}=${flags.to}` : `${SWITCHOVER_TARGET_ANNOTATION}-`,
  ]);
  if (!flags.wait) return console.log(`switchover of ${name} requested (${request})`);
  const done = await waitFor(`the switchover of ${name}`, 180, () => {
    const s = getCluster(k, name).status?.lastSwitchover;
    return s?.request === request && s.phase !== 'InProgress' ? s : undefined;
  });
  if (done.phase === 'Failed') throw new CommandError(`switchover of ${name} failed: ${done.message ?? ''}`);
  console.log(`switched over ${name}: ${done.from} -> ${done.to}`);
}

async function backup(k: Kubectl, flags: Flags, positionals: string[]): Promise<void> {
  const name = clusterArgument('backup', positionals);
  const own = k.list<PostgresBackup>('postgresbackups').filter((b) => b.spec.clusterName === name);
  const chosen = flags.backup
    ? own.find((b) => b.metadata.name === flags.backup)
    : own.length === 1
      ? own[0]
      : undefined;
  if (!chosen)
    throw new CommandError(
      own.length === 0
        ? `no PostgresBackup names cluster ${name}: create one (docs/backup.md)`
        : `${flags.backup ? `no PostgresBackup ${flags.backup} names cluster ${name}` : `cluster ${name} has several PostgresBackups`}: choose with --backup, one of ${own.map((b) => b.metadata.name).join(', ')}`,
    );
  const value = new Date().toISOString();
  k.run([
    'annotate',
    'postgresbackup',
    chosen.metadata.name!,
    '--overwrite',
    `${BACKUP_TRIGGER_ANNOTATION}=${value}`,
  ]);
  if (!flags.wait)
    return console.log(
      `backup of ${name} requested through PostgresBackup ${chosen.metadata.name} (${value})`,
    );
  const run = await waitFor(`the backup of ${name}`, 3600, () => {
    const t = k.json<PostgresBackup>(['get', 'postgresbackup', chosen.metadata.name!]).status?.lastTrigger;
    return t?.value === value && t.phase !== 'Running' ? t : undefined;
  });
  if (run.phase === 'Failed') throw new CommandError(`backup of ${name} failed: ${run.message ?? ''}`);
  print(flags, run, () => `backup ${run.backup ?? ''} of ${name} done`);
}

function restore(k: Kubectl, flags: Flags): void {
  const source =
    flags.from && flags.to
      ? k.list<PostgresCluster>('postgresclusters').find((c) => c.metadata.name === flags.from)
      : undefined;
  const object = restoreObject(flags, source, new Date());
  if (flags['dry-run']) return print({ ...flags, output: flags.output ?? 'yaml' }, object, () => '');
  k.run(['create', '-f', '-'], JSON.stringify(object));
  print(
    flags,
    object,
    () => `PostgresRestore ${object.metadata.name} created: kubectl get pgrestore ${object.metadata.name} -w`,
  );
}

/** The pod psql runs in: the primary, or a ready replica with --replica. */
function sqlPod(k: Kubectl, name: string, replica: boolean): string {
  const cluster = getCluster(k, name);
  if (!replica) {
    if (!cluster.status?.primaryPod) throw new CommandError(`cluster ${name} has no primary yet`);
    return cluster.status.primaryPod;
  }
  const pods = k.list<Pod>('pods', {
    selector: `${instanceSelector(name)},${ROLE_LABEL}=${ROLES.replica}`,
  });
  const ready = pods.find((p) =>
    (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (!ready) throw new CommandError(`cluster ${name} has no ready replica`);
  return ready.metadata.name;
}

/**
 * As the application role: its password goes into a passfile in the pod through exec's stdin (never
 * on a command line, which the API server's audit log records), which psql reads and the shell
 * removes when psql ends. As the superuser (--superuser): over the local socket, no password.
 */
function psql(k: Kubectl, flags: Flags, positionals: string[], psqlArgs: string[]): number {
  const name = clusterArgument('psql', positionals);
  const pod = sqlPod(k, name, flags.replica ?? false);
  const tty = process.stdin.isTTY ? ['-it'] : ['-i'];
  const inDatabase = (...command: string[]) =>
    k.interactive(['exec', ...tty, pod, '-c', DATABASE_CONTAINER, '--', ...command]);
  if (flags.superuser) return inDatabase('psql', '-h', SOCKET_DIR, '-d', 'postgres', ...psqlArgs);
  const secret = k.json<{ data: Record<string, string> }>(['get', 'secret', `${name}-app`]).data;
  const field = (key: string) => Buffer.from(secret[key] ?? '', 'base64').toString('utf8');
  const escape = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  const passfile = `/tmp/pgop-psql-${randomBytes(6).toString('hex')}`;
  k.run(
    ['exec', '-i', pod, '-c', DATABASE_CONTAINER, '--', 'sh', '-c', `umask 077 && cat > ${passfile}`],
    `localhost:*:*:${escape(field('username'))}:${escape(field('password'))}\n`,
  );
  const conninfo = `host=localhost dbname=${field('dbname')} user=${field('username')} sslmode=require`;
  const script = `PGPASSFILE=${passfile} psql "$0" "$@"; rc=$?; rm -f ${passfile}; exit $rc`;
  return inDatabase('sh', '-c', script, conninfo, ...psqlArgs);
}

function logs(k: Kubectl, flags: Flags, positionals: string[]): number {
  const name = clusterArgument('logs', positionals);
  const which = flags.pod
    ? [flags.pod]
    : ['-l', instanceSelector(name), '--prefix', '--max-log-requests', '20'];
  return k.interactive([
    'logs',
    ...which,
    '-c',
    DATABASE_CONTAINER,
    '--tail',
    flags.tail ?? '100',
    ...(flags.follow ? ['--follow'] : []),
    ...(flags.previous ? ['--previous'] : []),
  ]);
}

function pause(k: Kubectl, positionals: string[], paused: boolean): void {
  const name = clusterArgument(paused ? 'pause' : 'resume', positionals);
  k.run([
    'annotate',
    'postgrescluster',
    name,
    '--overwrite',
    paused ? `${PAUSED_ANNOTATION}=true` : `${PAUSED_ANNOTATION}-`,
  ]);
  console.log(
    paused ? `${name} paused: pgop leaves it as it is until kubectl pg resume ${name}` : `${name} resumed`,
  );
}

function report(k: Kubectl, flags: Flags, positionals: string[]): void {
  const name = clusterArgument('report', positionals);
  getCluster(k, name); // fails clearly when there is no such cluster
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const dir = `${flags['output-dir'] ?? '.'}/pgop-report-${k.namespace()}-${name}-${stamp}`;
  const written = writeReport(k, name, dir);
  console.log(`support bundle of ${name}: ${written.archive ?? written.dir}`);
}

async function main(argv: string[]): Promise<number> {
  const { command, positionals, flags, passThrough } = parseCommandLine(argv);
  const k = new Kubectl({
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
  });
  if (command === '__complete') {
    const clusters = () => {
      try {
        return k.list<PostgresCluster>('postgresclusters').map((c) => c.metadata.name!);
      } catch {
        return [];
      }
    };
    console.log(complete(argv.slice(1), clusters).join('\n'));
    return 0;
  }
  if (!command || flags.help) {
    console.log(usage());
    return command || flags.help ? 0 : 2;
  }
  switch (command) {
    case 'status':
      status(k, flags, positionals);
      return 0;
    case 'switchover':
      await switchover(k, flags, positionals);
      return 0;
    case 'backup':
      await backup(k, flags, positionals);
      return 0;
    case 'restore':
      restore(k, flags);
      return 0;
    case 'psql':
      return psql(k, flags, positionals, passThrough);
    case 'logs':
      return logs(k, flags, positionals);
    case 'pause':
    case 'resume':
      pause(k, positionals, command === 'pause');
      return 0;
    case 'report':
      report(k, flags, positionals);
      return 0;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`error: ${err.message}\n\n${usage()}`);
    process.exitCode = 2;
  } else if (err instanceof CommandError) {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  } else throw err;
}
