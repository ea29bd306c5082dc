/** Clusters and pods for the unit tests, as the caches would hold them. */
import type { V1Pod } from '@kubernetes/client-node';
import { ROLE_LABEL, validatePostgresCluster, type PostgresCluster } from '@pgop/api';
import { fullCluster, basicCluster, poolerCluster } from '@pgop/api/testing';

/** An example cluster with the defaults the API server fills in, as a controller reads it. */
export function cluster(
  example: Record<string, unknown> = basicCluster(),
  overrides: Partial<PostgresCluster['spec']> = {},
): PostgresCluster {
  const withMeta = {
    ...example,
    metadata: {
      ...(example.metadata as object),
      namespace: 'db',
      uid: '00000000-0000-4000-8000-000000000001',
      generation: 1,
    },
    spec: { ...(example.spec as object), ...overrides },
  };
  const result = validatePostgresCluster(withMeta);
  if (!result.valid) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

export { fullCluster, basicCluster, poolerCluster };

export interface PodOptions {
  role?: 'primary' | 'replica';
  ready?: boolean;
  streaming?: boolean;
  revision?: string;
  pendingRestart?: boolean;
  deleting?: boolean;
  /** Patroni's xlog_location: WAL received, on a replica. */
  wal?: number;
}

export function pod(name: string, o: PodOptions = {}): V1Pod {
  const { role = 'replica', ready = true, streaming = role === 'replica', revision = 'rev1' } = o;
  return {
    metadata: {
      name,
      uid: `uid-${name}`,
      labels: { [ROLE_LABEL]: role, 'controller-revision-hash': revision },
      annotations: {
        status: JSON.stringify({
          role,
          state: 'running',
          ...(streaming ? { replication_state: 'streaming' } : {}),
          ...(o.pendingRestart ? { pending_restart: true } : {}),
          ...(o.wal !== undefined ? { xlog_location: o.wal } : {}),
        }),
      },
      ...(o.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    status: {
      phase: 'Running',
      podIP: '10.0.0.1',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}
