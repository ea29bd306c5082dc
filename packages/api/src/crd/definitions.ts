/** The three kinds of pgop: names, printer columns and subresources. */
import { KINDS } from '../group.js';
import { PostgresBackupSpecSchema, PostgresBackupStatusSchema } from '../schema/postgres-backup.js';
import {
  PostgresClusterRootRules,
  PostgresClusterSpecSchema,
  PostgresClusterStatusSchema,
} from '../schema/postgres-cluster.js';
import { PostgresRestoreSpecSchema, PostgresRestoreStatusSchema } from '../schema/postgres-restore.js';
import type { KindDefinition } from './build-crd.js';

const CATEGORIES = ['pgop', 'postgres'];
const AGE = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' } as const;

export const POSTGRES_CLUSTER: KindDefinition = {
  ...KINDS.PostgresCluster,
  shortNames: ['pgc'],
  categories: CATEGORIES,
  description: 'A PostgreSQL cluster: one primary and streaming replicas, with failover by Patroni.',
  spec: PostgresClusterSpecSchema,
  status: PostgresClusterStatusSchema,
  rootRules: PostgresClusterRootRules,
  printerColumns: [
    { name: 'Version', type: 'integer', jsonPath: '.spec.version', description: 'PostgreSQL major version.' },
    {
      name: 'Replicas',
      type: 'string',
      jsonPath: '.status.readySummary',
      description: 'Ready instances / desired.',
    },
    { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'Phase of the cluster.' },
    {
      name: 'Primary',
      type: 'string',
      jsonPath: '.status.primaryPod',
      description: 'The primary pod.',
      priority: 1,
    },
    AGE,
  ],
  scale: {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
    labelSelectorPath: '.status.selector',
  },
};

export const POSTGRES_BACKUP: KindDefinition = {
  ...KINDS.PostgresBackup,
  shortNames: ['pgbackup'],
  categories: CATEGORIES,
  description: 'Backups of a PostgresCluster: a schedule, retention, and on-demand backups by annotation.',
  spec: PostgresBackupSpecSchema,
  status: PostgresBackupStatusSchema,
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName' },
    { name: 'Last Backup', type: 'string', jsonPath: '.status.lastBackup' },
    { name: 'Size', type: 'string', jsonPath: '.status.lastBackupSize' },
    { name: 'Count', type: 'integer', jsonPath: '.status.backupCount' },
    { name: 'Next Scheduled', type: 'string', jsonPath: '.status.nextScheduled' },
  ],
};

export const POSTGRES_RESTORE: KindDefinition = {
  ...KINDS.PostgresRestore,
  shortNames: ['pgrestore'],
  categories: CATEGORIES,
  description:
    "A restore of a PostgresCluster's backups into a new cluster or in place, to the latest point, a backup or a time.",
  spec: PostgresRestoreSpecSchema,
  status: PostgresRestoreStatusSchema,
  printerColumns: [
    { name: 'Source', type: 'string', jsonPath: '.spec.source.clusterName' },
    { name: 'Backup', type: 'string', jsonPath: '.spec.source.backupName' },
    { name: 'Target Time', type: 'string', jsonPath: '.spec.target.time' },
    { name: 'Status', type: 'string', jsonPath: '.status.phase' },
    AGE,
  ],
};

export const KIND_DEFINITIONS = [POSTGRES_CLUSTER, POSTGRES_BACKUP, POSTGRES_RESTORE] as const;
