/**
 * Valid objects of the three kinds: the README's demo objects and one of each kind with every
 * field set. Tests check that both the API server and the ajv validators accept them.
 */
import { API_VERSION, type KindName } from '../group.js';

export interface Example {
  name: string;
  object: Record<string, unknown>;
}

/** An object of one of our kinds, as `kubectl apply` would send it. */
function customObject(kind: KindName, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind, metadata: { name }, spec };
}

/** The demo cluster (examples/basic-cluster.yaml). */
export function basicCluster(name = 'my-cluster'): Record<string, unknown> {
  return customObject('PostgresCluster', name, { version: 16, replicas: 3, storage: { size: '10Gi' } });
}

export function fullCluster(name = 'full-cluster'): Record<string, unknown> {
  return customObject('PostgresCluster', name, {
    version: 17,
    replicas: 3,
    image: 'localhost/pgop/postgres:17',
    storage: { size: '20Gi', storageClass: 'fast' },
    resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 2, memory: '2Gi' } },
    postgresql: {
      parameters: {
        max_connections: 200,
        shared_buffers: '512MB',
        wal_level: 'logical',
        log_min_duration_statement: '1s',
      },
    },
    replication: { mode: 'Quorum', synchronousReplicas: 1, strict: true },
    backup: {
      s3: {
        bucket: 'pg-backups',
        endpoint: 'https://minio.storage.svc:9000',
        region: 'eu-west-1',
        uriStyle: 'Path',
        path: '/prod/full-cluster',
        credentialsSecret: {
          name: 's3-credentials',
          accessKeyIdKey: 'key-id',
          secretAccessKeyKey: 'secret',
        },
        tls: { verify: true, caSecret: { name: 'minio-ca', key: 'ca.pem' } },
      },
    },
    persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Retain' },
    networkPolicy: {
      clients: [
        { podSelector: { matchLabels: { app: 'billing' } } },
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'reporting' } },
          podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['etl'] }] },
        },
        { ipBlock: { cidr: '192.168.10.0/24', except: ['192.168.10.128/25'] } },
      ],
    },
    highAvailability: { forceDeletePodsOnLostNodes: true, lostNodeConfirmationSeconds: 120 },
    scheduling: {
      nodeSelector: { 'example.com/disk': 'ssd' },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'databases', effect: 'NoSchedule' },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 30,
        },
      ],
    },
  });
}

/** Roles and databases (examples/access-cluster.yaml). */
export function accessCluster(name = 'shop'): Record<string, unknown> {
  return customObject('PostgresCluster', name, {
    version: 17,
    replicas: 2,
    storage: { size: '5Gi' },
    roles: [
      { name: 'orders', inRoles: ['pg_read_all_stats'], connectionLimit: 50 },
      { name: 'reporting', inRoles: ['pg_read_all_data'], passwordSecret: { name: 'reporting-password' } },
      { name: 'analysts', login: false, inherit: true, reclaimPolicy: 'Retain' },
    ],
    databases: [
      { name: 'orders', owner: 'orders', extensions: [{ name: 'pgcrypto' }, { name: 'pg_stat_statements' }] },
      { name: 'archive', owner: 'app', encoding: 'UTF8', locale: 'C', reclaimPolicy: 'Delete' },
    ],
  });
}

/** A cluster behind PgBouncer, read-write and read-only (examples/pooler-cluster.yaml). */
export function poolerCluster(name = 'web'): Record<string, unknown> {
  return customObject('PostgresCluster', name, {
    version: 17,
    replicas: 3,
    storage: { size: '5Gi' },
    roles: [{ name: 'shop', connectionLimit: 200 }],
    databases: [{ name: 'shop', owner: 'shop' }],
    pooler: {
      instances: 2,
      readOnlyInstances: 1,
      poolMode: 'transaction',
      maxClientConnections: 2000,
      defaultPoolSize: 25,
    },
  });
}

/** The demo backup schedule (examples/backup-schedule.yaml). */
export function backupSchedule(name = 'my-cluster-backup'): Record<string, unknown> {
  return customObject('PostgresBackup', name, {
    clusterName: 'my-cluster',
    schedule: '0 2 * * *',
    retention: { days: 14, count: 10 },
  });
}

export function fullBackup(name = 'full-backup'): Record<string, unknown> {
  return customObject('PostgresBackup', name, {
    clusterName: 'my-cluster',
    schedule: '30 */6 * JAN-DEC mon-fri',
    type: 'Differential',
    retention: { days: 0, count: 30 },
    keepForever: true,
  });
}

export function restoreToNewCluster(name = 'restore-new'): Record<string, unknown> {
  return customObject('PostgresRestore', name, {
    source: { clusterName: 'my-cluster' },
    target: { time: '2024-01-15T01:30:00Z' },
    destination: {
      newCluster: {
        name: 'restored-cluster',
        spec: { version: 16, replicas: 1, storage: { size: '10Gi' } },
      },
    },
  });
}

export function restoreInPlace(name = 'restore-in-place'): Record<string, unknown> {
  return customObject('PostgresRestore', name, {
    source: { backupName: 'my-cluster-backup' },
    target: { backupLabel: '20240115-020000F_20240116-020000I' },
    destination: { inPlace: { clusterName: 'my-cluster', confirm: 'my-cluster' } },
  });
}

export function restoreFromRepository(name = 'restore-dr'): Record<string, unknown> {
  return customObject('PostgresRestore', name, {
    source: {
      clusterName: 'deleted-cluster',
      repository: {
        s3: {
          bucket: 'pg-backups',
          endpoint: 'https://minio:9000',
          uriStyle: 'Path',
          credentialsSecret: { name: 's3' },
        },
      },
    },
    target: { time: '2024-01-15T02:30:00.250+01:00', exclusive: true },
    destination: {
      newCluster: { name: 'recovered', spec: { version: 15, replicas: 2, storage: { size: '5Gi' } } },
    },
  });
}

export const VALID_EXAMPLES: Example[] = [
  { name: 'the demo cluster', object: basicCluster() },
  { name: 'cluster with every field', object: fullCluster() },
  {
    name: 'cluster with a PVC repository',
    object: {
      ...basicCluster('pvc-repo'),
      spec: { version: 15, replicas: 1, storage: { size: '1Gi' }, backup: { pvc: { size: '5Gi' } } },
    },
  },
  {
    name: 'the demo restored cluster (spec.restore)',
    object: {
      ...basicCluster('restored-cluster'),
      spec: {
        version: 16,
        replicas: 1,
        storage: { size: '10Gi' },
        restore: { backupName: 'my-cluster-backup', targetTime: '2024-01-15T01:30:00Z' },
      },
    },
  },
  { name: 'cluster with roles and databases', object: accessCluster() },
  { name: 'cluster with a pooler', object: poolerCluster() },
  { name: 'the demo backup schedule', object: backupSchedule() },
  { name: 'backup with every field', object: fullBackup() },
  {
    name: 'one-off backup (no schedule)',
    object: { ...backupSchedule('one-off'), spec: { clusterName: 'my-cluster' } },
  },
  { name: 'restore to a new cluster at a time', object: restoreToNewCluster() },
  { name: 'restore in place to a backup', object: restoreInPlace() },
  { name: 'restore from a repository of a deleted cluster', object: restoreFromRepository() },
];
