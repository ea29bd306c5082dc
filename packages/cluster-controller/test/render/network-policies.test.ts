/** Who the cluster's NetworkPolicies let in (render/network-policies.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderNetworkPolicies } from '../../src/render/network-policies.js';
import { basicCluster, cluster } from '../fixtures.js';

const operator = {
  namespace: 'pgop-system',
  podLabels: { 'app.kubernetes.io/name': 'pgop', 'app.kubernetes.io/component': 'cluster-controller' },
};
const members = {
  podSelector: {
    matchLabels: { 'postgres.example.com/cluster': 'my-cluster', 'app.kubernetes.io/component': 'database' },
  },
};
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: 'TCP', port }));

describe('NetworkPolicies', () => {
  it('by default lets in the members to PostgreSQL and Patroni, pgop to Patroni, anyone to the metrics, and the namespace to PostgreSQL', () => {
    const [instances, ...rest] = renderNetworkPolicies(cluster(basicCluster()), operator);
    assert.equal(rest.length, 0, 'no repository host, no policy for one');
    assert.equal(instances!.metadata?.name, 'my-cluster');
    assert.deepEqual(instances!.spec.podSelector, members.podSelector);
    assert.deepEqual(instances!.spec.policyTypes, ['Ingress']);
    assert.deepEqual(instances!.spec.ingress, [
      { from: [members], ports: tcp(5432, 8008) },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'pgop-system' } },
            podSelector: { matchLabels: operator.podLabels },
          },
        ],
        ports: tcp(8008),
      },
      { ports: tcp(9187, 8008) },
      { from: [{ podSelector: {} }], ports: tcp(5432) },
    ]);
  });

  it("lets in to the metrics only the scrapers the install names (the chart's networkPolicy.metricsFrom)", () => {
    const prometheus = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ];
    const [instances] = renderNetworkPolicies(cluster(basicCluster()), {
      ...operator,
      metricsFrom: prometheus,
    });
    assert.deepEqual(
      instances!.spec.ingress.filter((rule) => rule.ports.some((p) => p.port === 9187)),
      [{ from: prometheus, ports: tcp(9187, 8008) }],
    );
  });

  it('lets in only the clients spec.networkPolicy.clients selects, and none for []', () => {
    const selected = [
      {
        namespaceSelector: { matchLabels: { team: 'payments' } },
        podSelector: { matchLabels: { app: 'api' } },
      },
    ];
    const [withClients] = renderNetworkPolicies(
      cluster(basicCluster(), { networkPolicy: { clients: selected } }),
    );
    assert.deepEqual(withClients!.spec.ingress.at(-1), { from: selected, ports: tcp(5432) });

    // An ingress rule without peers would let in everyone: [] must leave the members alone.
    const [none] = renderNetworkPolicies(cluster(basicCluster(), { networkPolicy: { clients: [] } }));
    assert.deepEqual(none!.spec.ingress, [{ from: [members], ports: tcp(5432, 8008) }]);
  });

  it('without the controller pods known (run outside the cluster) has no rule for them', () => {
    const [instances] = renderNetworkPolicies(cluster(basicCluster()));
    assert.deepEqual(instances!.spec.ingress, [
      { from: [members], ports: tcp(5432, 8008) },
      { from: [{ podSelector: {} }], ports: tcp(5432) },
    ]);
  });

  it("lets pgop's PostgreSQL pods of the namespace in to a PVC repository's host", () => {
    const policies = renderNetworkPolicies(
      cluster(basicCluster(), { backup: { pvc: { size: '20Gi' } } }),
      operator,
    );
    const host = policies.find((p) => p.metadata?.name === 'my-cluster-repo-host');
    assert.ok(host);
    assert.deepEqual(host.spec.podSelector, {
      matchLabels: {
        'postgres.example.com/cluster': 'my-cluster',
        'app.kubernetes.io/component': 'repo-host',
      },
    });
    assert.deepEqual(host.spec.ingress, [
      {
        from: [
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/managed-by': 'pgop' },
            },
          },
        ],
        ports: tcp(8432),
      },
    ]);
  });

  it('renders none with spec.networkPolicy.enabled false', () => {
    const off = cluster(basicCluster(), {
      networkPolicy: { enabled: false },
      backup: { pvc: { size: '20Gi' } },
    });
    assert.deepEqual(renderNetworkPolicies(off, operator), []);
  });
});
