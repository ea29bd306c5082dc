/** Polling for a state that comes eventually, as tests against a real cluster must. */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until check returns (or resolves to) a value, not undefined; fails with describe() after
 * timeoutSeconds.
 */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutSeconds = 180,
  describe = () => '',
  pollMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutSeconds}s waiting for ${what}\n${describe()}`);
    await sleep(pollMs);
  }
}
