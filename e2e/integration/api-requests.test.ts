/**
 * What a cluster costs the API server: the cluster controller's requests, counted as the
 * controller's own metric counts them (pgop_api_requests_total). At hundreds of clusters,
 * re-sending every child on every reconcile was most of the controller's work (bench:scale).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { boundApiRequests, createControllerMetrics } from '@pgop/runtime';
import { stringify } from 'yaml';
import {
  eventually,
  kubectl,
  kubectlOk,
  postgresCluster,
  startApiServer,
  startClusterController,
  type TestApiServer,
} from '../src/harness/index.js';

const NS = 'costs';

describe('API requests of the cluster controller (integration)', () => {
  let server: TestApiServer;
  let stop: () => Promise<void>;
  const requests: string[] = [];
  const metrics = createControllerMetrics();
  const k = (...args: string[]) => kubectlOk(server, ['-n', NS, ...args]);
  const until = <T>(what: string, check: () => T | undefined | Promise<T | undefined>) =>
    eventually(what, check, 30, undefined, 200);
  const reconciles = async () =>
    (await metrics.reconcileTotal.get()).values.reduce((sum, v) => sum + v.value, 0);
  /** Children sent since `from` (status writes and the cluster's own finalizer left out). */
  const childPatches = (from: number) =>
    requests.slice(from).filter((r) => r.startsWith('PATCH') && !r.includes('postgresclusters'));

  before(async () => {
    server = await startApiServer();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(server.kubeconfigPath);
    boundApiRequests(kubeConfig, { onRequest: (method, resource) => requests.push(`${method} ${resource}`) });
    stop = (await startClusterController(server, NS, metrics, { kubeConfig })).stop;
  });
  after(async () => {
    await stop?.();
    await server?.stop();
  });

  it('reconciles an unchanged cluster without sending its children again, and a change sends only what changed', async () => {
    kubectlOk(
      server,
      ['-n', NS, 'apply', '--server-side', '-f', '-'],
      stringify(postgresCluster('quiet', { replicas: 3 })),
    );
    const observed = (generation: number) => () =>
      k('get', 'pgc', 'quiet', '-o', 'jsonpath={.status.observedGeneration}') === String(generation)
        ? true
        : undefined;
    await until('first status', observed(1));
    await sleep(1_000); // the reconciles its own writes cause
    const before = requests.length;
    const reconcilesBefore = await reconciles();
    k('annotate', 'pgc', 'quiet', 'example.com/touched=yes'); // an update: a reconcile, nothing to change
    await until('a reconcile', async () => ((await reconciles()) > reconcilesBefore ? true : undefined));
    await sleep(500);
    assert.deepEqual(childPatches(before), [], 'nothing sent for an unchanged cluster');

    const beforeChange = requests.length;
    k(
      'patch',
      'pgc',
      'quiet',
      '--type=merge',
      '-p',
      '{"spec":{"postgresql":{"parameters":{"work_mem":"8MB"}}}}',
    );
    await until('the change in status', observed(2));
    // A parameter PostgreSQL takes without a restart: Patroni's configuration only.
    assert.deepEqual([...new Set(childPatches(beforeChange))], ['PATCH configmaps']);
  });

  it('puts back a child that someone else changed or deleted, at once', async () => {
    k('delete', 'configmap', 'quiet-patroni');
    await until('the ConfigMap made again', () =>
      kubectl(server, ['-n', NS, 'get', 'configmap', 'quiet-patroni']).code === 0 ? true : undefined,
    );
    k('delete', 'service', 'quiet-primary');
    await until('the primary Service made again', () =>
      kubectl(server, ['-n', NS, 'get', 'service', 'quiet-primary']).code === 0 ? true : undefined,
    );
    k('scale', 'statefulset', 'quiet', '--replicas=1');
    await until('the StatefulSet scaled back', () =>
      k('get', 'statefulset', 'quiet', '-o', 'jsonpath={.spec.replicas}') === '3' ? true : undefined,
    );
  });
});
