import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { AppliedObjects, UNWATCHED } from '../src/applied-objects.js';

const service = (port: number): KubernetesObject & { spec: object } => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'db-primary', namespace: 'ns' },
  spec: { ports: [{ port }] },
});
const copy = (resourceVersion: string) => ({
  ...service(5432),
  metadata: { ...service(5432).metadata, resourceVersion },
});

function recorder() {
  let now = 0;
  let version = 0;
  const sent: KubernetesObject[] = [];
  const client = {
    apply: <T extends KubernetesObject>(obj: T) => {
      sent.push(obj);
      return Promise.resolve({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++version) } });
    },
  };
  return { applied: new AppliedObjects(client, 300_000, () => now), sent, tick: (ms: number) => (now += ms) };
}

describe('AppliedObjects', () => {
  it('sends an object once while it and its watched copy stay the same', async () => {
    const { applied, sent } = recorder();
    await applied.apply('ns/db', service(5432), undefined);
    await applied.apply('ns/db', service(5432), copy('1'));
    await applied.apply('ns/db', service(5432), copy('1'));
    assert.equal(sent.length, 1);
  });

  it('sends it again when what would be sent changes', async () => {
    const { applied, sent } = recorder();
    await applied.apply('ns/db', service(5432), undefined);
    await applied.apply('ns/db', service(6432), copy('1'));
    assert.equal(sent.length, 2);
  });

  it('sends it again when someone else changed or deleted the watched copy', async () => {
    const { applied, sent } = recorder();
    await applied.apply('ns/db', service(5432), undefined);
    await applied.apply('ns/db', service(5432), copy('7')); // changed by another writer
    await applied.apply('ns/db', service(5432), undefined); // deleted
    assert.equal(sent.length, 3);
  });

  it('sends an object of a kind not watched again once the reassert period has passed', async () => {
    const { applied, sent, tick } = recorder();
    await applied.apply('ns/db', service(5432), UNWATCHED);
    tick(299_000);
    await applied.apply('ns/db', service(5432), UNWATCHED);
    assert.equal(sent.length, 1);
    tick(1_000);
    await applied.apply('ns/db', service(5432), UNWATCHED);
    assert.equal(sent.length, 2);
  });

  it('sends everything of an owner again once forgotten', async () => {
    const { applied, sent } = recorder();
    await applied.apply('ns/db', service(5432), UNWATCHED);
    applied.forget('ns/db');
    await applied.apply('ns/db', service(5432), UNWATCHED);
    assert.equal(sent.length, 2);
  });

  it('does not remember an apply that failed', async () => {
    let calls = 0;
    const applied = new AppliedObjects({
      apply: <T extends KubernetesObject>(obj: T) =>
        ++calls === 1 ? Promise.reject(new Error('conflict')) : Promise.resolve(obj),
    });
    await assert.rejects(applied.apply('ns/db', service(5432), UNWATCHED));
    await applied.apply('ns/db', service(5432), UNWATCHED);
    assert.equal(calls, 2);
  });
});
