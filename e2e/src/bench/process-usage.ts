/** CPU time and memory of a process, from /proc (Linux), and counters from a /metrics page. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident memory now and at its peak, in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

/** Every series of a metric on a Prometheus text page: its labels as written → its value. */
export async function metricSeries(metricsUrl: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const series = new Map<string, number>();
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      const cut = line.lastIndexOf(' ');
      series.set(line.slice(name.length, cut), Number(line.slice(cut + 1)));
    }
  return series;
}

/** The sum of every series of a metric on a Prometheus text page. */
export async function metricTotal(metricsUrl: string, name: string): Promise<number> {
  let total = 0;
  for (const value of (await metricSeries(metricsUrl, name)).values()) total += value;
  return total;
}
