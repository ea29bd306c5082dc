import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExponentialBackoff, WorkQueue } from '../src/index.js';

describe('WorkQueue', () => {
  it('hands out a key added many times only once', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < 5; i++) q.add('ns/a');
    q.add('ns/b');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), 'ns/b');
    assert.equal(q.length, 0);
  });

  it('never gives one key to two workers; a key added while processing comes back after done', async () => {
    const q = new WorkQueue();
    q.add('k');
    const key = await q.get();
    q.add('k'); // an event arrives while k is reconciled
    assert.equal(q.length, 0, 'not handed out while processing');
    const next = q.get();
    q.done(key!);
    assert.equal(await next, 'k');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add('late');
    assert.equal(await waiting, 'late');
  });

  it('addAfter delivers after the delay and keeps the earliest of two', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 5_000);
    q.addAfter('k', 20);
    const started = Date.now();
    assert.equal(await q.get(), 'k');
    assert.ok(Date.now() - started < 4_000, 'the earlier delay won');
  });

  it('shutDown wakes idle workers with undefined and waits for keys in progress', async () => {
    const q = new WorkQueue();
    const idle = q.get();
    q.add('busy');
    assert.equal(await idle, 'busy');
    const idle2 = q.get();
    let drained = false;
    const shutdown = q.shutDown().then(() => (drained = true));
    assert.equal(await idle2, undefined);
    await sleep(10);
    assert.equal(drained, false, 'still processing "busy"');
    q.done('busy');
    await shutdown;
    assert.equal(drained, true);
    q.add('after');
    assert.equal(await q.get(), undefined, 'no keys after shutdown');
  });
});

describe('ExponentialBackoff', () => {
  it('doubles per failure of a key, caps, and resets on forget', () => {
    const b = new ExponentialBackoff(5, 100);
    assert.deepEqual([b.when('a'), b.when('a'), b.when('a'), b.when('b')], [5, 10, 20, 5]);
    assert.deepEqual([b.when('a'), b.when('a'), b.when('a')], [40, 80, 100]);
    assert.equal(b.retries('a'), 6);
    b.forget('a');
    assert.equal(b.when('a'), 5);
  });
});
