/**
 * Objects the API server must reject, each with the field the error must name and a piece of
 * the message. The same list runs through the ajv validators (unit tests) and against a real
 * kube-apiserver (integration tests). `ajv` says whether the ajv validator catches it too:
 * rules written in CEL are enforced only by the server (docs/api.md, "Validation").
 */
import type { KindName } from '../group.js';
import { fullCluster, restoreInPlace, restoreToNewCluster, ticketBackup, ticketCluster } from './examples.js';

export interface InvalidCase {
  name: string;
  kind: KindName;
  /** The object to create; for an update case, the valid object created first. */
  object: Record<string, unknown>;
  /** For an update case: the same object after the forbidden change. */
  update?: Record<string, unknown>;
  /** The field path the error names, as the API server prints it. */
  field: string;
  /** A substring of the server's message for that field. */
  message: string;
  /** Whether the ajv validator rejects it as well (false: a CEL rule only the server runs). */
  ajv: boolean;
}

const DELETE = Symbol('delete');

/** A copy of obj with the dotted path set to value (DELETE removes it). */
function set(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  const keys = path.split('.');
  let node = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy;
}

const cluster = (path: string, value: unknown, base = ticketCluster('invalid')) => set(base, path, value);
const backup = (path: string, value: unknown) => set(ticketBackup('invalid'), path, value);
const restore = (path: string, value: unknown, base = restoreToNewCluster('invalid')) =>
  set(base, path, value);
const s3 = {
  bucket: 'pg-backups',
  endpoint: 'https://minio:9000',
  uriStyle: 'Path',
  credentialsSecret: { name: 's3' },
};

const C = 'PostgresCluster' as const;
const B = 'PostgresBackup' as const;
const R = 'PostgresRestore' as const;

export const INVALID_CASES: InvalidCase[] = [
  // PostgresCluster: required fields and the ticket's ranges.
  {
    name: 'version missing',
    kind: C,
    object: cluster('spec.version', DELETE),
    field: 'spec.version',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'replicas missing',
    kind: C,
    object: cluster('spec.replicas', DELETE),
    field: 'spec.replicas',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'storage missing',
    kind: C,
    object: cluster('spec.storage', DELETE),
    field: 'spec.storage',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'storage.size missing',
    kind: C,
    object: cluster('spec.storage.size', DELETE),
    field: 'spec.storage.size',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'spec missing',
    kind: C,
    object: cluster('spec', DELETE),
    field: 'spec',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'version 13',
    kind: C,
    object: cluster('spec.version', 13),
    field: 'spec.version',
    message: 'supported values: "14", "15", "16", "17", "18"',
    ajv: true,
  },
  {
    name: 'version 19',
    kind: C,
    object: cluster('spec.version', 19),
    field: 'spec.version',
    message: 'supported values: "14", "15", "16", "17", "18"',
    ajv: true,
  },
  {
    name: 'version as a string',
    kind: C,
    object: cluster('spec.version', '16'),
    field: 'spec.version',
    message: 'must be of type integer',
    ajv: true,
  },
  {
    name: 'replicas 0',
    kind: C,
    object: cluster('spec.replicas', 0),
    field: 'spec.replicas',
    message: 'should be greater than or equal to 1',
    ajv: true,
  },
  {
    name: 'replicas 11',
    kind: C,
    object: cluster('spec.replicas', 11),
    field: 'spec.replicas',
    message: 'should be less than or equal to 10',
    ajv: true,
  },
  {
    name: 'replicas 2.5',
    kind: C,
    object: cluster('spec.replicas', 2.5),
    field: 'spec.replicas',
    message: 'must be of type integer',
    ajv: true,
  },
  {
    name: 'storage.size not a quantity',
    kind: C,
    object: cluster('spec.storage.size', 'ten gigabytes'),
    field: 'spec.storage.size',
    message: 'must be a Kubernetes quantity such as 10Gi',
    ajv: false,
  },
  {
    name: 'storage.size with a unit Kubernetes does not know',
    kind: C,
    object: cluster('spec.storage.size', '10GB'),
    field: 'spec.storage.size',
    message: 'must be a Kubernetes quantity such as 10Gi',
    ajv: false,
  },
  {
    name: 'storage.size zero',
    kind: C,
    object: cluster('spec.storage.size', '0'),
    field: 'spec.storage.size',
    message: 'must be greater than zero',
    ajv: false,
  },
  {
    name: 'storage.size negative',
    kind: C,
    object: cluster('spec.storage.size', '-1Gi'),
    field: 'spec.storage.size',
    message: 'must be greater than zero',
    ajv: false,
  },
  {
    name: 'storage.storageClass empty',
    kind: C,
    object: cluster('spec.storage.storageClass', ''),
    field: 'spec.storage.storageClass',
    message: 'should be at least 1 chars long',
    ajv: true,
  },
  // Resources.
  {
    name: 'requests.cpu not a quantity',
    kind: C,
    object: cluster('spec.resources.requests.cpu', 'lots'),
    field: 'spec.resources.requests.cpu',
    message: 'should match',
    ajv: true,
  },
  {
    name: 'requests.memory above limits.memory',
    kind: C,
    object: cluster('spec.resources', { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } }),
    field: 'spec.resources.requests.memory',
    message: 'requests.memory must not exceed limits.memory',
    ajv: false,
  },
  {
    name: 'requests.cpu (integer) above limits.cpu',
    kind: C,
    object: cluster('spec.resources', { requests: { cpu: 2 }, limits: { cpu: '500m' } }),
    field: 'spec.resources.requests.cpu',
    message: 'requests.cpu must not exceed limits.cpu',
    ajv: false,
  },
  {
    name: 'resources.limits.cpu a boolean',
    kind: C,
    object: cluster('spec.resources.limits.cpu', true),
    field: 'spec.resources.limits.cpu',
    message: 'must be of type',
    ajv: true,
  },
  // PostgreSQL parameters.
  {
    name: 'parameter archive_command (owned by pgop)',
    kind: C,
    object: cluster('spec.postgresql.parameters', { archive_command: '/bin/true' }),
    field: 'spec.postgresql.parameters',
    message: 'parameter archive_command is managed by pgop and cannot be set',
    ajv: false,
  },
  {
    name: 'parameter port (owned by pgop)',
    kind: C,
    object: cluster('spec.postgresql.parameters', { max_connections: 100, port: 5433 }),
    field: 'spec.postgresql.parameters',
    message: 'parameter port is managed by pgop and cannot be set',
    ajv: false,
  },
  {
    name: 'parameter recovery_target_time (owned by pgop)',
    kind: C,
    object: cluster('spec.postgresql.parameters', { recovery_target_time: '2024-01-01 00:00:00' }),
    field: 'spec.postgresql.parameters',
    message: 'parameter recovery_target_time is managed by pgop',
    ajv: false,
  },
  {
    name: 'wal_level minimal',
    kind: C,
    object: cluster('spec.postgresql.parameters', { wal_level: 'minimal' }),
    field: 'spec.postgresql.parameters',
    message: 'wal_level must be replica or logical',
    ajv: false,
  },
  {
    name: 'parameter given as a boolean',
    kind: C,
    object: cluster('spec.postgresql.parameters', { fsync: false }),
    field: 'spec.postgresql.parameters.fsync',
    message: 'must be of type',
    ajv: true,
  },
  // Replication.
  {
    name: 'replication.mode unknown',
    kind: C,
    object: cluster('spec.replication.mode', 'Semi'),
    field: 'spec.replication.mode',
    message: 'supported values: "Async", "Sync", "Quorum"',
    ajv: true,
  },
  {
    name: 'replication.strict with Async',
    kind: C,
    object: cluster('spec.replication', { mode: 'Async', strict: true }),
    field: 'spec.replication.strict',
    message: 'strict applies only to mode Sync or Quorum',
    ajv: false,
  },
  {
    name: 'strict with as many sync replicas as instances',
    kind: C,
    object: cluster('spec.replication', { mode: 'Sync', strict: true, synchronousReplicas: 3 }),
    field: 'spec.replication.synchronousReplicas',
    message: 'must be less than replicas when strict is true',
    ajv: false,
  },
  {
    name: 'strict on a single instance',
    kind: C,
    object: set(cluster('spec.replicas', 1), 'spec.replication', { mode: 'Quorum', strict: true }),
    field: 'spec.replication.synchronousReplicas',
    message: 'must be less than replicas when strict is true',
    ajv: false,
  },
  {
    name: 'toleration with operator Exists and a value',
    kind: C,
    object: cluster('spec.scheduling', {
      tolerations: [{ key: 'dedicated', operator: 'Exists', value: 'db' }],
    }),
    field: 'spec.scheduling.tolerations[0].value',
    message: 'value must be empty when operator is Exists',
    ajv: false,
  },
  {
    name: 'toleration without a key',
    kind: C,
    object: cluster('spec.scheduling', { tolerations: [{ value: 'db', effect: 'NoSchedule' }] }),
    field: 'spec.scheduling.tolerations[0].key',
    message: 'key may be empty only when operator is Exists',
    ajv: false,
  },
  {
    name: 'tolerationSeconds without effect NoExecute',
    kind: C,
    object: cluster('spec.scheduling', {
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }],
    }),
    field: 'spec.scheduling.tolerations[0].tolerationSeconds',
    message: 'tolerationSeconds applies only to effect NoExecute',
    ajv: false,
  },
  {
    name: 'toleration with an unknown effect',
    kind: C,
    object: cluster('spec.scheduling', { tolerations: [{ key: 'dedicated', effect: 'NoRun' }] }),
    field: 'spec.scheduling.tolerations[0].effect',
    message: 'NoSchedule',
    ajv: true,
  },
  {
    name: 'replication.synchronousReplicas 0',
    kind: C,
    object: cluster('spec.replication', { mode: 'Sync', synchronousReplicas: 0 }),
    field: 'spec.replication.synchronousReplicas',
    message: 'should be greater than or equal to 1',
    ajv: true,
  },
  // Backup repository.
  {
    name: 'backup with both s3 and pvc',
    kind: C,
    object: cluster('spec.backup', { s3, pvc: { size: '1Gi' } }),
    field: 'spec.backup',
    message: 'exactly one repository must be set: s3 or pvc',
    ajv: false,
  },
  {
    name: 'backup with no repository',
    kind: C,
    object: cluster('spec.backup', {}),
    field: 'spec.backup',
    message: 'exactly one repository must be set: s3 or pvc',
    ajv: false,
  },
  {
    name: 's3 without bucket',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, bucket: undefined }),
    field: 'spec.backup.s3.bucket',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 's3 bucket with capitals and underscore',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, bucket: 'My_Bucket' }),
    field: 'spec.backup.s3.bucket',
    message: 'must be an S3 bucket name',
    ajv: false,
  },
  {
    name: 's3 endpoint without scheme',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, endpoint: 'minio:9000' }),
    field: 'spec.backup.s3.endpoint',
    message: 'must be an https:// URL',
    ajv: false,
  },
  {
    name: 's3 endpoint http (pgBackRest needs TLS)',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, endpoint: 'http://minio:9000' }),
    field: 'spec.backup.s3.endpoint',
    message: 'pgBackRest speaks S3 over TLS only',
    ajv: false,
  },
  {
    name: 's3 endpoint with a path',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, endpoint: 'https://minio:9000/bucket' }),
    field: 'spec.backup.s3.endpoint',
    message: 'no path',
    ajv: false,
  },
  {
    name: 's3 endpoint ftp',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, endpoint: 'ftp://minio' }),
    field: 'spec.backup.s3.endpoint',
    message: 'must be an https:// URL',
    ajv: false,
  },
  {
    name: 's3 uriStyle unknown',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, uriStyle: 'Virtual' }),
    field: 'spec.backup.s3.uriStyle',
    message: 'supported values: "Host", "Path"',
    ajv: true,
  },
  {
    name: 's3 without credentialsSecret',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, credentialsSecret: undefined }),
    field: 'spec.backup.s3.credentialsSecret',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 's3 credentialsSecret name not a name',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, credentialsSecret: { name: 'S3 Creds' } }),
    field: 'spec.backup.s3.credentialsSecret.name',
    message: 'must be a lowercase RFC 1123 name',
    ajv: false,
  },
  {
    name: 's3 tls caSecret without verification',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, tls: { verify: false, caSecret: { name: 'ca' } } }),
    field: 'spec.backup.s3.tls.caSecret',
    message: 'caSecret is only used when verify is true',
    ajv: false,
  },
  {
    name: 's3 path relative',
    kind: C,
    object: cluster('spec.backup.s3', { ...s3, path: 'backups/x' }),
    field: 'spec.backup.s3.path',
    message: 'should match',
    ajv: true,
  },
  {
    name: 'pvc repository without size',
    kind: C,
    object: cluster('spec.backup.pvc', { storageClass: 'x' }),
    field: 'spec.backup.pvc.size',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'PVC retention policy unknown',
    kind: C,
    object: cluster('spec.persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Purge' }),
    field: 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted',
    message: 'supported values: "Retain", "Delete"',
    ajv: true,
  },
  // The cluster's name becomes object names; only CEL sees metadata.name.
  {
    name: 'cluster name starting with a digit',
    kind: C,
    object: ticketCluster('1cluster'),
    field: '<nil>',
    message: 'metadata.name must be a lowercase letter first',
    ajv: false,
  },
  {
    name: 'cluster name of 51 characters',
    kind: C,
    object: ticketCluster(`c${'x'.repeat(50)}`),
    field: '<nil>',
    message: 'at most 50 characters',
    ajv: false,
  },
  // PostgresCluster: forbidden changes (transition rules).
  {
    name: 'version lowered',
    kind: C,
    object: cluster('spec.version', 17, ticketCluster('downgrade')),
    update: cluster('spec.version', 16, ticketCluster('downgrade')),
    field: 'spec.version',
    message: 'version cannot be lowered',
    ajv: false,
  },
  {
    name: 'storageClass changed',
    kind: C,
    object: cluster('spec.storage.storageClass', 'fast', ticketCluster('sc-change')),
    update: cluster('spec.storage.storageClass', 'slow', ticketCluster('sc-change')),
    field: 'spec.storage.storageClass',
    message: 'storageClass is immutable',
    ajv: false,
  },
  {
    name: 'storageClass added later',
    kind: C,
    object: ticketCluster('sc-add'),
    update: cluster('spec.storage.storageClass', 'fast', ticketCluster('sc-add')),
    field: 'spec.storage.storageClass',
    message: 'storageClass is immutable',
    ajv: false,
  },
  {
    name: 'storage.size shrunk',
    kind: C,
    object: ticketCluster('shrink'),
    update: cluster('spec.storage.size', '5Gi', ticketCluster('shrink')),
    field: 'spec.storage.size',
    message: 'size cannot be decreased',
    ajv: false,
  },
  {
    name: 'backup pvc storageClass changed',
    kind: C,
    object: cluster('spec.backup', { pvc: { size: '1Gi', storageClass: 'a' } }, ticketCluster('repo-sc')),
    update: cluster('spec.backup', { pvc: { size: '1Gi', storageClass: 'b' } }, ticketCluster('repo-sc')),
    field: 'spec.backup.pvc.storageClass',
    message: 'storageClass is immutable',
    ajv: false,
  },

  // PostgresBackup.
  {
    name: 'clusterName missing',
    kind: B,
    object: backup('spec.clusterName', DELETE),
    field: 'spec.clusterName',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'clusterName not a cluster name',
    kind: B,
    object: backup('spec.clusterName', 'My_Cluster'),
    field: 'spec.clusterName',
    message: 'must be a PostgresCluster name',
    ajv: false,
  },
  {
    name: 'schedule of four fields',
    kind: B,
    object: backup('spec.schedule', '0 2 * *'),
    field: 'spec.schedule',
    message: 'must be a cron expression of five fields',
    ajv: false,
  },
  {
    name: 'schedule of six fields',
    kind: B,
    object: backup('spec.schedule', '0 0 2 * * *'),
    field: 'spec.schedule',
    message: 'must be a cron expression of five fields',
    ajv: false,
  },
  {
    name: 'schedule minute 61',
    kind: B,
    object: backup('spec.schedule', '61 * * * *'),
    field: 'spec.schedule',
    message: 'minute 0-59',
    ajv: false,
  },
  {
    name: 'schedule hour 24',
    kind: B,
    object: backup('spec.schedule', '0 24 * * *'),
    field: 'spec.schedule',
    message: 'hour 0-23',
    ajv: false,
  },
  {
    name: 'schedule in words',
    kind: B,
    object: backup('spec.schedule', 'every day at 2'),
    field: 'spec.schedule',
    message: 'must be a cron expression',
    ajv: false,
  },
  {
    name: 'schedule with an unknown macro',
    kind: B,
    object: backup('spec.schedule', '@fortnightly'),
    field: 'spec.schedule',
    message: 'must be a cron expression',
    ajv: false,
  },
  {
    name: 'retention.days negative',
    kind: B,
    object: backup('spec.retention.days', -1),
    field: 'spec.retention.days',
    message: 'should be greater than or equal to 0',
    ajv: true,
  },
  {
    name: 'retention.count zero',
    kind: B,
    object: backup('spec.retention.count', 0),
    field: 'spec.retention.count',
    message: 'should be greater than or equal to 1',
    ajv: true,
  },
  {
    name: 'retention.count negative',
    kind: B,
    object: backup('spec.retention.count', -5),
    field: 'spec.retention.count',
    message: 'should be greater than or equal to 1',
    ajv: true,
  },
  {
    name: 'retention.days as text',
    kind: B,
    object: backup('spec.retention.days', '7d'),
    field: 'spec.retention.days',
    message: 'must be of type integer',
    ajv: true,
  },
  {
    name: 'backup type unknown',
    kind: B,
    object: backup('spec.type', 'Snapshot'),
    field: 'spec.type',
    message: 'supported values: "Full", "Differential", "Incremental"',
    ajv: true,
  },
  {
    name: 'keepForever as text',
    kind: B,
    object: backup('spec.keepForever', 'yes'),
    field: 'spec.keepForever',
    message: 'must be of type boolean',
    ajv: true,
  },
  {
    name: 'clusterName changed',
    kind: B,
    object: ticketBackup('moved'),
    update: set(ticketBackup('moved'), 'spec.clusterName', 'other-cluster'),
    field: 'spec.clusterName',
    message: 'clusterName is immutable',
    ajv: false,
  },

  // PostgresRestore.
  {
    name: 'source with clusterName and backupName',
    kind: R,
    object: restore('spec.source', { clusterName: 'a', backupName: 'b' }),
    field: 'spec.source',
    message: 'exactly one of clusterName or backupName must be set',
    ajv: false,
  },
  {
    name: 'source empty',
    kind: R,
    object: restore('spec.source', {}),
    field: 'spec.source',
    message: 'exactly one of clusterName or backupName must be set',
    ajv: false,
  },
  {
    name: 'source repository with backupName',
    kind: R,
    object: restore('spec.source', { backupName: 'b', repository: { s3 } }),
    field: 'spec.source.repository',
    message: 'repository can only be given with clusterName',
    ajv: false,
  },
  {
    name: 'source repository with s3 and pvc',
    kind: R,
    object: restore('spec.source', { clusterName: 'a', repository: { s3, pvc: { size: '1Gi' } } }),
    field: 'spec.source.repository',
    message: 'exactly one repository must be set',
    ajv: false,
  },
  {
    name: 'target time in words',
    kind: R,
    object: restore('spec.target.time', 'yesterday'),
    field: 'spec.target.time',
    message: 'must be of type date-time',
    ajv: true,
  },
  {
    name: 'target time without a zone',
    kind: R,
    object: restore('spec.target.time', '2024-01-15T01:30:00'),
    field: 'spec.target.time',
    message: 'must be of type date-time',
    ajv: true,
  },
  {
    name: 'target time with a space',
    kind: R,
    object: restore('spec.target.time', '2024-01-15 01:30:00Z'),
    field: 'spec.target.time',
    message: 'must be of type date-time',
    ajv: false,
  },
  {
    name: 'target backupLabel and time',
    kind: R,
    object: restore('spec.target', { backupLabel: '20240115-020000F', time: '2024-01-15T03:00:00Z' }),
    field: 'spec.target',
    message: 'set backupLabel or time, not both',
    ajv: false,
  },
  {
    name: 'target exclusive without time',
    kind: R,
    object: restore('spec.target', { exclusive: true }),
    field: 'spec.target.exclusive',
    message: 'exclusive applies only to time',
    ajv: false,
  },
  {
    name: 'target backupLabel not a label',
    kind: R,
    object: restore('spec.target', { backupLabel: 'latest' }),
    field: 'spec.target.backupLabel',
    message: 'must be a pgBackRest backup label',
    ajv: false,
  },
  {
    name: 'destination missing',
    kind: R,
    object: restore('spec.destination', DELETE),
    field: 'spec.destination',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'destination empty',
    kind: R,
    object: restore('spec.destination', {}),
    field: 'spec.destination',
    message: 'exactly one of newCluster or inPlace must be set',
    ajv: false,
  },
  {
    name: 'destination newCluster and inPlace',
    kind: R,
    object: restore('spec.destination.inPlace', { clusterName: 'my-cluster', confirm: 'my-cluster' }),
    field: 'spec.destination',
    message: 'exactly one of newCluster or inPlace must be set',
    ajv: false,
  },
  {
    name: 'in-place restore without confirmation',
    kind: R,
    object: restore('spec.destination.inPlace', { clusterName: 'my-cluster' }, restoreInPlace('invalid')),
    field: 'spec.destination.inPlace.confirm',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'in-place restore confirming another cluster',
    kind: R,
    object: restore(
      'spec.destination.inPlace',
      { clusterName: 'my-cluster', confirm: 'yes' },
      restoreInPlace('invalid'),
    ),
    field: 'spec.destination.inPlace.confirm',
    message: 'confirm must repeat clusterName',
    ajv: false,
  },
  {
    name: 'new cluster without spec',
    kind: R,
    object: restore('spec.destination.newCluster', { name: 'x' }),
    field: 'spec.destination.newCluster.spec',
    message: 'Required value',
    ajv: true,
  },
  {
    name: 'new cluster with version 13',
    kind: R,
    object: restore('spec.destination.newCluster.spec.version', 13),
    field: 'spec.destination.newCluster.spec.version',
    message: 'supported values: "14", "15", "16", "17", "18"',
    ajv: true,
  },
  {
    name: 'new cluster name with capitals',
    kind: R,
    object: restore('spec.destination.newCluster.name', 'Restored'),
    field: 'spec.destination.newCluster.name',
    message: 'must be a PostgresCluster name',
    ajv: false,
  },
  {
    name: 'new cluster spec with an owned parameter',
    kind: R,
    object: restore('spec.destination.newCluster.spec.postgresql', { parameters: { restore_command: 'cp' } }),
    field: 'spec.destination.newCluster.spec.postgresql.parameters',
    message: 'parameter restore_command is managed by pgop',
    ajv: false,
  },
];

/** The full cluster example with one field changed: used to show ajv defaults and errors in unit tests. */
export const fullClusterWith = (path: string, value: unknown) => set(fullCluster(), path, value);
