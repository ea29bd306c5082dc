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

describe('client authentication', () => {
  const hba = (spec: Record<string, unknown> = {}) =>
    dynamicConfiguration(cluster(basicCluster(), spec), false).postgresql.pg_hba;

  it('refuses the superuser from other pods unless spec.superuserAccess, before any password rule (Patroni uses the socket)', () => {
    const closed = hba();
    const reject = closed.indexOf('hostssl all postgres all reject');
    assert.ok(reject >= 0 && reject < closed.indexOf('hostssl all all all scram-sha-256'), closed.join('\n'));
    assert.ok(!hba({ superuserAccess: true }).some((l) => l.includes('postgres all reject')));
  });

  it('takes nothing over the network without TLS, and replication only by its client certificate', () => {
    for (const spec of [{}, { superuserAccess: true }]) {
      const lines = hba(spec);
      assert.deepEqual(
        lines.filter((l) => !l.startsWith('local ')).map((l) => l.split(' ')[0]),
        lines.filter((l) => !l.startsWith('local ')).map(() => 'hostssl'),
        lines.join('\n'),
      );
      // Over the network by certificate; from the pod itself (Patroni) over the socket.
      assert.deepEqual(
        lines.filter((l) => l.includes('replication')),
        ['local replication replicator peer map=local', 'hostssl replication replicator all cert'],
      );
      // Its password (Patroni sets one) must not open an ordinary database either.
      const reject = lines.indexOf('hostssl all replicator all reject');
      assert.ok(reject >= 0 && reject < lines.indexOf('hostssl all all all scram-sha-256'), lines.join('\n'));
    }
    const parameters = dynamicConfiguration(cluster(), false).postgresql.parameters;
    assert.equal(parameters.ssl, 'on');
  });

  it('maps the local OS user to the superuser, the replication role, the verification role and the monitoring role only', () => {
    const config = dynamicConfiguration(cluster(), false).postgresql;
    assert.equal(config.pg_hba[0], 'local all all peer map=local');
    assert.deepEqual(config.pg_ident, [
      'local postgres postgres',
      'local postgres pgop_verify',
      'local postgres pgop_monitor',
      'local postgres replicator',
    ]);
  });

  it('moves a superuserAccess change to Patroni as a PATCH of pg_hba', () => {
    const open = dynamicConfiguration(cluster(basicCluster(), { superuserAccess: true }), false);
    const patch = dynamicConfigPatch(
      open,
      asStoredByPatroni(dynamicConfiguration(cluster(basicCluster()), false)),
    );
    assert.deepEqual(Object.keys(patch ?? {}), ['postgresql']);
  });
});
