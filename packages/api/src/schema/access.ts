/**
 * spec.roles and spec.databases: the application roles and databases pgop keeps in the server,
 * and what status says of each. Names are limited to lowercase identifiers, so they never need
 * quoting in SQL nor escaping in a Secret's name.
 */
import { Type, type Static } from '@sinclair/typebox';
import { cel, objectName, stringEnum } from './k8s.js';

/** A role or database name: a lowercase letter, then lowercase letters, digits and "_". */
export const ACCESS_NAME_PATTERN = '^[a-z]([a-z0-9_]{0,61}[a-z0-9])?$';
export const ACCESS_NAME_ALLOWED =
  'a lowercase letter first, then lowercase letters, digits and "_", ending with a letter or digit, at most 63 characters';

/**
 * Roles pgop makes itself (access/roles.ts in the cluster controller, and the pooler's); a spec
 * entry must not take them over. Names starting with pg_ are PostgreSQL's.
 */
export const RESERVED_ROLES = [
  'postgres',
  'replicator',
  'rewinder',
  'app',
  'pgop_monitor',
  'pgop_pooler',
] as const;

/**
 * Roles a spec role may not be a member of: the superuser and pgop's own (SET ROLE would give
 * their rights), and PostgreSQL's roles that run programs or read and write files on the server
 * (the equivalent of a shell in the pod).
 */
export const FORBIDDEN_MEMBERSHIPS = [
  'postgres',
  'replicator',
  'rewinder',
  'pgop_monitor',
  'pgop_pooler',
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
] as const;

/** Databases pgop or PostgreSQL own: `app` is the application role's (Secret <name>-app). */
export const RESERVED_DATABASES = ['postgres', 'template0', 'template1', 'app'] as const;

export const MAX_ROLES = 64;
export const MAX_DATABASES = 64;

const celList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
const namePattern = ACCESS_NAME_PATTERN.replaceAll('\\', '\\\\');

function accessName(what: string, reserved: readonly string[], description: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 63,
    'x-kubernetes-validations': [
      cel(`self.matches('${namePattern}')`, `${what} name must be ${ACCESS_NAME_ALLOWED}`),
      cel(
        `!(self in ${celList(reserved)}) && !self.startsWith('pg_')`,
        `${what} name must not be one of ${reserved.join(', ')} (pgop's or PostgreSQL's own) nor start with pg_`,
      ),
    ],
  });
}

export const RECLAIM_POLICIES = ['Retain', 'Delete'] as const;

export const RoleSchema = Type.Object(
  {
    name: accessName('role', RESERVED_ROLES, 'The role name.'),
    login: Type.Optional(
      Type.Boolean({
        description:
          'Whether the role may log in. A login role gets a password: from passwordSecret, or generated into Secret <cluster>-role-<name, "_" as "-"> with connection strings. Default: true.',
        default: true,
      }),
    ),
    inherit: Type.Optional(
      Type.Boolean({
        description:
          'Whether the role uses the rights of the roles it is a member of without SET ROLE. Default: true.',
        default: true,
      }),
    ),
    createdb: Type.Optional(
      Type.Boolean({ description: 'Whether the role may create databases. Default: false.', default: false }),
    ),
    connectionLimit: Type.Optional(
      Type.Integer({
        description: 'How many connections the role may have at once; -1: no limit. Default: -1.',
        minimum: -1,
        maximum: 100000,
        default: -1,
      }),
    ),
    inRoles: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63, description: 'A role name.' }), {
        description: `Roles this role is a member of: other roles of spec.roles, app, or PostgreSQL's predefined roles such as pg_read_all_data or pg_monitor. Not ${FORBIDDEN_MEMBERSHIPS.join(', ')}. Memberships not listed are revoked.`,
        maxItems: 32,
        'x-kubernetes-list-type': 'set',
        'x-kubernetes-validations': [
          cel(
            `self.all(r, r.matches('${namePattern}') || r.matches('^pg_[a-z_]+$'))`,
            `each entry must be a role name: ${ACCESS_NAME_ALLOWED}`,
          ),
          {
            rule: `self.all(r, !(r in ${celList(FORBIDDEN_MEMBERSHIPS)}))`,
            message: `must not name ${FORBIDDEN_MEMBERSHIPS.join(', ')}: membership would give superuser rights or access to the server's files and programs`,
            messageExpression: `'membership in ' + self.filter(r, r in ${celList(FORBIDDEN_MEMBERSHIPS)})[0] + ' is not allowed: it would give superuser rights or access to the server\\'s files and programs'`,
          },
        ],
      }),
    ),
    passwordSecret: Type.Optional(
      Type.Object(
        {
          name: objectName(
            'A Secret in the same namespace with the password in key password (8 characters or more).',
          ),
        },
        {
          description:
            'Take the password from this Secret instead of generating one. pgop reads it, never writes it; a changed password is applied within about 30 s, without a restart.',
        },
      ),
    ),
    reclaimPolicy: Type.Optional(
      stringEnum(RECLAIM_POLICIES, {
        description:
          'What removing this entry from spec.roles does. Delete: the role is dropped (PostgreSQL refuses while it owns objects or holds rights; status says so) and its generated Secret deleted. Retain: the role stays as it is. Default: Delete.',
        default: 'Delete',
      }),
    ),
  },
  {
    description: 'A role pgop keeps in the server as written here.',
    'x-kubernetes-validations': [
      cel(
        '!has(self.passwordSecret) || !has(self.login) || self.login',
        'passwordSecret applies only to login roles',
        {
          fieldPath: '.passwordSecret',
          reason: 'FieldValueForbidden',
        },
      ),
      cel('!has(self.inRoles) || !(self.name in self.inRoles)', 'a role cannot be a member of itself', {
        fieldPath: '.inRoles',
      }),
    ],
  },
);

export const DatabaseSchema = Type.Object(
  {
    name: accessName('database', RESERVED_DATABASES, 'The database name.'),
    owner: Type.String({
      description: 'The role that owns the database: a role of spec.roles, or app.',
      minLength: 1,
      maxLength: 63,
    }),
    encoding: Type.Optional(
      Type.String({
        description: "Character encoding, e.g. UTF8. Set at creation only. Default: the server's (UTF8).",
        minLength: 1,
        maxLength: 32,
        pattern: '^[A-Za-z0-9_]+$',
      }),
    ),
    locale: Type.Optional(
      Type.String({
        description:
          "Collation and character classification (LC_COLLATE and LC_CTYPE), e.g. C or C.UTF-8. Set at creation only. Default: the server's.",
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z0-9_.@-]+$',
      }),
    ),
    extensions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({
              description: 'An extension the image provides, e.g. pg_stat_statements, pgcrypto, hstore.',
              minLength: 1,
              maxLength: 63,
              pattern: '^[a-z][a-z0-9_-]*$',
            }),
          },
          { description: 'An extension created in the database.' },
        ),
        {
          description:
            'Extensions created in the database (CREATE EXTENSION IF NOT EXISTS, as the superuser). Removing an entry leaves the extension in place: dropping it could drop the objects that use it.',
          maxItems: 32,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    ),
    reclaimPolicy: Type.Optional(
      stringEnum(RECLAIM_POLICIES, {
        description:
          'What removing this entry from spec.databases does. Retain: the database and its data stay. Delete: the database is dropped with its data (PostgreSQL refuses while clients are connected; status says so). Default: Retain.',
        default: 'Retain',
      }),
    ),
  },
  {
    description: 'A database pgop keeps in the server.',
    'x-kubernetes-validations': [
      cel(
        'has(self.encoding) == has(oldSelf.encoding) && (!has(self.encoding) || self.encoding == oldSelf.encoding)',
        'encoding is set when the database is created and cannot change',
        { fieldPath: '.encoding' },
      ),
      cel(
        'has(self.locale) == has(oldSelf.locale) && (!has(self.locale) || self.locale == oldSelf.locale)',
        'locale is set when the database is created and cannot change',
        { fieldPath: '.locale' },
      ),
    ],
  },
);

export const RolesSchema = Type.Array(RoleSchema, {
  description:
    'Roles pgop creates and keeps as written (attributes, memberships, password), besides the application role app. See docs/access.md.',
  maxItems: MAX_ROLES,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
});

export const DatabasesSchema = Type.Array(DatabaseSchema, {
  description:
    'Databases pgop creates and keeps (owner, extensions), besides the application database app. See docs/access.md.',
  maxItems: MAX_DATABASES,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
});

/** Rules on spec that relate the two lists (CEL on spec sees both). */
export const AccessRules = [
  cel(
    "!has(self.databases) || self.databases.all(d, d.owner == 'app' || (has(self.roles) && self.roles.exists(r, r.name == d.owner)))",
    'databases[].owner must be a role of spec.roles or app',
    { fieldPath: '.databases' },
  ),
  cel(
    "!has(self.roles) || self.roles.all(r, !has(r.inRoles) || r.inRoles.all(m, m == 'app' || m.startsWith('pg_') || self.roles.exists(o, o.name == m)))",
    "roles[].inRoles may name roles of spec.roles, app, or PostgreSQL's predefined pg_ roles",
    { fieldPath: '.roles' },
  ),
];

export const ACCESS_STATES = ['Pending', 'Applied', 'Failed'] as const;

const accessStatusFields = {
  state: stringEnum(ACCESS_STATES, {
    description:
      'Pending: not applied yet. Applied: the server matches the spec. Failed: see reason and message.',
  }),
  reason: Type.Optional(Type.String({ description: 'Why it failed, in CamelCase.', maxLength: 64 })),
  message: Type.Optional(Type.String({ description: 'What PostgreSQL or pgop said.', maxLength: 1024 })),
  removed: Type.Optional(
    Type.Boolean({ description: 'The entry left the spec and is being dropped (reclaimPolicy Delete).' }),
  ),
  reclaimPolicy: stringEnum(RECLAIM_POLICIES, {
    description: 'The policy of the entry, kept for its removal.',
  }),
};

export const RoleStatusSchema = Type.Object(
  {
    name: Type.String({ description: 'The role.', maxLength: 63 }),
    ...accessStatusFields,
    secret: Type.Optional(Type.String({ description: 'The Secret with its password.', maxLength: 253 })),
    passwordVersion: Type.Optional(
      Type.String({
        description:
          'Which password the role has: the resourceVersion of its Secret (and the in-place restore since). A Secret with a newer one is applied.',
        maxLength: 128,
      }),
    ),
  },
  { description: 'A role of spec.roles, as pgop last applied it.' },
);

export const DatabaseStatusSchema = Type.Object(
  {
    name: Type.String({ description: 'The database.', maxLength: 63 }),
    ...accessStatusFields,
  },
  { description: 'A database of spec.databases, as pgop last applied it.' },
);

export const RolesStatusSchema = Type.Array(RoleStatusSchema, {
  description: 'Each role of spec.roles (and each removed one being dropped).',
  maxItems: 2 * MAX_ROLES,
});
export const DatabasesStatusSchema = Type.Array(DatabaseStatusSchema, {
  description: 'Each database of spec.databases (and each removed one being dropped).',
  maxItems: 2 * MAX_DATABASES,
});

export const ROLES_READY_CONDITION = 'RolesReady';
export const DATABASES_READY_CONDITION = 'DatabasesReady';

export type RoleSpec = Static<typeof RoleSchema>;
export type DatabaseSpec = Static<typeof DatabaseSchema>;
export type RoleStatus = Static<typeof RoleStatusSchema>;
export type DatabaseStatus = Static<typeof DatabaseStatusSchema>;
export type ReclaimPolicy = (typeof RECLAIM_POLICIES)[number];
