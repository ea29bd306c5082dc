/**
 * The controller entrypoints as processes against a real API server: they start, serve
 * /healthz and /metrics, become ready only once their kinds are served, and stop cleanly on
 * SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, freePort, kubectlOk, startApiServer, type TestApiServer } from '../src/index.js';

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
  const running: { name: string; child: ChildProcess; port: number; output: string[] }[] = [];

  before(async () => {
    server = await startApiServer();
    for (const name of CONTROLLERS) {
      const port = await freePort();
      const child = spawn(process.execPath, [join(REPO_ROOT, `packages/${name}/dist/src/main.js`)], {
        env: {
          ...process.env,
          KUBECONFIG: server.kubeconfigPath,
          HEALTH_PORT: String(port),
          // What the Helm chart gives the backup controller for its Jobs.
          PGOP_JOB_IMAGE: 'localhost/pgop/operator:dev',
          PGOP_BACKUP_JOB_CLUSTER_ROLE: 'pgop-backup-job',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
      running.push({ name, child, port, output });
    }
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
      const exited = new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code)));
      r.child.kill('SIGTERM');
      assert.equal(await exited, 0, r.output.join(''));
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
