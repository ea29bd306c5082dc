/** Gauges recomputed at scrape time (metrics.ts registerSnapshotGauges). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerSnapshotGauges } from '../src/metrics.js';

describe('registerSnapshotGauges', () => {
  it('serves the series of now: an object gone from the cache leaves no stale series', async () => {
    let clusters = ['a', 'b'];
    const registry = new Registry();
    registerSnapshotGauges(registry, [
      {
        name: 'test_cluster_info',
        help: 'test',
        labelNames: ['cluster'],
        samples: () => clusters.map((cluster) => ({ labels: { cluster }, value: 1 })),
      },
    ]);
    assert.match(
      await registry.metrics(),
      /test_cluster_info\{cluster="a"\} 1\ntest_cluster_info\{cluster="b"\} 1/,
    );
    clusters = ['b'];
    const after = await registry.metrics();
    assert.doesNotMatch(after, /cluster="a"/);
    assert.match(after, /test_cluster_info\{cluster="b"\} 1/);
  });
});
