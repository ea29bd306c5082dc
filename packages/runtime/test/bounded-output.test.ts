/** Output from pods and Patroni is kept within a limit: the tail, saying what was dropped. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedOutput, readBoundedBody, withRemoteTimeout } from '../src/index.js';

describe('BoundedOutput', () => {
  it('keeps short output whole', () => {
    const out = new BoundedOutput(10);
    out.add(Buffer.from('abc'));
    out.add(Buffer.from('def'));
    assert.equal(out.text(), 'abcdef');
    assert.equal(out.droppedBytes, 0);
  });

  it('keeps only the last bytes of long output, and says how many went', () => {
    const out = new BoundedOutput(10);
    for (let i = 0; i < 1000; i++) out.add(Buffer.from('0123456789'));
    out.add(Buffer.from('ERROR'));
    assert.equal(out.text(), '[first 9995 bytes dropped]\n56789ERROR');
    assert.equal(out.droppedBytes, 9995);
  });

  it('holds the limit for one chunk larger than the limit', () => {
    const out = new BoundedOutput(4);
    out.add(Buffer.alloc(1_000_000, 'x'));
    out.add(Buffer.from('end'));
    assert.equal(out.text(), '[first 999999 bytes dropped]\nxend');
  });
});

describe('readBoundedBody', () => {
  it('reads a body up to the limit and stops reading there', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024).fill(97));
      },
    });
    const text = await readBoundedBody(new Response(endless), 4096);
    assert.equal(text, `${'a'.repeat(4096)}[truncated at 4096 bytes]`);
    assert.ok(pulled < 10, `read ${pulled} chunks of an endless body`);
  });

  it('reads a short body whole', async () => {
    assert.equal(await readBoundedBody(new Response('{"ok":true}')), '{"ok":true}');
  });
});

describe('withRemoteTimeout', () => {
  it('runs the command under timeout(1) with the limit in whole seconds', () => {
    assert.deepEqual(withRemoteTimeout(['pgbackrest', 'info'], 120_500), [
      'timeout',
      '--kill-after=10',
      '121',
      'pgbackrest',
      'info',
    ]);
  });
});
