/**
 * The command line: `kubectl pg COMMAND [ARGS] [FLAGS] [-- PSQL ARGS]`, with kubectl's own
 * conventions for the flags every plugin shares (--namespace/-n, --context, --kubeconfig,
 * --output/-o, --all-namespaces/-A). Pure.
 */
import { parseArgs } from 'node:util';

export const COMMANDS = {
  status: 'one cluster in detail, or the fleet with -A (or no cluster named)',
  switchover: 'ask for a planned switchover (--to POD picks the new primary; --wait)',
  backup: "take a backup now with the cluster's PostgresBackup (--backup NAME if it has several; --wait)",
  restore:
    'write a PostgresRestore: --from CLUSTER, --to NEW-CLUSTER or --in-place --confirm CLUSTER, --time or --backup-label',
  psql: 'psql on the primary (--replica: a replica) as the application role (--superuser: as postgres)',
  logs: "the instances' PostgreSQL and Patroni logs (--pod, -f, --tail N, --previous)",
  pause: 'stop reconciling the cluster (its pods keep running)',
  resume: 'reconcile the cluster again',
  report: 'write a support bundle: objects, events and logs, every secret value redacted (--output-dir DIR)',
} as const;
export type Command = keyof typeof COMMANDS;

export class UsageError extends Error {}

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  help: { type: 'boolean', short: 'h' },
  to: { type: 'string' },
  wait: { type: 'boolean' },
  backup: { type: 'string' },
  from: { type: 'string' },
  time: { type: 'string' },
  'backup-label': { type: 'string' },
  'in-place': { type: 'boolean' },
  confirm: { type: 'string' },
  replicas: { type: 'string' },
  name: { type: 'string' },
  'dry-run': { type: 'boolean' },
  replica: { type: 'boolean' },
  superuser: { type: 'boolean' },
  pod: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  tail: { type: 'string' },
  previous: { type: 'boolean' },
  'output-dir': { type: 'string' },
} as const;

export type Flags = ReturnType<typeof parseCommandLine>['flags'];

export function parseCommandLine(argv: string[]) {
  const dashDash = argv.indexOf('--');
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const passThrough = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command, ...positionals] = parsed.positionals;
  if (command !== undefined && !(command in COMMANDS) && command !== '__complete')
    throw new UsageError(`unknown command "${command}": one of ${Object.keys(COMMANDS).join(', ')}`);
  const output = parsed.values.output;
  if (output !== undefined && !['json', 'yaml', 'text'].includes(output))
    throw new UsageError(`--output must be json, yaml or text, not "${output}"`);
  for (const n of ['replicas', 'tail'] as const) {
    const v = parsed.values[n];
    if (v !== undefined && !/^\d+$/.test(v))
      throw new UsageError(`--${n} must be a whole number, not "${v}"`);
  }
  return {
    command: command as Command | '__complete' | undefined,
    positionals,
    flags: parsed.values,
    passThrough,
  };
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    "kubectl pg: pgop's PostgreSQL clusters from kubectl (docs/kubectl-plugin.md)",
    '',
    'Usage: kubectl pg COMMAND [CLUSTER] [flags] [-- psql arguments]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([c, what]) => `  ${c.padEnd(width)}  ${what}`),
    '',
    'Flags of every command: -n/--namespace, --context, --kubeconfig, -o/--output json|yaml|text, -h/--help',
    'Exit codes: 0 done, 1 failed (the message says why), 2 wrong usage.',
  ].join('\n');
}

/** The cluster named by the first argument, or a usage error naming the command. */
export function clusterArgument(command: string, positionals: string[]): string {
  const [cluster] = positionals;
  if (!cluster) throw new UsageError(`kubectl pg ${command} needs a PostgresCluster name`);
  return cluster;
}
