#!/usr/bin/env node
/**
 * The cluster controller process. Today it starts the shared machinery (health, metrics,
 * logging, shutdown) and reports ready once PostgresClusters are served; reconciling
 * PostgresCluster into a StatefulSet and its companions is not built yet (see README).
 */
import { GROUP, KINDS, VERSION } from '@pgop/api';
import { customResourcesServed, startManager } from '@pgop/runtime';

const manager = await startManager({ component: 'cluster-controller' });
manager.health.addReadinessCheck(
  'postgresclusters-served',
  customResourcesServed(manager.kubeConfig, GROUP, VERSION, [KINDS.PostgresCluster.plural]),
);
