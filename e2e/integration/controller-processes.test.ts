/**
 * The controller entrypoints as processes against a real API server: they start, serve
 * /healthz and /metrics, become ready only once their kinds are served, and stop cleanly on
 * SIGTERM.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  REPO_ROOT,
  kubectlOk,
  startApiServer,
  startControllerProcess,
  type ControllerProcess,
  type TestApiServer,
} from '../src/harness/index.js';

const CONTROLLERS = ['cluster-controller', 'backup-controller'] as const;

async function status(url: string): Promise<number> {
  return fetch(url).then(
    (r) => r.status,
    () => 0,
  );
}

async function waitForStatus(url: string, expected: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await status(url)) !== expected) {
    if (Date.now() > deadline) throw new Error(`${url} never answered ${expected}`);
    await sleep(100);
  }
}

describe('controller processes', () => {
  let server: TestApiServer;
  const running: (ControllerProcess & { name: string })[] = [];

  before(async () => {
    server = await startApiServer();
    for (const name of CONTROLLERS)
      running.push({
        name,
        ...(await startControllerProcess(server, name, {
          // What the Helm chart gives the backup controller for its Jobs.
          PGOP_JOB_IMAGE: 'localhost/pgop/operator:dev',
          PGOP_BACKUP_JOB_CLUSTER_ROLE: 'pgop-backup-job',
        })),
      });
  });
  after(async () => {
    for (const r of running) r.child.kill('SIGKILL');
    await server?.stop();
  });

  it('are alive but not ready while the CRDs are missing', async () => {
    for (const r of running) {
      await waitForStatus(`http://127.0.0.1:${r.port}/healthz`, 200);
      assert.equal(await status(`http://127.0.0.1:${r.port}/readyz`), 503, r.name);
    }
  });

  it('become ready once the CRDs are installed, and serve metrics', async () => {
    kubectlOk(server, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
    kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    for (const r of running) {
      await waitForStatus(`http://127.0.0.1:${r.port}/readyz`, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
      assert.match(metrics, /process_resident_memory_bytes/);
    }
  });

  it('log JSON lines naming their component and exit 0 on SIGTERM', async () => {
    for (const r of running) {
      r.child.kill('SIGTERM');
      assert.equal(await r.exit, 0, r.output.join(''));
      const lines = r.output
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(lines.every((l) => l.component === r.name));
      const messages = lines.map((l) => l.message);
      assert.equal(messages[0], 'started');
      assert.ok(messages.includes('shutting down'), messages.join(', '));
      if (r.name === 'cluster-controller') {
        // It led (the only replica) and hands the Lease back on the way out.
        assert.ok(messages.includes('became leader'), messages.join(', '));
        assert.ok(
          messages.indexOf('released the lease') > messages.indexOf('shutting down'),
          messages.join(', '),
        );
      }
    }
  });
});
