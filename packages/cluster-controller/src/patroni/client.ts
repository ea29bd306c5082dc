/**
 * Patroni's REST API on an instance pod, for the actions only Patroni may take. pgop never
 * promotes anyone itself: it asks the current leader for a switchover, and Patroni does it
 * (or refuses, e.g. when the candidate is not healthy).
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { assertMayWrite, readBoundedBody, secretData, type Informer, type Stored } from '@pgop/runtime';
import { PATRONI_PORT } from '../instance-paths.js';
import { childNames } from '../naming.js';

export interface PatroniCredentials {
  username: string;
  password: string;
}

export class PatroniError extends Error {}

export class PatroniClient {
  constructor(private readonly timeoutMs = 60_000) {}

  /** Planned switchover from leader to candidate; resolves when Patroni reports it done. */
  async switchover(
    podIp: string,
    auth: PatroniCredentials,
    leader: string,
    candidate: string,
  ): Promise<string> {
    return this.request(podIp, auth, 'POST', '/switchover', { leader, candidate });
  }

  /** Merges patch into Patroni's dynamic configuration (null removes a key). */
  async patchConfig(podIp: string, auth: PatroniCredentials, patch: unknown): Promise<string> {
    return this.request(podIp, auth, 'PATCH', '/config', patch);
  }

  private async request(
    podIp: string,
    auth: PatroniCredentials,
    method: string,
    path: string,
    body: unknown,
  ): Promise<string> {
    assertMayWrite(`Patroni ${method} ${path}`);
    const url = `http://${podIp.includes(':') ? `[${podIp}]` : podIp}:${PATRONI_PORT}${path}`;
    const response = await fetch(url, {
      method,
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = (await readBoundedBody(response)).trim();
    if (!response.ok)
      throw new PatroniError(`Patroni ${method} ${path} answered ${response.status}: ${text}`);
    return text;
  }
}

/** The credentials of Patroni's REST API, from the cluster's Secret. */
export function patroniCredentials(
  cluster: Stored<PostgresCluster>,
  secrets: Informer<V1Secret>,
): PatroniCredentials {
  const data = secretData(
    secrets.get(childNames(cluster.metadata.name).patroniApiSecret, cluster.metadata.namespace),
  );
  return { username: data.username ?? '', password: data.password ?? '' };
}
