import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HealthServer, createControllerMetrics } from '../src/index.js';

it('serves /healthz, /readyz from its checks, and /metrics', async () => {
  const metrics = createControllerMetrics();
  const server = new HealthServer(metrics.registry);
  let synced = false;
  server.addReadinessCheck('informers-synced', () => synced);
  const port = await server.listen(0, '127.0.0.1');
  const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
  try {
    assert.equal((await get('/healthz')).status, 200);
    const notReady = await get('/readyz');
    assert.equal(notReady.status, 503);
    assert.equal(await notReady.text(), 'not ready: informers-synced');
    synced = true;
    assert.equal((await get('/readyz')).status, 200);
    metrics.reconcileTotal.inc({ controller: 'c', result: 'success' });
    const text = await (await get('/metrics')).text();
    assert.match(text, /pgop_reconcile_total\{controller="c",result="success"\} 1/);
    assert.match(text, /nodejs_eventloop_lag_seconds/);
    assert.equal((await get('/nope')).status, 404);
  } finally {
    await server.close();
  }
});
