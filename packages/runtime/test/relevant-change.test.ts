import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onRelevantChange } from '../src/relevant-change.js';

describe('onRelevantChange', () => {
  const obj = (name: string, v: string, noise: string) => ({ metadata: { name, namespace: 'ns' }, v, noise });

  it('passes adds, deletes and resyncs, and updates only when the fingerprint changed', () => {
    const passed: string[] = [];
    const handle = onRelevantChange(
      (o: ReturnType<typeof obj>) => o.v,
      (o) => passed.push(`${o.metadata.name}:${o.v}:${o.noise}`),
    );
    handle(obj('a', '1', 'x'), 'add');
    handle(obj('a', '1', 'y'), 'update'); // only noise changed
    handle(obj('a', '2', 'y'), 'update');
    handle(obj('a', '2', 'z'), 'resync');
    handle(obj('a', '2', 'z'), 'delete');
    handle(obj('a', '2', 'z'), 'update'); // forgotten after delete: passes again
    assert.deepEqual(passed, ['a:1:x', 'a:2:y', 'a:2:z', 'a:2:z', 'a:2:z']);
  });
});
