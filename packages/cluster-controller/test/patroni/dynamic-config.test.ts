/** The PATCH that brings Patroni's dynamic configuration in line with the spec. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dynamicConfigPatch } from '../../src/patroni/dynamic-config.js';
import { dynamicConfiguration } from '../../src/patroni/config.js';
import { cluster, basicCluster } from '../fixtures.js';

/** What Patroni stores after bootstrapping with `desired`: booleans for on/off, as it does. */
function asStoredByPatroni(config: unknown): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(config, (_k, v: unknown) => (v === 'on' ? true : v === 'off' ? false : v)),
  ) as Record<string, unknown>;
}

describe('dynamicConfigPatch', () => {
  const base = dynamicConfiguration(cluster(), false);

  it('is empty when Patroni already has the desired configuration (on = true, 100 = "100")', () => {
    assert.equal(dynamicConfigPatch(base, asStoredByPatroni(base)), undefined);
  });

  it('sets changed and added parameters only', () => {
    const desired = dynamicConfiguration(
      cluster(basicCluster(), { postgresql: { parameters: { max_connections: 200, work_mem: '64MB' } } }),
      false,
    );
    assert.deepEqual(dynamicConfigPatch(desired, asStoredByPatroni(base)), {
      postgresql: { parameters: { max_connections: 200, work_mem: '64MB' } },
    });
  });

  it('removes a parameter taken out of the spec', () => {
    const withWorkMem = dynamicConfiguration(
      cluster(basicCluster(), { postgresql: { parameters: { work_mem: '64MB' } } }),
      false,
    );
    assert.deepEqual(dynamicConfigPatch(base, asStoredByPatroni(withWorkMem)), {
      postgresql: { parameters: { work_mem: null } },
    });
  });

  it('changes the replication mode', () => {
    const sync = dynamicConfiguration(cluster(basicCluster(), { replication: { mode: 'Sync' } }), false);
    assert.deepEqual(dynamicConfigPatch(sync, asStoredByPatroni(base)), {
      synchronous_mode: 'on',
      synchronous_mode_strict: false,
      synchronous_node_count: 1,
    });
  });

  it('does nothing before Patroni wrote its configuration', () => {
    assert.equal(dynamicConfigPatch(base, undefined), undefined);
  });
});
