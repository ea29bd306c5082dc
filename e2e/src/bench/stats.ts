/** What the benchmarks share: summaries of their runs, and their results files in docs/benchmarks. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../harness/paths.js';

/** Median, minimum and maximum of benchmark runs, rounded for the reports. */
export function summary(values: number[], decimals = 1) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const factor = 10 ** decimals;
  const round = (n: number) => Math.round(n * factor) / factor;
  return {
    median: round(median),
    min: round(sorted[0]!),
    max: round(sorted.at(-1)!),
    runs: sorted.map(round),
  };
}

/**
 * Writes docs/benchmarks/<name>.json: `header` and the results, where the entries measured now
 * replace their earlier figures and the others keep theirs (each says when it was measured).
 */
export function mergeResultsFile(
  name: string,
  header: Record<string, unknown>,
  results: Record<string, unknown>,
) {
  const file = join(REPO_ROOT, 'docs/benchmarks', `${name}.json`);
  const earlier = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { results?: Record<string, unknown> }).results
    : {};
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...header, results: { ...earlier, ...results } }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}
