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

export function complete(words: string[], clusters: () => string[]): string[] {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const command = before.find((w) => !w.startsWith('-'));
  let candidates: string[];
  if (current.startsWith('-')) candidates = [...(command ? (FLAGS[command] ?? []) : []), ...GLOBAL_FLAGS];
  else if (!command) candidates = Object.keys(COMMANDS);
  else if (
    [
      '--to',
      '--pod',
      '--backup',
      '--time',
      '--backup-label',
      '--name',
      '--output-dir',
      '--confirm',
      '--replicas',
      '--tail',
    ].includes(before.at(-1) ?? '')
  )
    candidates = [];
  else if (before.at(-1) === '--output' || before.at(-1) === '-o') candidates = ['json', 'yaml', 'text'];
  else if (before.filter((w) => !w.startsWith('-')).length === 1 || before.at(-1) === '--from')
    candidates = clusters();
  else candidates = [];
  return [...candidates.filter((c) => c.startsWith(current)), NO_FILE_COMPLETION];
}
