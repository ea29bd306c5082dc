/**
 * What each identity pgop creates may do, asked of the real API server's RBAC the way an auditor
 * would: `kubectl auth can-i --as`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  eventually,
  kubectl,
  kubectlOk,
  startApiServer,
  startClusterController,
  type TestApiServer,
} from '../src/harness/index.js';

const NS = 'apps';

describe('least privilege (integration)', () => {
  let server: TestApiServer;
  let stop: () => Promise<void>;
  const apply = (obj: object) =>
    kubectlOk(server, ['-n', NS, 'apply', '--server-side', '-f', '-'], stringify(obj));
  /** `kubectl auth can-i` as a ServiceAccount of the namespace: "yes" or "no". */
  const canI = (serviceAccount: string, verb: string, resource: string) =>
    kubectl(server, [
      '-n',
      NS,
      'auth',
      'can-i',
      verb,
      resource,
      `--as=system:serviceaccount:${NS}:${serviceAccount}`,
    ]).stdout.trim();

  before(async () => {
    server = await startApiServer();
    stop = (
      await startClusterController(server, NS, undefined, {
        allowedImageRegistries: ['registry.example.com', 'localhost/pgop'],
        // Installed for a list of namespaces (Helm value watchNamespaces): this one only.
        watchNamespaces: [NS],
      })
    ).stop;
    kubectlOk(server, ['create', 'namespace', 'elsewhere']);
    kubectlOk(
      server,
      ['-n', 'elsewhere', 'apply', '--server-side', '-f', '-'],
      stringify({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresCluster',
        metadata: { name: 'unwatched' },
        spec: { version: 17, replicas: 1, storage: { size: '1Gi' } },
      }),
    );
    for (const name of ['orders', 'billing'])
      apply({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresCluster',
        metadata: { name },
        spec: { version: 17, replicas: 2, storage: { size: '1Gi' } },
      });
    // Made by the controller, and in effect: the authorizer has seen both bindings.
    await eventually(
      'the Patroni Roles in effect',
      () =>
        canI('orders-instance', 'get', 'pods/orders-0') === 'yes' &&
        canI('billing-instance', 'get', 'pods/billing-0') === 'yes'
          ? true
          : undefined,
      30,
      undefined,
      200,
    );
  });
  after(async () => {
    await stop?.();
    await server?.stop();
  });

  it("lets an instance's Patroni write its own cluster's pods and DCS ConfigMaps, and nothing of another cluster's", () => {
    const orders = 'orders-instance';
    for (const own of [
      'pods/orders-0',
      'pods/orders-9',
      'configmaps/orders-leader',
      'configmaps/orders-config',
      'configmaps/orders-sync',
      'configmaps/orders-failover',
    ])
      for (const verb of ['get', 'patch', 'update'])
        assert.equal(canI(orders, verb, own), 'yes', `${verb} ${own}`);
    for (const foreign of [
      'pods/billing-0',
      'pods/web-frontend',
      'pods/orders-10',
      'configmaps/billing-leader',
      'configmaps/billing-config',
      'configmaps/orders-patroni',
    ])
      for (const verb of ['patch', 'update', 'delete'])
        assert.equal(canI(orders, verb, foreign), 'no', `${verb} ${foreign}`);
    // Patroni creates its ConfigMaps on first start, and reads its cluster by label selector.
    assert.equal(canI(orders, 'create', 'configmaps'), 'yes');
    assert.equal(canI(orders, 'list', 'pods'), 'yes');
    // Nothing else: no Secrets, no exec, no deletes, no other kinds.
    for (const [verb, resource] of [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['create', 'pods/exec'],
      ['delete', 'pods'],
      ['delete', 'configmaps'],
      ['create', 'pods'],
      ['get', 'postgresclusters.postgres.example.com'],
      ['create', 'services'],
    ])
      assert.equal(canI(orders, verb!, resource!), 'no', `${verb} ${resource}`);
  });

  it('runs no image from a registry the install does not allow: condition ImageNotAllowed, no StatefulSet', async () => {
    apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresCluster',
      metadata: { name: 'foreign' },
      spec: { version: 17, replicas: 1, storage: { size: '1Gi' }, image: 'docker.io/someone/postgres:17' },
    });
    const progressing = await eventually(
      'ImageNotAllowed',
      () => {
        const cluster = JSON.parse(kubectlOk(server, ['-n', NS, 'get', 'pgc', 'foreign', '-o', 'json'])) as {
          status?: { phase?: string; conditions?: { type: string; reason: string; message: string }[] };
        };
        const c = cluster.status?.conditions?.find((c) => c.type === 'Progressing');
        return c?.reason === 'ImageNotAllowed' ? { ...c, phase: cluster.status?.phase } : undefined;
      },
      30,
      undefined,
      200,
    );
    assert.equal(progressing.phase, 'Failed');
    assert.match(
      progressing.message,
      /spec\.image docker\.io\/someone\/postgres:17 is not from a registry this operator allows \(registry\.example\.com, localhost\/pgop\)/,
    );
    assert.equal(kubectl(server, ['-n', NS, 'get', 'statefulset', 'foreign']).code, 1, 'no StatefulSet');

    // An allowed image is used.
    kubectlOk(server, [
      '-n',
      NS,
      'patch',
      'pgc',
      'foreign',
      '--type=merge',
      '-p',
      '{"spec":{"image":"registry.example.com/pg/postgres:17"}}',
    ]);
    const image = await eventually(
      'the StatefulSet',
      () =>
        kubectl(server, [
          '-n',
          NS,
          'get',
          'statefulset',
          'foreign',
          '-o',
          'jsonpath={.spec.template.spec.containers[0].image}',
        ]).stdout || undefined,
      30,
      undefined,
      200,
    );
    assert.equal(image, 'registry.example.com/pg/postgres:17');
  });

  it('installed for a list of namespaces, touches nothing outside them', () => {
    // Applied before the watched clusters, which are reconciled by now.
    assert.equal(kubectlOk(server, ['-n', 'elsewhere', 'get', 'statefulset,secret,role', '-o', 'name']), '');
    // Only the schema's default phase: no reconcile wrote a status or added the finalizer.
    const unwatched = kubectlOk(server, [
      '-n',
      'elsewhere',
      'get',
      'pgc',
      'unwatched',
      '-o',
      'jsonpath={.status} {.metadata.finalizers}',
    ]);
    assert.equal(unwatched.trim(), '{"phase":"Pending"}');
  });
});
