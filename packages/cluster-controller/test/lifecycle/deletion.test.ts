/** The steps of a deletion, and the bound on each wait. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideDeletion } from '../../src/lifecycle/deletion.js';

const requested = new Date('2026-12-01T12:00:00Z');
const at = (seconds: number) => new Date(requested.getTime() + seconds * 1000);
const base = { pods: [], deletionRequestedAt: requested, now: at(1), waitSeconds: 300 };

describe('decideDeletion', () => {
  it('deletes the StatefulSet first, then waits for it and its pods, then cleans up', () => {
    assert.equal(decideDeletion({ ...base, statefulSet: { deleting: false } }).type, 'deleteStatefulSet');
    assert.deepEqual(decideDeletion({ ...base, statefulSet: { deleting: true } }), {
      type: 'wait',
      for: 'the StatefulSet to be deleted',
      until: at(300),
    });
    assert.deepEqual(decideDeletion({ ...base, pods: [{ name: 'db-0', node: 'n2' }, { name: 'db-1' }] }), {
      type: 'wait',
      for: 'the instance pods to stop: db-0 (on n2), db-1',
      until: at(300),
    });
    assert.deepEqual(decideDeletion(base), { type: 'cleanUp' });
  });

  it('stops waiting at the bound: a pod on a lost node never goes, the deletion still ends', () => {
    const stuck = { ...base, pods: [{ name: 'db-0', node: 'lost' }], now: at(300) };
    assert.deepEqual(decideDeletion(stuck), {
      type: 'cleanUp',
      forced: 'the instance pods to stop: db-0 (on lost)',
    });
    const heldStatefulSet = { ...base, statefulSet: { deleting: true }, now: at(301) };
    assert.equal(decideDeletion(heldStatefulSet).type, 'cleanUp');
    // A StatefulSet not yet asked to go is always asked first, bound or not.
    assert.equal(
      decideDeletion({ ...base, statefulSet: { deleting: false }, now: at(900) }).type,
      'deleteStatefulSet',
    );
  });
});
