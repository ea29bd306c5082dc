import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressRequeueMs } from '../src/reconciler.js';

describe('progressRequeueMs', () => {
  it('looks again after 5 s, doubling while the status stays the same, never later than a minute', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 50].map(progressRequeueMs),
      [5_000, 10_000, 20_000, 40_000, 60_000, 60_000],
    );
  });
});
