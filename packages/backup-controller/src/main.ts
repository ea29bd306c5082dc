#!/usr/bin/env node
/**
 * The backup controller process (PostgresBackup and PostgresRestore). Today it starts the
 * shared machinery (health, metrics, logging, shutdown) and reports ready once its kinds are
 * served; backups and restores are not built yet (see README).
 */
import { startManager } from '@pgop/runtime';
import { ownedKindsServed } from './served-kinds.js';

const manager = await startManager({ component: 'backup-controller' });
manager.health.addReadinessCheck('backups-and-restores-served', ownedKindsServed(manager.kubeConfig));
