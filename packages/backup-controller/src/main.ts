#!/usr/bin/env node
/**
 * The backup controller process: reconciles every PostgresBackup and PostgresRestore while it
 * holds the leader Lease.
 */
import { GROUP, KINDS, VERSION } from '@pgop/api';
import { customResourcesServed, parseWatchNamespaces, runAsLeader, startManager } from '@pgop/runtime';
import { hostname } from 'node:os';
import { createBackupController } from './backup-controller.js';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set (the Helm chart sets it)`);
  return value;
};

const manager = await startManager({ component: 'backup-controller' });
manager.health.addReadinessCheck(
  'backups-and-restores-served',
  customResourcesServed(manager.kubeConfig, GROUP, VERSION, [
    KINDS.PostgresBackup.plural,
    KINDS.PostgresRestore.plural,
  ]),
);
const { controllers, informers } = createBackupController({
  kubeConfig: manager.kubeConfig,
  logger: manager.logger,
  metrics: manager.metrics,
  identity: process.env.POD_NAME ?? hostname(),
  watchNamespaces: parseWatchNamespaces(process.env.PGOP_WATCH_NAMESPACES),
  settings: { image: required('PGOP_JOB_IMAGE'), jobClusterRole: required('PGOP_BACKUP_JOB_CLUSTER_ROLE') },
});
runAsLeader(manager, { leaseName: 'pgop-backup-controller', informers, controllers });
