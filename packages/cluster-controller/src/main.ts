#!/usr/bin/env node
/**
 * The cluster controller process: reconciles every PostgresCluster in the cluster while it
 * holds the leader Lease; other replicas stand by.
 */
import { GROUP, KINDS, VERSION } from '@pgop/api';
import { customResourcesServed, parseWatchNamespaces, runAsLeader, startManager } from '@pgop/runtime';
import type { V1NetworkPolicyPeer } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { createClusterController } from './cluster-controller.js';
import { parseAllowedRegistries, parseImageCatalog } from './images.js';

const manager = await startManager({ component: 'cluster-controller' });
manager.health.addReadinessCheck(
  'postgresclusters-served',
  customResourcesServed(manager.kubeConfig, GROUP, VERSION, [KINDS.PostgresCluster.plural]),
);
const { controller, informers } = createClusterController({
  kubeConfig: manager.kubeConfig,
  logger: manager.logger,
  metrics: manager.metrics,
  images: parseImageCatalog(process.env.PGOP_POSTGRES_IMAGES),
  allowedImageRegistries: parseAllowedRegistries(process.env.PGOP_ALLOWED_IMAGE_REGISTRIES),
  identity: process.env.POD_NAME ?? hostname(),
  watchNamespaces: parseWatchNamespaces(process.env.PGOP_WATCH_NAMESPACES),
  concurrency: Number(process.env.RECONCILE_CONCURRENCY ?? 4),
  ...(process.env.PGOP_POOLER_IMAGE ? { poolerImage: process.env.PGOP_POOLER_IMAGE } : {}),
  ...operatorPeer(process.env.POD_NAMESPACE, process.env.PGOP_POD_SELECTOR, process.env.PGOP_METRICS_FROM),
  ...(process.env.PGOP_DELETION_WAIT_SECONDS
    ? { deletionWaitSeconds: Number(process.env.PGOP_DELETION_WAIT_SECONDS) }
    : {}),
});
/**
 * Where this controller runs and its pods' labels ("k=v,k=v", set by the chart), which the
 * clusters' NetworkPolicies let in to Patroni's API, and who may scrape the instances' metrics
 * (a JSON list of NetworkPolicyPeers, the chart's networkPolicy.metricsFrom). Absent when run
 * outside a pod.
 */
function operatorPeer(
  namespace: string | undefined,
  selector: string | undefined,
  metricsFrom: string | undefined,
) {
  if (!namespace || !selector) return {};
  const podLabels = Object.fromEntries(
    selector.split(',').map((pair) => pair.split('=', 2) as [string, string]),
  );
  return {
    operator: {
      namespace,
      podLabels,
      metricsFrom: metricsFrom ? (JSON.parse(metricsFrom) as V1NetworkPolicyPeer[]) : [],
    },
  };
}

runAsLeader(manager, { leaseName: 'pgop-cluster-controller', informers, controllers: [controller] });
