/**
 * A memory cgroup (v1 or v2) with a limit, for running a controller with the chart's memory
 * limit outside a pod: Node.js sizes its heap from the limit it starts under, as in a container.
 * Needs a writable cgroup hierarchy (root, as on the project's machines).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  limitMiB: number;
  /** Prefix of a command line: moves itself into the cgroup, then runs the rest. */
  launcher: string[];
  /** Processes the kernel killed for want of memory in the cgroup so far. */
  oomKills(): number;
  remove(): void;
}

/** The memory cgroup this process is in: [v1 or v2, its directory]. */
function ownMemoryCgroup(): ['v1' | 'v2', string] | undefined {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (v1 && existsSync('/sys/fs/cgroup/memory'))
    return ['v1', join('/sys/fs/cgroup/memory', v1.split(':')[2]!)];
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 && existsSync('/sys/fs/cgroup/cgroup.controllers'))
    return ['v2', join('/sys/fs/cgroup', v2.slice(3))];
  return undefined;
}

/** A new cgroup under this process's own, limited to limitMiB; undefined where none can be made. */
export function createMemoryCgroup(name: string, limitMiB: number): MemoryCgroup | undefined {
  const own = ownMemoryCgroup();
  if (!own) return undefined;
  const [version, parent] = own;
  const dir = join(parent, name);
  try {
    mkdirSync(dir, { recursive: true });
    const bytes = String(limitMiB * 1024 * 1024);
    writeFileSync(join(dir, version === 'v1' ? 'memory.limit_in_bytes' : 'memory.max'), bytes);
  } catch {
    return undefined;
  }
  const events = join(dir, version === 'v1' ? 'memory.oom_control' : 'memory.events');
  return {
    limitMiB,
    launcher: ['sh', '-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$@"`, 'sh'],
    oomKills: () => Number(/^oom_kill (\d+)$/m.exec(readFileSync(events, 'utf8'))?.[1] ?? 0),
    remove: () => rmdirSync(dir),
  };
}
