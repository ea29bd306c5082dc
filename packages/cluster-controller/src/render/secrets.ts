/**
 * The credential Secrets of a cluster. Passwords are generated once, from the operating
 * system's cryptographic RNG, when a Secret does not exist; an existing Secret is never
 * rewritten by a reconcile (it must not lock clients out). The application Secret's connection
 * strings follow a password someone changed (access/runner.ts).
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { randomBytes } from 'node:crypto';
import { childMetadata, childNames } from '../naming.js';
import { CLUSTER_TLS_KEYS } from '../tls/cluster-certificates.js';
import {
  APPLICATION_DATABASE,
  APPLICATION_USER,
  connectionDetails,
  REPLICATION_USER,
  REWIND_USER,
  SUPERUSER,
} from '../access/roles.js';

/** 32 random bytes, URL-safe base64 (no characters that need quoting in a connection URI). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The Secrets of the cluster, with the given passwords (pure: the caller generates them); the
 * ones clients read carry the cluster's CA, once it exists (tls/runner.ts keeps it current).
 */
export function renderSecrets(
  cluster: PostgresCluster,
  ca: string | undefined,
  passwords: {
    superuser: string;
    replication: string;
    application: string;
    rewind: string;
  },
): V1Secret[] {
  const names = childNames(cluster.metadata.name!);
  const secret = (secretName: string, data: Record<string, string>): V1Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(cluster, secretName, 'credentials'),
    type: 'Opaque',
    stringData: data,
  });
  const withCa = (data: Record<string, string>) => (ca ? { ...data, [CLUSTER_TLS_KEYS.ca]: ca } : data);
  return [
    secret(
      names.applicationSecret,
      withCa(connectionDetails(cluster, APPLICATION_USER, passwords.application, APPLICATION_DATABASE)),
    ),
    secret(
      names.superuserSecret,
      withCa(connectionDetails(cluster, SUPERUSER, passwords.superuser, 'postgres')),
    ),
    secret(names.replicationSecret, { username: REPLICATION_USER, password: passwords.replication }),
    secret(names.rewindSecret, { username: REWIND_USER, password: passwords.rewind }),
  ];
}

/** The cluster's TLS Secret (tls/cluster-certificates.ts), its data given. */
export function renderClusterTlsSecret(cluster: PostgresCluster, data: Record<string, string>): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(cluster, childNames(cluster.metadata.name!).tlsSecret, 'tls'),
    type: 'Opaque',
    stringData: data,
  };
}
