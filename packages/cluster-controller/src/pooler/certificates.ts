/**
 * The pooler's certificates, in Secret <cluster>-pooler-tls, issued by the cluster's CA (kept in
 * <cluster>-tls): the server certificate PgBouncer presents to clients, naming its Services, and
 * the client certificate it logs in to the server with as pgop_pooler (pg_hba `cert`). Deciding
 * is pure; issuing is tls/certificates.ts.
 */
import { POOLER_ROLE } from '@pgop/api';
import { childNames } from '../naming.js';
import { issueLeaf, renewalDue, type KeyAndCertificate } from '../tls/certificates.js';
import { serviceDnsNames } from '../tls/cluster-certificates.js';
import { POOLER_TLS_FILES } from './config.js';

/** Every name a client may use for the pooler Services; the first is the certificate's CN. */
function poolerServerNames(clusterName: string, namespace: string): string[] {
  return Object.values(childNames(clusterName).pooler).flatMap((service) =>
    serviceDnsNames(service, namespace),
  );
}

/**
 * Whether the Secret (data decoded) must be issued again: missing, a leaf with a third of its
 * life left, or not signed by the cluster's CA now (a new CA: its leaves follow).
 */
export function poolerCertificatesDue(
  data: Record<string, string> | undefined,
  clusterCa: string,
  now: Date,
): boolean {
  if (!data || data[POOLER_TLS_FILES.ca] !== clusterCa) return true;
  return [POOLER_TLS_FILES.certificate, POOLER_TLS_FILES.authCertificate].some((key) =>
    renewalDue(data[key], now, clusterCa),
  );
}

/** The Secret's data: both leaves, fresh, and the CA that signed them. */
export async function issuePoolerCertificates(
  ca: KeyAndCertificate,
  clusterName: string,
  namespace: string,
  now = new Date(),
): Promise<Record<string, string>> {
  const names = poolerServerNames(clusterName, namespace);
  const server = await issueLeaf(ca, { commonName: names[0]!, dnsNames: names, usages: ['server'] }, now);
  const auth = await issueLeaf(ca, { commonName: POOLER_ROLE, usages: ['client'] }, now);
  return {
    [POOLER_TLS_FILES.ca]: ca.certificate,
    [POOLER_TLS_FILES.certificate]: server.certificate,
    [POOLER_TLS_FILES.key]: server.key,
    [POOLER_TLS_FILES.authCertificate]: auth.certificate,
    [POOLER_TLS_FILES.authKey]: auth.key,
  };
}
