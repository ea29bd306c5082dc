#!/usr/bin/env node
/**
 * The backup controller process (PostgresBackup and PostgresRestore). Today it starts the
 * shared machinery (health, metrics, logging, shutdown) and reports ready once its kinds are
 * served; backups and restores are not built yet (see README).
 */
import { GROUP, KINDS, VERSION } from '@pgop/api';
import { customResourcesServed, startManager } from '@pgop/runtime';

const manager = await startManager({ component: 'backup-controller' });
manager.health.addReadinessCheck(
  'backups-and-restores-served',
  customResourcesServed(manager.kubeConfig, GROUP, VERSION, [
    KINDS.PostgresBackup.plural,
    KINDS.PostgresRestore.plural,
  ]),
);
