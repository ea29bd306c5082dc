/** The storage decision from an observation: one size per kind of volume. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterObservation } from '../../src/observe.js';
import { decideStorage } from '../../src/storage/decision.js';
import { basicCluster, cluster } from '../fixtures.js';

const claim = (name: string, size: string): V1PersistentVolumeClaim => ({
  metadata: { name },
  spec: { storageClassName: 'fast', resources: { requests: { storage: size } } },
  status: { phase: 'Bound', capacity: { storage: size } },
});
const statefulSet = (size: string): V1StatefulSet => ({
  spec: {
    selector: {},
    serviceName: 'x',
    template: {},
    volumeClaimTemplates: [
      { metadata: { name: 'pgdata' }, spec: { resources: { requests: { storage: size } } } },
    ],
  },
});

const expandable = () => ({ provisioner: 'csi.example', allowVolumeExpansion: true });

describe('storage decision', () => {
  const c = cluster(basicCluster(), { replicas: 3, storage: { size: '1Gi' } });
  const name = c.metadata.name!;
  const observation = (claims: V1PersistentVolumeClaim[], template?: string) =>
    ({
      cluster: c,
      name,
      namespace: 'db',
      key: `db/${name}`,
      volumeClaims: claims,
      now: new Date(),
      ...(template ? { statefulSet: statefulSet(template) } : {}),
    }) as unknown as ClusterObservation;

  it('keeps every volume of a kind at the largest any asks for (a growth by autoGrow), new instances too', () => {
    const grown = [claim(`pgdata-${name}-0`, '2048Mi'), claim(`pgdata-${name}-1`, '1Gi')];
    const d = decideStorage(observation(grown, '1Gi'), undefined, undefined, expandable);
    assert.deepEqual(d.raise, [{ claim: `pgdata-${name}-1`, from: '1Gi', size: '2048Mi' }]);
    assert.equal(d.sizes.pgdata, '2048Mi');
    // A third instance is coming (spec.replicas 3): its claim is made at that size.
    assert.deepEqual(d.create, [{ claim: `pgdata-${name}-2`, template: 'pgdata', size: '2048Mi' }]);
    const after = decideStorage(
      observation([0, 1, 2].map((i) => claim(`pgdata-${name}-${i}`, '2048Mi'))),
      undefined,
      undefined,
      expandable,
    );
    assert.deepEqual(after.raise, []);
  });

  it('reads failing archiving from status.backup.archiving: a failure newer than the last success holds the WAL volume', () => {
    const withWal = cluster(basicCluster(), {
      replicas: 1,
      storage: { size: '1Gi' },
      walStorage: { size: '1Gi', autoGrow: { limit: '4Gi', thresholdPercent: 80 } },
    });
    const o = {
      ...observation([claim(`pgwal-${name}-0`, '1Gi')]),
      cluster: withWal,
    } as unknown as ClusterObservation;
    const facts = {
      usage: { [`${name}-0`]: { volumes: { pgwal: { usedBytes: 900 * 2 ** 20, sizeBytes: 2 ** 30 } } } },
    };
    const archiving = (lastArchivedTime: string) => ({
      failedCount: 3,
      lastFailedTime: '2026-12-04T10:00:00Z',
      lastArchivedTime,
    });
    const failing = decideStorage(o, facts, archiving('2026-12-04T09:00:00Z'), expandable);
    assert.equal(failing.autoGrow?.condition?.reason, 'WalBacklog');
    assert.match(failing.autoGrow!.condition!.message, /failing since 2026-12-04T10:00:00Z/);
    assert.deepEqual(failing.raise, []);
    // Archived again since: the WAL volume grows.
    const working = decideStorage(o, facts, archiving('2026-12-04T11:00:00Z'), expandable);
    assert.deepEqual(working.raise, [{ claim: `pgwal-${name}-0`, from: '1Gi', size: '2Gi' }]);
  });
});
