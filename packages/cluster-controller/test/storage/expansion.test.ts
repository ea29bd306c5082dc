/** Online expansion: which claims are raised, which are made for instances to come, what status says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { decideExpansion, storageBytes, type SizedClaim } from '../../src/storage/expansion.js';

function claim(
  name: string,
  requested: string,
  /** '' for a claim not bound yet. */
  capacity = requested,
  extra: Partial<NonNullable<V1PersistentVolumeClaim['status']>> = {},
  storageClassName = 'fast',
): V1PersistentVolumeClaim {
  return {
    metadata: { name },
    spec: { storageClassName, resources: { requests: { storage: requested } } },
    status: {
      phase: capacity ? 'Bound' : 'Pending',
      ...(capacity ? { capacity: { storage: capacity } } : {}),
      ...extra,
    },
  };
}
const data = (c: V1PersistentVolumeClaim, wanted = '2Gi'): SizedClaim => ({
  claim: c,
  wanted,
  template: 'pgdata',
});
/** The StatefulSet's data claim template asking for `size`, the spec for 2Gi. */
const dataTemplate = (size: string) => [{ name: 'pgdata', size, wanted: '2Gi' }];
const classes: Record<string, V1StorageClass> = {
  fast: { provisioner: 'csi.example', allowVolumeExpansion: true },
  fixed: { provisioner: 'rancher.io/local-path' },
};
const storageClass = (name: string | undefined) => (name ? classes[name] : undefined);

describe('volume expansion', () => {
  it('reads storage quantities in bytes', () => {
    assert.equal(storageBytes('1Gi'), 1024 ** 3);
    assert.equal(storageBytes('1.5G'), 1.5e9);
    assert.equal(storageBytes('500M'), 5e8);
    assert.equal(storageBytes('2k'), 2000);
    assert.equal(storageBytes('1024'), 1024);
    assert.equal(storageBytes('ten'), undefined);
  });

  it('raises every bound claim below the spec, and says it is expanding', () => {
    const d = decideExpansion({
      claims: [
        data(claim('pgdata-web-0', '1Gi')),
        data(claim('pgdata-web-1', '1Gi')),
        data(claim('pgdata-web-2', '2Gi')),
      ],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('1Gi'),
    });
    assert.deepEqual(d.raise, [
      { claim: 'pgdata-web-0', from: '1Gi', size: '2Gi' },
      { claim: 'pgdata-web-1', from: '1Gi', size: '2Gi' },
    ]);
    assert.equal(d.condition?.status, 'False');
    assert.equal(d.condition?.reason, 'Expanding');
    assert.match(d.condition!.message, /pgdata-web-0 1Gi → 2Gi/);
    assert.deepEqual(d.create, [], 'every instance has its claim');
  });

  it('counts 2048Mi as 2Gi: no claim raised or made', () => {
    const d = decideExpansion({
      claims: [data(claim('pgdata-web-0', '2048Mi'))],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('2048Mi'),
    });
    assert.deepEqual(d.raise, []);
    assert.deepEqual(d.create, []);
    assert.equal(d.condition?.reason, 'AsRequested');
  });

  it('touches nothing a StorageClass cannot expand, and names it in the condition', () => {
    const d = decideExpansion({
      claims: [data(claim('pgdata-web-0', '1Gi', '1Gi', {}, 'fixed'))],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('1Gi'),
    });
    assert.deepEqual(d.raise, []);
    assert.deepEqual(d.create, []);
    assert.equal(d.condition?.reason, 'StorageClassCannotExpand');
    assert.match(d.condition!.message, /pgdata-web-0 \(StorageClass fixed\)/);
    assert.match(d.condition!.message, /allowVolumeExpansion/);
  });

  it('waits for an unbound claim before raising it', () => {
    const d = decideExpansion({
      claims: [data(claim('pgdata-web-0', '1Gi')), data(claim('pgdata-web-1', '1Gi', ''))],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('1Gi'),
    });
    assert.deepEqual(
      d.raise.map((r) => r.claim),
      ['pgdata-web-0'],
    );
    assert.deepEqual(d.create, []);
  });

  it('reports a volume the driver is still growing, one waiting for its file system, and a failed resize', () => {
    const growing = decideExpansion({
      claims: [data(claim('pgdata-web-0', '2Gi', '1Gi'))],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('2Gi'),
    });
    assert.equal(growing.condition?.reason, 'Expanding');
    assert.match(growing.condition!.message, /pgdata-web-0 1Gi → 2Gi/);
    assert.deepEqual(growing.volumes, [{ name: 'pgdata-web-0', requested: '2Gi', capacity: '1Gi' }]);
    const fileSystem = decideExpansion({
      claims: [
        data(
          claim('pgdata-web-0', '2Gi', '1Gi', {
            conditions: [{ type: 'FileSystemResizePending', status: 'True' }],
          }),
        ),
      ],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('2Gi'),
    });
    assert.match(fileSystem.condition!.message, /file system grows/);
    const failed = decideExpansion({
      claims: [
        data(
          claim('pgdata-web-0', '2Gi', '1Gi', {
            conditions: [{ type: 'ControllerResizeError', status: 'True', message: 'quota exceeded' }],
          }),
        ),
      ],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('2Gi'),
    });
    assert.equal(failed.condition?.reason, 'ExpansionFailed');
    assert.match(failed.condition!.message, /pgdata-web-0: quota exceeded/);
  });

  it('sizes a PVC repository by its own spec, without recreating the StatefulSet for it', () => {
    const d = decideExpansion({
      claims: [data(claim('pgdata-web-0', '2Gi')), { claim: claim('web-repository', '5Gi'), wanted: '8Gi' }],
      storageClass,
      statefulSet: 'web',
      replicas: 1,
      templates: dataTemplate('2Gi'),
    });
    assert.deepEqual(d.raise, [{ claim: 'web-repository', from: '5Gi', size: '8Gi' }]);
    assert.deepEqual(d.create, []);
  });

  it('makes the claims of instances to come at the new size, for each template that asks for less', () => {
    const wal = (c: V1PersistentVolumeClaim): SizedClaim => ({ claim: c, wanted: '4Gi', template: 'pgwal' });
    const d = decideExpansion({
      claims: [data(claim('pgdata-web-0', '2Gi')), wal(claim('pgwal-web-0', '1Gi'))],
      storageClass,
      templates: [...dataTemplate('2Gi'), { name: 'pgwal', size: '1Gi', wanted: '4Gi' }],
      statefulSet: 'web',
      replicas: 3,
    });
    // The data template already asks for 2Gi: the StatefulSet makes those claims itself.
    assert.deepEqual(d.create, [
      { claim: 'pgwal-web-1', template: 'pgwal', size: '4Gi' },
      { claim: 'pgwal-web-2', template: 'pgwal', size: '4Gi' },
    ]);
    assert.deepEqual(
      d.raise.map((r) => r.claim),
      ['pgwal-web-0'],
    );
  });
});
