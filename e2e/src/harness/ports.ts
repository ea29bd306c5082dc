import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel hands out ports from the ephemeral range to every outgoing connection and to
 * listen(0): a port found free there can be taken by a kubectl's connection before the process
 * it is meant for binds it (an etcd of the integration tier once failed so). Ports below that
 * range are handed out by nobody but us.
 */
function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

const LOWEST = 10_000;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1, below the ephemeral range, that was free a moment ago. */
export async function freePort(): Promise<number> {
  const highest = Math.max(ephemeralRangeStart() - 1, LOWEST + 1000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${highest}`);
}
