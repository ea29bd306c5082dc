import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rewindCondition } from '../../src/instances/rewind-tools.js';

describe('RewindAvailable', () => {
  it('is absent until the image has been looked at', () => {
    assert.equal(rewindCondition('repo/pg:16', undefined), undefined);
  });

  it('is True for an image with pg_rewind and pg_waldump', () => {
    const c = rewindCondition('repo/pg:17', [])!;
    assert.deepEqual([c.status, c.reason], ['True', 'RewindToolsPresent']);
  });

  it('is False for an image without them, naming what is missing and what it costs', () => {
    const c = rewindCondition('repo/pg:16', ['pg_rewind', 'pg_waldump'])!;
    assert.deepEqual([c.type, c.status, c.reason], ['RewindAvailable', 'False', 'ImageLacksRewindTools']);
    assert.match(
      c.message,
      /^image repo\/pg:16 has no pg_rewind or pg_waldump: .*clones the former primary again in full/,
    );
  });
});
