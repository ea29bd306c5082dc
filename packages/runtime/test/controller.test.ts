import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Controller,
  ExponentialBackoff,
  WorkQueue,
  createControllerMetrics,
  createLogger,
} from '../src/index.js';

const quietLogger = () => createLogger({ component: 'test', stream: new PassThrough() });

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe('Controller', () => {
  it('retries a failing key with backoff until it succeeds, then counts the results', async () => {
    const calls: string[] = [];
    const metrics = createControllerMetrics();
    const controller = new Controller({
      name: 'test',
      logger: quietLogger(),
      metrics,
      queue: new WorkQueue(new ExponentialBackoff(1, 10)),
      reconcile: async (key) => {
        calls.push(key);
        if (calls.length < 3) throw new Error('API server unavailable');
      },
    });
    controller.start();
    controller.queue.add('ns/x');
    await until(() => calls.length === 3);
    await controller.stop();
    assert.deepEqual(calls, ['ns/x', 'ns/x', 'ns/x']);
    const text = await metrics.registry.metrics();
    assert.match(text, /pgop_reconcile_total\{controller="test",result="error"\} 2/);
    assert.match(text, /pgop_reconcile_total\{controller="test",result="success"\} 1/);
    assert.match(text, /pgop_reconcile_errors_total\{controller="test"\} 2/);
    assert.equal(controller.queue.backoff.retries('ns/x'), 0, 'success resets the backoff');
  });

  it('requeues after the delay a reconcile asks for', async () => {
    let calls = 0;
    const controller = new Controller({
      name: 'timer',
      logger: quietLogger(),
      reconcile: async () => (++calls < 2 ? { requeueAfterMs: 10 } : undefined),
    });
    controller.start();
    controller.queue.add('ns/y');
    await until(() => calls === 2);
    await controller.stop();
    assert.equal(calls, 2);
  });

  it('runs different keys in parallel but one key at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const perKey = new Map<string, number>();
    const controller = new Controller({
      name: 'parallel',
      logger: quietLogger(),
      concurrency: 3,
      reconcile: async (key) => {
        running++;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        assert.equal(perKey.get(key), 1, `${key} reconciled twice at once`);
        maxRunning = Math.max(maxRunning, running);
        await sleep(20);
        perKey.set(key, perKey.get(key)! - 1);
        running--;
      },
    });
    controller.start();
    for (const k of ['a', 'b', 'c', 'a', 'a']) controller.queue.add(k);
    await sleep(5);
    controller.queue.add('a');
    await until(() => controller.queue.length === 0 && running === 0);
    await controller.stop();
    assert.equal(maxRunning, 3);
  });
});
