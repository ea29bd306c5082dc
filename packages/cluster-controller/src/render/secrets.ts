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
import {
  APPLICATION_DATABASE,
  APPLICATION_USER,
  connectionDetails,
  REPLICATION_USER,
  REWIND_USER,
  SUPERUSER,
} from '../access/roles.js';

export const PATRONI_API_USER = 'patroni';

/** 32 random bytes, URL-safe base64 (no characters that need quoting in a connection URI). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** The Secrets of the cluster, with the given passwords (pure: the caller generates them). */
export function renderSecrets(
  cluster: PostgresCluster,
  passwords: {
    superuser: string;
    replication: string;
    patroniApi: string;
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
  return [
    secret(
      names.applicationSecret,
      connectionDetails(cluster, APPLICATION_USER, passwords.application, APPLICATION_DATABASE),
    ),
    secret(names.superuserSecret, connectionDetails(cluster, SUPERUSER, passwords.superuser, 'postgres')),
    secret(names.replicationSecret, { username: REPLICATION_USER, password: passwords.replication }),
    secret(names.patroniApiSecret, { username: PATRONI_API_USER, password: passwords.patroniApi }),
    secret(names.rewindSecret, { username: REWIND_USER, password: passwords.rewind }),
  ];
}
