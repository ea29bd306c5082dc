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
