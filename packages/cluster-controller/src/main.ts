#!/usr/bin/env node
/**
 * The cluster controller process: reconciles every PostgresCluster in the cluster while it
 * holds the leader Lease; other replicas stand by.
 */
import type { V1ConfigMap, V1Pod, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { API_VERSION, CLUSTER_LABEL, GROUP, KINDS, VERSION, type PostgresCluster } from '@pgop/api';
import {
  Controller,
  customResourcesServed,
  EventRecorder,
  Informer,
  ObjectClient,
  runAsLeader,
  startManager,
} from '@pgop/runtime';
import { hostname } from 'node:os';
import { parseImageCatalog } from './images.js';
import { childNames } from './naming.js';
import { ClusterReconciler } from './reconciler.js';

const manager = await startManager({ component: 'cluster-controller' });
const { kubeConfig, logger } = manager;
manager.health.addReadinessCheck(
  'postgresclusters-served',
  customResourcesServed(kubeConfig, GROUP, VERSION, [KINDS.PostgresCluster.plural]),
);

let reconciler: ClusterReconciler | undefined = undefined;
const controller = new Controller({
  name: 'postgrescluster',
  reconcile: (key) => reconciler!.reconcile(key),
  logger,
  metrics: manager.metrics,
  concurrency: Number(process.env.RECONCILE_CONCURRENCY ?? 4),
});

type Meta = {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};
const enqueue = (obj: Meta) => controller.queue.add(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
/** Children and Patroni's objects carry the cluster label: reconcile their cluster. */
const enqueueCluster = (obj: Meta) => {
  const cluster = obj.metadata?.labels?.[CLUSTER_LABEL];
  if (cluster) controller.queue.add(`${obj.metadata?.namespace}/${cluster}`);
};
/** Patroni renews its leader ConfigMap every few seconds: only a change of leader matters. */
const lastLeader = new Map<string, string | undefined>();
const onConfigMap = (cm: Meta, event: string) => {
  const cluster = cm.metadata?.labels?.[CLUSTER_LABEL];
  if (!cluster || cm.metadata?.name !== childNames(cluster).patroniLeaderConfigMap) return enqueueCluster(cm);
  const key = `${cm.metadata?.namespace}/${cm.metadata?.name}`;
  const leader = event === 'delete' ? undefined : cm.metadata?.annotations?.leader;
  if (lastLeader.has(key) && lastLeader.get(key) === leader && event !== 'resync') return;
  lastLeader.set(key, leader);
  enqueueCluster(cm);
};

const labelled = { labelSelector: CLUSTER_LABEL, kubeConfig, logger };
const caches = {
  clusters: new Informer<PostgresCluster>({
    kubeConfig,
    logger,
    apiVersion: API_VERSION,
    kind: KINDS.PostgresCluster.kind,
    path: `/apis/${GROUP}/${VERSION}/${KINDS.PostgresCluster.plural}`,
    onChange: enqueue,
  }),
  statefulSets: new Informer<V1StatefulSet>({
    ...labelled,
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    path: '/apis/apps/v1/statefulsets',
    onChange: enqueueCluster,
  }),
  pods: new Informer<V1Pod>({
    ...labelled,
    apiVersion: 'v1',
    kind: 'Pod',
    path: '/api/v1/pods',
    onChange: enqueueCluster,
  }),
  configMaps: new Informer<V1ConfigMap>({
    ...labelled,
    apiVersion: 'v1',
    kind: 'ConfigMap',
    path: '/api/v1/configmaps',
    onChange: onConfigMap,
  }),
  secrets: new Informer<V1Secret>({
    ...labelled,
    apiVersion: 'v1',
    kind: 'Secret',
    path: '/api/v1/secrets',
    onChange: enqueueCluster,
  }),
};

reconciler = new ClusterReconciler({
  caches,
  client: new ObjectClient(kubeConfig, 'pgop-cluster-controller'),
  events: new EventRecorder(kubeConfig, {
    controller: `${GROUP}/cluster-controller`,
    instance: process.env.POD_NAME ?? hostname(),
    logger,
  }),
  images: parseImageCatalog(process.env.PGOP_POSTGRES_IMAGES),
  logger,
});

runAsLeader(manager, {
  leaseName: 'pgop-cluster-controller',
  informers: Object.values(caches),
  controllers: [controller],
});
