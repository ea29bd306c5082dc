/** Child processes of a test harness: started with logs in a file, always stopped on exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ManagedProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of the log, for error messages. */
  tail(lines?: number): string;
}

export function startProcess(
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  /** Added to this process's environment. */
  env: Record<string, string> = {},
  cwd?: string,
): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, cwd });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  const tail = (lines = 30) => readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
  return {
    name,
    logFile,
    child,
    tail,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // The grace timer must not keep the test process alive once the child is gone.
      const killed = await Promise.race([exited.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Polls `probe` until it returns true; fails with the process log if the process dies or time runs out. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  proc: ManagedProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with code ${proc.child.exitCode} before ${what}:\n${proc.tail()}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${proc.name} log:\n${proc.tail()}`);
}
