/** PostgresCluster: a PostgreSQL cluster of one primary and streaming replicas under Patroni. */
import { Type, type Static } from '@sinclair/typebox';
import { statusTail } from './condition.js';
import {
  cel,
  intOrString,
  intOrStringQuantity,
  integerEnum,
  objectName,
  stringEnum,
  stringMap,
} from './k8s.js';
import type { CustomObject } from './meta.js';
import { CLUSTER_NAME_ALLOWED, clusterNameRule } from './names.js';
import { NetworkPolicySchema } from './network-policy.js';
import { RepositorySchema } from './repository.js';
import { PoolerSchema } from './pooler.js';
import {
  StorageSchema,
  VolumesStatusSchema,
  WalStorageRootRule,
  WalStorageRules,
  WalStorageSchema,
} from './storage.js';
import { ClusterRestoreSchema, ClusterRestoreStatusSchema, InPlaceRestoreSchema } from './cluster-restore.js';
import {
  AccessRules,
  DatabasesSchema,
  DatabasesStatusSchema,
  RolesSchema,
  RolesStatusSchema,
} from './access.js';

/** PostgreSQL majors the CRD accepts. Which of them have images is documented in docs/api.md. */
export const SUPPORTED_VERSIONS = [14, 15, 16, 17, 18] as const;
export type PostgresVersion = (typeof SUPPORTED_VERSIONS)[number];

export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 10;

/**
 * PostgreSQL parameters users may not set: pgop sets them itself (the pod layout, replication,
 * archiving and recovery depend on them, so a user value would break HA or backups: pg_rewind
 * needs full_page_writes; the server logs to stderr, which kubectl logs shows, so the log file
 * settings are pgop's), or they make the server run a command, load code from a path or write
 * files where it should not, which a spec must not be able to do.
 * Compared without case, as PostgreSQL compares parameter names. Rejected at apply time (CEL)
 * and again by the controllers (ownedParameterIssues).
 */
export const OPERATOR_OWNED_PARAMETERS = [
  'allow_alter_system',
  'allow_system_table_mods',
  'archive_cleanup_command',
  'archive_command',
  'archive_library',
  'archive_mode',
  'cluster_name',
  'config_file',
  'data_directory',
  'data_sync_retry',
  'dynamic_library_path',
  'external_pid_file',
  'full_page_writes',
  'hba_file',
  'hot_standby',
  'ident_file',
  'jit_provider',
  'krb_server_keyfile',
  'listen_addresses',
  'log_destination',
  'log_directory',
  'log_file_mode',
  'log_filename',
  'logging_collector',
  'port',
  'primary_conninfo',
  'primary_slot_name',
  'promote_trigger_file',
  'recovery_end_command',
  'restore_command',
  'ssl',
  'ssl_ca_file',
  'ssl_cert_file',
  'ssl_crl_dir',
  'ssl_crl_file',
  'ssl_dh_params_file',
  'ssl_key_file',
  'ssl_passphrase_command',
  'ssl_passphrase_command_supports_reload',
  'stats_temp_directory',
  'synchronous_standby_names',
  'unix_socket_directories',
  'unix_socket_group',
  'unix_socket_permissions',
  'wal_log_hints',
] as const;
/** Parameters starting with these prefixes are owned by pgop too (recovery targets are set by a restore). */
export const OPERATOR_OWNED_PARAMETER_PREFIXES = ['recovery_target'] as const;

const celList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
const ownedParameter = (k: string) =>
  `(${k}.lowerAscii() in ${celList(OPERATOR_OWNED_PARAMETERS)} || ${OPERATOR_OWNED_PARAMETER_PREFIXES.map((p) => `${k}.lowerAscii().startsWith('${p}')`).join(' || ')})`;

/** wal_level values that keep streaming replication and WAL archiving working. */
export const WAL_LEVELS = ['replica', 'logical'] as const;
export const WAL_LEVEL_MESSAGE =
  'wal_level must be replica or logical: streaming replicas and WAL archiving need at least replica';

/** Whether users may not set this parameter (any case). */
export function isOwnedParameter(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    (OPERATOR_OWNED_PARAMETERS as readonly string[]).includes(lower) ||
    OPERATOR_OWNED_PARAMETER_PREFIXES.some((p) => lower.startsWith(p))
  );
}

const ResourceListSchema = Type.Object(
  {
    cpu: Type.Optional(intOrStringQuantity({ description: 'CPU, in cores (1) or millicores (500m).' })),
    memory: Type.Optional(intOrStringQuantity({ description: 'Memory, e.g. 2Gi.' })),
  },
  { description: 'Amounts of CPU and memory.' },
);

/** requests.X <= limits.X for X in cpu, memory; the value may be an integer or a string. */
const requestWithinLimit = (resource: 'cpu' | 'memory') =>
  cel(
    `!has(self.requests) || !has(self.limits) || !has(self.requests.${resource}) || !has(self.limits.${resource}) || ` +
      `!isQuantity(string(self.requests.${resource})) || !isQuantity(string(self.limits.${resource})) || ` +
      `quantity(string(self.requests.${resource})).compareTo(quantity(string(self.limits.${resource}))) <= 0`,
    `requests.${resource} must not exceed limits.${resource}`,
    { fieldPath: `.requests.${resource}` },
  );

export const ResourcesSchema = Type.Object(
  {
    requests: Type.Optional(ResourceListSchema),
    limits: Type.Optional(ResourceListSchema),
  },
  {
    description:
      'CPU and memory of the PostgreSQL container, as in a Pod spec. Changing them rolls the pods.',
    'x-kubernetes-validations': [requestWithinLimit('cpu'), requestWithinLimit('memory')],
  },
);

export const PostgresqlSchema = Type.Object(
  {
    parameters: Type.Optional(
      stringMap(
        intOrString({ description: 'Value of the parameter; write booleans as strings ("on", "off").' }),
        {
          description:
            'postgresql.conf parameters, e.g. max_connections: 200, shared_buffers: 1GB. Parameters pgop owns, or that make the server run a command or load code from a path ' +
            `(${OPERATOR_OWNED_PARAMETERS.join(', ')}, recovery_target*; in any case) are rejected. Changing a parameter that needs a restart rolls the pods.`,
          maxProperties: 128,
          'x-kubernetes-validations': [
            {
              rule: `self.all(k, !${ownedParameter('k')})`,
              message: 'parameters managed by pgop cannot be set (see the field description)',
              messageExpression: `'parameter ' + self.filter(k, ${ownedParameter('k')})[0] + ' is managed by pgop and cannot be set'`,
            },
            cel(
              // The other spellings of the name are refused by the controllers' re-check (ajv.ts): a
              // rule over every key's value exceeds the API server's CEL cost budget.
              `!('wal_level' in self) || string(self['wal_level']) in ${celList(WAL_LEVELS)}`,
              WAL_LEVEL_MESSAGE,
            ),
          ],
        },
      ),
    ),
  },
  { description: 'PostgreSQL server settings.' },
);

export const ReplicationSchema = Type.Object(
  {
    mode: Type.Optional(
      stringEnum(['Async', 'Sync', 'Quorum'] as const, {
        description:
          'Async: replicas stream asynchronously; a failover may lose the last commits. Sync: commits wait for synchronousReplicas named standbys (Patroni synchronous_mode). Quorum: commits wait for any synchronousReplicas standbys (Patroni quorum mode). Default: Async.',
        default: 'Async',
      }),
    ),
    synchronousReplicas: Type.Optional(
      Type.Integer({
        description: 'How many standbys must confirm each commit in Sync and Quorum modes. Default: 1.',
        default: 1,
        minimum: 1,
        maximum: MAX_REPLICAS - 1,
      }),
    ),
    strict: Type.Optional(
      Type.Boolean({
        description:
          'In Sync and Quorum modes, refuse writes when too few standbys are available instead of falling back to asynchronous replication (Patroni synchronous_mode_strict). Default: false.',
        default: false,
      }),
    ),
  },
  {
    description: 'How commits are replicated.',
    'x-kubernetes-validations': [
      cel(
        "!has(self.strict) || !self.strict || !has(self.mode) || self.mode != 'Async'",
        'strict applies only to mode Sync or Quorum',
        { fieldPath: '.strict', reason: 'FieldValueForbidden' },
      ),
    ],
  },
);

export const PvcRetentionPolicySchema = Type.Object(
  {
    whenScaled: Type.Optional(
      stringEnum(['Retain', 'Delete'] as const, {
        description: 'What happens to the volume of an instance removed by a scale-down. Default: Retain.',
        default: 'Retain',
      }),
    ),
    whenDeleted: Type.Optional(
      stringEnum(['Retain', 'Delete'] as const, {
        description: 'What happens to the data volumes when the PostgresCluster is deleted. Default: Retain.',
        default: 'Retain',
      }),
    ),
  },
  { description: 'Whether data volumes are kept (the default, so no data is lost by accident) or deleted.' },
);

export const HighAvailabilitySchema = Type.Object(
  {
    forceDeletePodsOnLostNodes: Type.Optional(
      Type.Boolean({
        description:
          "Force-delete an instance pod whose node is proven gone, so the StatefulSet can recreate it elsewhere: the Node object deleted, or tainted node.kubernetes.io/out-of-service (or the provider's shutdown taint). Never while its Patroni still renews the leader lock. Default: true.",
        default: true,
      }),
    ),
    lostNodeConfirmationSeconds: Type.Optional(
      Type.Integer({
        description:
          "Opt-in: also force-delete an instance pod whose node has been NotReady this long (counted from its Ready condition's last transition), without proof that the node is gone. A NotReady node may be alive and cut off from the API server: on storage that does not fence, two PostgreSQL servers can then write one volume (docs/ha.md). Unset (the default): only on proof.",
        minimum: 10,
        maximum: 86400,
      }),
    ),
  },
  {
    description:
      'High availability. Failover itself is done by Patroni inside the pods (see docs/ha.md); these settings cover what Kubernetes cannot decide for it.',
  },
);

const TolerationSchema = Type.Object(
  {
    key: Type.Optional(
      Type.String({
        description: 'The taint key to tolerate; empty with operator Exists tolerates every taint.',
        maxLength: 316,
      }),
    ),
    operator: Type.Optional(
      stringEnum(['Exists', 'Equal'] as const, {
        description: 'Exists: any value of the key. Equal: only the given value. Default: Equal.',
      }),
    ),
    value: Type.Optional(Type.String({ description: 'The taint value, for operator Equal.', maxLength: 63 })),
    effect: Type.Optional(
      stringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const, {
        description: 'The taint effect to tolerate; empty tolerates every effect.',
      }),
    ),
    tolerationSeconds: Type.Optional(
      Type.Integer({
        description: 'For effect NoExecute: how long the pod stays on the node after the taint is added.',
        minimum: 0,
      }),
    ),
  },
  {
    description: 'A Kubernetes toleration, copied to the instance pods.',
    'x-kubernetes-validations': [
      cel(
        "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
        'value must be empty when operator is Exists',
        { fieldPath: '.value' },
      ),
      cel(
        "has(self.key) && self.key != '' || has(self.operator) && self.operator == 'Exists'",
        'key may be empty only when operator is Exists',
        { fieldPath: '.key' },
      ),
      cel(
        "!has(self.tolerationSeconds) || has(self.effect) && self.effect == 'NoExecute'",
        'tolerationSeconds applies only to effect NoExecute',
        { fieldPath: '.tolerationSeconds' },
      ),
    ],
  },
);

export const SchedulingSchema = Type.Object(
  {
    nodeSelector: Type.Optional(
      stringMap(Type.String({ description: 'Label value.', maxLength: 63 }), {
        description: 'Node labels an instance pod requires (the pod nodeSelector).',
        maxProperties: 20,
      }),
    ),
    tolerations: Type.Optional(
      Type.Array(TolerationSchema, {
        description: 'Taints the instance pods tolerate, e.g. to run on nodes dedicated to databases.',
        maxItems: 20,
      }),
    ),
  },
  {
    description:
      'Where the instance pods may run. pgop always prefers to spread them over nodes (pod anti-affinity on kubernetes.io/hostname).',
  },
);

export const PostgresClusterSpecSchema = Type.Object(
  {
    version: integerEnum(SUPPORTED_VERSIONS, {
      description:
        'PostgreSQL major version. It cannot be lowered, except back to the version of the data (status.version) after a refused upgrade.',
    }),
    replicas: Type.Integer({
      description: `Number of PostgreSQL instances: one primary and replicas-1 streaming replicas (${MIN_REPLICAS}-${MAX_REPLICAS}).`,
      minimum: MIN_REPLICAS,
      maximum: MAX_REPLICAS,
    }),
    image: Type.Optional(
      Type.String({
        description:
          "Container image with PostgreSQL, Patroni, pgBackRest and /usr/local/bin/pgop-fence (images/postgres; Patroni's watchdog, required) for this major version. Default: the operator's image for spec.version.",
        minLength: 1,
        maxLength: 512,
      }),
    ),
    storage: StorageSchema,
    walStorage: Type.Optional(WalStorageSchema),
    resources: Type.Optional(ResourcesSchema),
    postgresql: Type.Optional(PostgresqlSchema),
    replication: Type.Optional(ReplicationSchema),
    backup: Type.Optional(RepositorySchema),
    persistentVolumeClaimRetentionPolicy: Type.Optional(PvcRetentionPolicySchema),
    superuserAccess: Type.Optional(
      Type.Boolean({
        description:
          'Whether the superuser (postgres, Secret <name>-superuser) may log in from other pods. Off by default: applications use the application role (Secret <name>-app); pgop and Patroni reach the superuser from inside the pod (local socket). Changing it applies without a restart.',
        default: false,
      }),
    ),
    allowInPlaceRestore: Type.Optional(
      Type.Boolean({
        description:
          "Whether a PostgresRestore with destination.inPlace may replace this cluster's data with its backups (later commits are lost). Off by default: the right to create a PostgresRestore alone must not roll a production cluster back; whoever may edit the cluster opts in here. While false, such a restore waits (Pending, InPlaceRestoreNotAllowed).",
        default: false,
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          serverCertificateSecret: Type.Optional(
            objectName(
              'A kubernetes.io/tls Secret in the same namespace (keys tls.crt, tls.key and ca.crt, as a cert-manager Certificate writes it) whose certificate PostgreSQL serves to clients and members instead of the one pgop issues. It must name <name>-primary.<namespace>.svc, <name>-replica.<namespace>.svc and *.<name>-pods.<namespace>.svc (replicas verify the primary by its pod name). A renewed certificate in the Secret is served without a restart. Applications then verify the server with its ca.crt (copied into Secret <name>-app).',
            ),
          ),
        },
        {
          description:
            "TLS of the PostgreSQL connections. pgop always makes a CA per cluster for Patroni's API and the replication and rewind client certificates (Secret <name>-tls); by default it also issues the server certificate.",
        },
      ),
    ),
    networkPolicy: Type.Optional(NetworkPolicySchema),
    deletionProtection: Type.Optional(
      Type.Boolean({
        description:
          "While true, deleting this PostgresCluster is refused by the API server (the chart's ValidatingAdmissionPolicy), also through its namespace's deletion; set it to false first. pgop's own deletions of the clusters it made (a failed restore's, a verification's) are exempt.",
        default: false,
      }),
    ),
    highAvailability: Type.Optional(HighAvailabilitySchema),
    scheduling: Type.Optional(SchedulingSchema),
    restore: Type.Optional(ClusterRestoreSchema),
    inPlaceRestore: Type.Optional(InPlaceRestoreSchema),
    roles: Type.Optional(RolesSchema),
    databases: Type.Optional(DatabasesSchema),
    pooler: Type.Optional(PoolerSchema),
  },
  {
    description: 'Desired state of the cluster.',
    'x-kubernetes-validations': [
      cel(
        '!has(self.replication) || !has(self.replication.strict) || !self.replication.strict || (has(self.replication.synchronousReplicas) ? self.replication.synchronousReplicas : 1) < self.replicas',
        'replication.synchronousReplicas must be less than replicas when strict is true: otherwise no write could ever commit',
        { fieldPath: '.replication.synchronousReplicas' },
      ),
      cel(
        '!has(self.inPlaceRestore) || has(self.backup)',
        "inPlaceRestore restores the cluster's own backups: spec.backup must name its repository",
        { fieldPath: '.inPlaceRestore' },
      ),
      ...AccessRules,
      ...WalStorageRules,
    ],
  },
);

export const CLUSTER_PHASES = ['Pending', 'Creating', 'Running', 'Updating', 'Degraded', 'Failed'] as const;
export type ClusterPhase = (typeof CLUSTER_PHASES)[number];

const podName = (description: string) => Type.String({ description, maxLength: 253 });
const timestamp = (description: string) => Type.String({ description, format: 'date-time' });

export const PRIMARY_CHANGE_REASONS = [
  'Switchover',
  'PrimaryUnavailable',
  'NodeNotReady',
  'PrimaryChanged',
] as const;

export const PrimaryChangeSchema = Type.Object(
  {
    time: timestamp(
      "When the new primary took the leader lock (Patroni's acquireTime), or when pgop saw it.",
    ),
    from: podName('The pod that held the primary role before.'),
    to: podName('The pod that holds it since.'),
    reason: stringEnum(PRIMARY_CHANGE_REASONS, {
      description:
        'Switchover: asked for by pgop (a switchover request, a rolling update or a scale-down). The others are failovers decided by Patroni, by what pgop saw of the old primary: PrimaryUnavailable (its pod gone, terminating or not ready), NodeNotReady (its node not ready), PrimaryChanged (its pod still looked ready: e.g. a patronictl switchover, or a node lost before Kubernetes noticed, which takes it 40-50 s).',
    }),
  },
  { description: 'A change of the primary instance.' },
);

export const SWITCHOVER_PHASES = ['InProgress', 'Succeeded', 'Failed'] as const;

export const SwitchoverStatusSchema = Type.Object(
  {
    request: Type.Optional(
      Type.String({
        description:
          'The value of the postgres.example.com/switchover annotation this switchover answered; absent for switchovers of a rolling update or scale-down.',
        maxLength: 253,
      }),
    ),
    reason: stringEnum(['Requested', 'RollingUpdate', 'ScaleDown'] as const, {
      description: 'Why pgop switched over.',
    }),
    phase: stringEnum(SWITCHOVER_PHASES, { description: 'Where the switchover is.' }),
    from: Type.Optional(podName('The primary when the switchover started.')),
    to: Type.Optional(podName('The replica chosen to become primary.')),
    message: Type.Optional(Type.String({ description: 'What happened, or why it failed.', maxLength: 1024 })),
    startedAt: timestamp('When pgop accepted the switchover.'),
    completedAt: Type.Optional(timestamp('When it succeeded or failed.')),
  },
  { description: 'The last switchover pgop asked Patroni for.' },
);

export const PRIMARY_HISTORY_LIMIT = 10;

export const ArchivingStatusSchema = Type.Object(
  {
    lastArchivedWal: Type.Optional(
      Type.String({ description: 'The last WAL file archived.', maxLength: 64 }),
    ),
    lastArchivedTime: Type.Optional(timestamp('When it was archived.')),
    failedCount: Type.Optional(
      Type.Integer({
        description: "Failed archive attempts since the primary's statistics were reset.",
        minimum: 0,
      }),
    ),
    lastFailedWal: Type.Optional(
      Type.String({ description: 'The last WAL file whose archiving failed.', maxLength: 64 }),
    ),
    lastFailedTime: Type.Optional(timestamp('When that failed.')),
  },
  { description: "WAL archiving on the primary, from PostgreSQL's pg_stat_archiver." },
);

export const BackupRepositoryStatusSchema = Type.Object(
  {
    repository: Type.Optional(
      Type.String({
        description:
          'The repository WAL is archived to, e.g. s3://bucket/pgbackrest/ns/name. Set once pgop has checked it can write there; archiving stays on for it from then on.',
        maxLength: 2048,
      }),
    ),
    stanzaCreated: Type.Optional(
      Type.Boolean({ description: 'The pgBackRest stanza exists in that repository for this cluster.' }),
    ),
    archiving: Type.Optional(ArchivingStatusSchema),
  },
  { description: 'The pgBackRest repository of spec.backup, as the cluster controller last saw it.' },
);

export const PoolerStatusSchema = Type.Object(
  {
    readyInstances: Type.Integer({ description: 'Ready pods of <name>-pooler.', minimum: 0 }),
    readyReadOnlyInstances: Type.Integer({ description: 'Ready pods of <name>-pooler-ro.', minimum: 0 }),
  },
  { description: 'The PgBouncer pooler of spec.pooler (condition PoolerReady).' },
);

export const PostgresClusterStatusSchema = Type.Object(
  {
    phase: Type.Optional(
      stringEnum(CLUSTER_PHASES, {
        description:
          'Pending: accepted, not yet acted on. Creating: first instances starting. Running: every instance ready. Updating: a rolling change is in progress. Degraded: serving, but some instances are not ready. Failed: not serving; see conditions.',
        default: 'Pending',
      }),
    ),
    replicas: Type.Optional(
      Type.Integer({ description: 'Number of instances (pods) that exist.', minimum: 0 }),
    ),
    readyReplicas: Type.Optional(Type.Integer({ description: 'Number of ready instances.', minimum: 0 })),
    version: Type.Optional(
      Type.Integer({
        description: 'PostgreSQL major version of the data the instances hold.',
        minimum: 0,
      }),
    ),
    readySummary: Type.Optional(
      Type.String({
        description: 'Ready instances over desired, e.g. "1/3" (the REPLICAS column).',
        maxLength: 16,
      }),
    ),
    primaryPod: Type.Optional(
      podName(
        "The pod that holds the primary role (Patroni's leader lock). While no instance holds it (during a failover) this is the last one that did, and the Ready condition is False with reason NoPrimary.",
      ),
    ),
    lastFailover: Type.Optional(
      Type.Object(PrimaryChangeSchema.properties, {
        description:
          'The last failover: a change of primary pgop did not ask for. A Warning event FailoverExecuted is recorded with it.',
      }),
    ),
    lastSwitchover: Type.Optional(SwitchoverStatusSchema),
    primaryHistory: Type.Optional(
      Type.Array(PrimaryChangeSchema, {
        description: `The last ${PRIMARY_HISTORY_LIMIT} changes of primary, failovers and switchovers, newest first.`,
        maxItems: PRIMARY_HISTORY_LIMIT,
      }),
    ),
    backup: Type.Optional(BackupRepositoryStatusSchema),
    restore: Type.Optional(ClusterRestoreStatusSchema),
    roles: Type.Optional(RolesStatusSchema),
    databases: Type.Optional(DatabasesStatusSchema),
    pooler: Type.Optional(PoolerStatusSchema),
    volumes: Type.Optional(VolumesStatusSchema),
    selector: Type.Optional(
      Type.String({
        description: 'Label selector of the instance pods (for the scale subresource and HPA).',
        maxLength: 1024,
      }),
    ),
    ...statusTail(),
  },
  { description: 'Observed state of the cluster, written by the cluster controller.', default: {} },
);

export type PostgresClusterSpec = Static<typeof PostgresClusterSpecSchema>;
export type PostgresClusterStatus = Static<typeof PostgresClusterStatusSchema>;
export type BackupRepositoryStatus = Static<typeof BackupRepositoryStatusSchema>;
export type PrimaryChange = Static<typeof PrimaryChangeSchema>;
export type SwitchoverStatus = Static<typeof SwitchoverStatusSchema>;
export type PostgresCluster = CustomObject<PostgresClusterSpec, PostgresClusterStatus>;

/** Rules on the whole object; the only place CEL can see metadata.name. */
export const PostgresClusterRootRules = [
  // On the root because it compares with status: going back to the version of the data undoes
  // a refused major upgrade, which would otherwise block the cluster for good.
  cel(
    'self.spec.version >= oldSelf.spec.version || (has(oldSelf.status) && has(oldSelf.status.version) && self.spec.version == oldSelf.status.version)',
    'version cannot be lowered below the version of the data (status.version): PostgreSQL data files cannot be downgraded; restore a backup into a new cluster instead',
    { fieldPath: '.spec.version' },
  ),
  // A restore happens once, when the cluster is created: set later it would do nothing, and
  // changed it would no longer say where the data came from. It may be removed afterwards.
  cel(
    '!has(self.spec.restore) || (has(oldSelf.spec.restore) && self.spec.restore == oldSelf.spec.restore)',
    'restore can only be set when the cluster is created and cannot be changed afterwards (it may be removed): to restore again, create a new cluster or use a PostgresRestore',
    { fieldPath: '.spec.restore' },
  ),
  WalStorageRootRule,
  cel(
    clusterNameRule('self.metadata.name'),
    `metadata.name must be ${CLUSTER_NAME_ALLOWED}: it names the StatefulSet, its pods and the Services <name>-primary, <name>-replica and <name>-pods`,
  ),
];
