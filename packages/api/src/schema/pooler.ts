/**
 * spec.pooler: PgBouncer in front of the cluster (docs/access.md, "Pooler"). Deployments
 * <name>-pooler (to the primary) and, with readOnlyInstances, <name>-pooler-ro (to the replicas),
 * each behind a Service of its name on port 5432.
 */
import { Type, type Static } from '@sinclair/typebox';
import { stringEnum } from './k8s.js';

export const POOL_MODES = ['transaction', 'session'] as const;
export const MAX_POOLER_INSTANCES = 10;

export const PoolerSchema = Type.Object(
  {
    instances: Type.Optional(
      Type.Integer({
        description: `PgBouncer pods of <name>-pooler, which leads to the primary (1-${MAX_POOLER_INSTANCES}). Default: 2, on different nodes where possible.`,
        minimum: 1,
        maximum: MAX_POOLER_INSTANCES,
        default: 2,
      }),
    ),
    readOnlyInstances: Type.Optional(
      Type.Integer({
        description: `PgBouncer pods of <name>-pooler-ro, which leads to the replicas (0-${MAX_POOLER_INSTANCES}); 0: no read-only pooler. Default: 0.`,
        minimum: 0,
        maximum: MAX_POOLER_INSTANCES,
        default: 0,
      }),
    ),
    poolMode: Type.Optional(
      stringEnum(POOL_MODES, {
        description:
          'When a server connection goes back to the pool. transaction: after each transaction (many clients share few connections; session state such as SET, advisory locks and WITH HOLD cursors does not carry over). session: when the client disconnects. Default: transaction.',
        default: 'transaction',
      }),
    ),
    maxClientConnections: Type.Optional(
      Type.Integer({
        description: 'Client connections each PgBouncer pod accepts (max_client_conn). Default: 1000.',
        minimum: 1,
        maximum: 100000,
        default: 1000,
      }),
    ),
    defaultPoolSize: Type.Optional(
      Type.Integer({
        description:
          'Server connections each PgBouncer pod opens per user and database (default_pool_size). Keep instances x defaultPoolSize x the pairs in use under the server max_connections. Default: 20.',
        minimum: 1,
        maximum: 10000,
        default: 20,
      }),
    ),
  },
  {
    description:
      "A PgBouncer connection pooler in front of the cluster: clients connect to <name>-pooler (read-write) or <name>-pooler-ro (read-only) on port 5432 with TLS and their own role's password; pgop pauses it around every switchover it makes, so clients see a delay instead of an error.",
  },
);

export type PoolerSpec = Static<typeof PoolerSchema>;
