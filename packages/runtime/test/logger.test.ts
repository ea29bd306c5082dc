import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import { REDACTED, createLogger } from '../src/index.js';

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { stream, lines };
}

it('writes one JSON object per line with component, object key and timestamp', async () => {
  const { stream, lines } = capture();
  createLogger({ component: 'cluster-controller', stream })
    .child({ key: 'prod/orders' })
    .info('reconciled', { replicas: 3 });
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.component, 'cluster-controller');
  assert.equal(lines[0]!.key, 'prod/orders');
  assert.equal(lines[0]!.message, 'reconciled');
  assert.equal(lines[0]!.replicas, 3);
  assert.ok(typeof lines[0]!.timestamp === 'string');
});

it('never prints values of credential-like fields, however deep', async () => {
  const { stream, lines } = capture();
  const log = createLogger({ component: 't', stream });
  log.info('secret test', {
    password: 'hunter2',
    s3: { accessKeyId: 'AKIA123', secretAccessKey: 'abc', bucket: 'b' },
    env: [{ name: 'X', token: 't0k' }],
  });
  await new Promise((r) => setImmediate(r));
  const text = JSON.stringify(lines);
  for (const secret of ['hunter2', 'AKIA123', 'abc"', 't0k'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  assert.equal(lines[0]!.password, REDACTED);
  assert.equal((lines[0]!.s3 as Record<string, unknown>).bucket, 'b');
});

it('logs errors with their message and stack', async () => {
  const { stream, lines } = capture();
  createLogger({ component: 't', stream }).error('failed', { error: new Error('boom') });
  await new Promise((r) => setImmediate(r));
  const error = lines[0]!.error as { message: string; stack: string };
  assert.equal(error.message, 'boom');
  assert.match(error.stack, /logger\.test/);
});
