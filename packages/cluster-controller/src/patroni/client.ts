/**
 * Patroni's REST API on an instance pod, for the actions only Patroni may take. pgop never
 * promotes anyone itself: it asks the current leader for a switchover, and Patroni does it
 * (or refuses, e.g. when the candidate is not healthy). Each call takes the cluster's CA, which
 * verifies the instance and signs pgop's client certificate (Patroni's only credential for it).
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { assertMayWrite, readBoundedBody, secretData, type Informer, type Stored } from '@pgop/runtime';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { PATRONI_PORT } from '../instance-paths.js';
import { childNames } from '../naming.js';
import { issueLeaf, type KeyAndCertificate } from '../tls/certificates.js';
import { keptCertificateAuthority } from '../tls/cluster-certificates.js';

export class PatroniError extends Error {}

/** pgop's client certificates are made in memory, for a day, from each cluster's CA. */
const CLIENT_CERTIFICATE_DAYS = 1;
export const OPERATOR_CLIENT_NAME = 'pgop-operator';

export class PatroniClient {
  /** By CA certificate: the client certificate issued from that CA. */
  private readonly clientCertificates = new Map<
    string,
    { issued: Promise<KeyAndCertificate>; renewAt: number }
  >();

  constructor(
    private readonly timeoutMs = 60_000,
    private readonly port = PATRONI_PORT,
  ) {}

  /** Planned switchover from leader to candidate; resolves when Patroni reports it done. */
  async switchover(
    podIp: string,
    ca: KeyAndCertificate | undefined,
    leader: string,
    candidate: string,
  ): Promise<string> {
    return this.request(podIp, ca, 'POST', '/switchover', { leader, candidate });
  }

  /** Merges patch into Patroni's dynamic configuration (null removes a key). */
  async patchConfig(podIp: string, ca: KeyAndCertificate | undefined, patch: unknown): Promise<string> {
    return this.request(podIp, ca, 'PATCH', '/config', patch);
  }

  /**
   * One HTTPS request. The server's chain is verified against the cluster's own CA, which signs
   * no other server; the host name is not checked, as the pod IP is in no certificate.
   */
  private async request(
    podIp: string,
    ca: KeyAndCertificate | undefined,
    method: string,
    path: string,
    body: unknown,
  ): Promise<string> {
    assertMayWrite(`Patroni ${method} ${path}`);
    if (!ca) throw new PatroniError(`Patroni ${method} ${path}: the cluster's CA is not issued yet`);
    const client = await this.clientCertificate(ca);
    const payload = JSON.stringify(body);
    const response = await new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: podIp,
          port: this.port,
          method,
          path,
          ca: ca.certificate,
          cert: client.certificate,
          key: client.key,
          checkServerIdentity: () => undefined,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(payload),
          },
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        (res) =>
          resolve(
            new Response(Readable.toWeb(res) as ReadableStream, {
              status: res.statusCode ?? 500,
            }),
          ),
      );
      req.on('error', reject);
      req.end(payload);
    });
    const text = (await readBoundedBody(response)).trim();
    if (!response.ok)
      throw new PatroniError(`Patroni ${method} ${path} answered ${response.status}: ${text}`);
    return text;
  }

  /** pgop's client certificate for a cluster's CA, issued again half way through its day. */
  private clientCertificate(ca: KeyAndCertificate): Promise<KeyAndCertificate> {
    const cached = this.clientCertificates.get(ca.certificate);
    if (cached && Date.now() < cached.renewAt) return cached.issued;
    const issued = issueLeaf(ca, {
      commonName: OPERATOR_CLIENT_NAME,
      usages: ['client'],
      validityDays: CLIENT_CERTIFICATE_DAYS,
    });
    this.clientCertificates.set(ca.certificate, {
      issued,
      renewAt: Date.now() + (CLIENT_CERTIFICATE_DAYS * 24 * 60 * 60_000) / 2,
    });
    issued.catch(() => this.clientCertificates.delete(ca.certificate));
    return issued;
  }
}

/** The cluster's CA, from its TLS Secret, for the calls above. */
export function clusterCertificateAuthority(
  cluster: Stored<PostgresCluster>,
  secrets: Informer<V1Secret>,
): KeyAndCertificate | undefined {
  const tls = secrets.get(childNames(cluster.metadata.name).tlsSecret, cluster.metadata.namespace);
  return keptCertificateAuthority(secretData(tls));
}
