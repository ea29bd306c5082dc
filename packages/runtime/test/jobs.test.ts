/** A Job's outcome as its pods report it, and stored objects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { asStored, lastJobPod, terminationMessage } from '../src/index.js';

const job: V1Job = { metadata: { name: 'backup-once', namespace: 'db' } };
const pod = (name: string, created: string, message?: string, jobName = 'backup-once'): V1Pod => ({
  metadata: {
    name,
    namespace: 'db',
    labels: { 'job-name': jobName },
    creationTimestamp: new Date(created),
  },
  status: message
    ? { containerStatuses: [{ state: { terminated: { exitCode: 0, message } } }] as never }
    : {},
});

describe('lastJobPod and terminationMessage', () => {
  it("reads the newest of the Job's pods (a retried Job has several), trimmed", () => {
    const pods = [
      pod('b', '2026-12-01T10:05:00Z', ' {"ok":true}\n'),
      pod('a', '2026-12-01T10:00:00Z', 'first try failed'),
      pod('other', '2026-12-01T10:09:00Z', 'not this Job', 'other-job'),
    ];
    assert.equal(lastJobPod(job, pods)?.metadata?.name, 'b');
    assert.equal(terminationMessage(lastJobPod(job, pods)), '{"ok":true}');
  });

  it('is undefined without a Job, a pod or a message', () => {
    assert.equal(lastJobPod(undefined, [pod('a', '2026-12-01T10:00:00Z', 'x')]), undefined);
    assert.equal(lastJobPod(job, []), undefined);
    assert.equal(terminationMessage(pod('a', '2026-12-01T10:00:00Z')), undefined);
    assert.equal(terminationMessage(pod('a', '2026-12-01T10:00:00Z', '  \n')), undefined);
  });
});

describe('asStored', () => {
  it('accepts an object with name, namespace and uid, and nothing less', () => {
    const stored = { metadata: { name: 'a', namespace: 'db', uid: 'u' } };
    assert.equal(asStored(stored), stored);
    assert.equal(asStored({ metadata: { name: 'a', namespace: 'db' } }), undefined);
    assert.equal(asStored(undefined), undefined);
  });
});
