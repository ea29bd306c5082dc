import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PAUSED_ANNOTATION, isPaused } from '../src/index.js';

it('the pause annotation pauses for any value but empty or "false"', () => {
  assert.equal(isPaused(undefined), false);
  assert.equal(isPaused({ annotations: {} }), false);
  assert.equal(isPaused({ annotations: { [PAUSED_ANNOTATION]: '' } }), false);
  assert.equal(isPaused({ annotations: { [PAUSED_ANNOTATION]: 'False' } }), false);
  assert.equal(isPaused({ annotations: { [PAUSED_ANNOTATION]: 'true' } }), true);
  assert.equal(isPaused({ annotations: { [PAUSED_ANNOTATION]: 'until the migration is done' } }), true);
});
