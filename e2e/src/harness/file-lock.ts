/**
 * A lock between the test processes of one machine (node's runner runs e2e files in separate
 * processes): a directory, whose creation is atomic. Synchronous, for synchronous set-up steps.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs fn holding the lock at path; a lock older than staleMs is taken as left by a killed run. */
export function withFileLock<T>(path: string, fn: () => T, staleMs = 10 * 60_000): T {
  for (;;) {
    try {
      mkdirSync(path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(path).mtimeMs > staleMs) rmSync(path, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      Atomics.wait(sleeper, 0, 0, 250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}
