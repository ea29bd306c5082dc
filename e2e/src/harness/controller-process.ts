/** A controller entrypoint run as its own process against a test API server, with its output kept. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestApiServer } from './envtest.js';
import { REPO_ROOT } from './paths.js';
import { freePort } from './ports.js';

export interface ControllerProcess {
  child: ChildProcess;
  /** Its stdout and stderr, as they came. */
  output: string[];
  /** Its health server's port (/healthz, /readyz, /metrics). */
  port: number;
  /** Resolves with its exit code. */
  exit: Promise<number | null>;
}

export async function startControllerProcess(
  server: TestApiServer,
  controller: 'cluster-controller' | 'backup-controller',
  env: Record<string, string> = {},
  /** A command that runs the rest of its arguments, e.g. in a memory cgroup (bench/memory-cgroup.ts). */
  launcher: string[] = [],
): Promise<ControllerProcess> {
  const port = await freePort();
  const argv = [...launcher, process.execPath, join(REPO_ROOT, `packages/${controller}/dist/src/main.js`)];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, KUBECONFIG: server.kubeconfigPath, HEALTH_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, port, exit };
}
