/**
 * Shell completion. kubectl (1.26 and later) completes a plugin's arguments by running
 * `kubectl_complete-pg` with the words typed so far, the last one being the word to complete,
 * and reading candidates one per line, then a `:<directive>` line (cobra's protocol; 4: do not
 * complete file names). Pure, but for listing the clusters.
 */
import { COMMANDS } from './args.js';

export const NO_FILE_COMPLETION = ':4';

const FLAGS: Record<string, string[]> = {
  status: ['--all-namespaces', '--output'],
  switchover: ['--to', '--wait'],
  backup: ['--backup', '--wait', '--output'],
  restore: [
    '--from',
    '--to',
    '--in-place',
    '--confirm',
    '--time',
    '--backup-label',
    '--replicas',
    '--name',
    '--dry-run',
    '--output',
  ],
  psql: ['--replica', '--superuser'],
  logs: ['--pod', '--follow', '--tail', '--previous'],
  pause: [],
  resume: [],
  report: ['--output-dir'],
};
const GLOBAL_FLAGS = ['--namespace', '--context', '--kubeconfig', '--help'];

/** Flags followed by a value: their values are not positionals. */
const VALUE_FLAGS = new Set([
  '-n',
  '--namespace',
  '--context',
  '--kubeconfig',
  '-o',
  '--output',
  '--to',
  '--backup',
  '--from',
  '--time',
  '--backup-label',
  '--confirm',
  '--replicas',
  '--name',
  '--pod',
  '--tail',
  '--output-dir',
]);

export function complete(words: string[], clusters: () => string[]): string[] {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const positionals: string[] = [];
  for (let i = 0; i < before.length; i++) {
    if (VALUE_FLAGS.has(before[i]!)) i++;
    else if (!before[i]!.startsWith('-')) positionals.push(before[i]!);
  }
  const [command] = positionals;
  const previous = before.at(-1) ?? '';
  let candidates: string[] = [];
  if (current.startsWith('-')) candidates = [...(command ? (FLAGS[command] ?? []) : []), ...GLOBAL_FLAGS];
  else if (previous === '-o' || previous === '--output') candidates = ['json', 'yaml', 'text'];
  else if (previous === '--from') candidates = clusters();
  else if (VALUE_FLAGS.has(previous)) candidates = [];
  else if (!command) candidates = Object.keys(COMMANDS);
  else if (positionals.length === 1 && command !== 'restore') candidates = clusters();
  return [...candidates.filter((c) => c.startsWith(current)), NO_FILE_COMPLETION];
}
