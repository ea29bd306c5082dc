/**
 * The certificates of a PVC repository's TLS link: pgBackRest's TLS server on the repository host
 * accepts only clients whose certificate this cluster's own CA signed, and the instance pods
 * accept only that server. The CA's key is kept in the Secret (never mounted into a pod) so the
 * leaves, valid 90 days, are renewed from it when a third of their life is left; a Secret made
 * before the key was kept gets a whole new set when its leaves are due, or at once when they are
 * not signed by its CA. Deciding is pure; issuing is tls/certificates.ts.
 */
import {
  decideCertificateSecret,
  issueCertificateAuthority,
  issueLeaf,
  type CertificateSecretStep,
  type KeyAndCertificate,
} from '../tls/certificates.js';
import { REPOSITORY_CLIENT_NAME, TLS_FILES } from './config.js';

export interface RepositoryCertificates {
  caCertificate: string;
  caKey: string;
  serverCertificate: string;
  serverKey: string;
  clientCertificate: string;
  clientKey: string;
}

/** What the repository TLS Secret (its data, decoded) needs now. */
export function decideRepositoryCertificates(
  data: Record<string, string> | undefined,
  now: Date,
): CertificateSecretStep {
  return decideCertificateSecret(
    data,
    TLS_FILES.ca.key,
    [TLS_FILES.serverCertificate.key, TLS_FILES.clientCertificate.key],
    now,
  );
}

/** The CA (given, or a new one), a server certificate for serverNames and the client certificate. */
export async function issueRepositoryCertificates(
  caName: string,
  serverNames: string[],
  ca?: KeyAndCertificate,
  now = new Date(),
): Promise<RepositoryCertificates> {
  const authority = ca ?? (await issueCertificateAuthority(caName, now));
  const server = await issueLeaf(
    authority,
    { commonName: serverNames[0]!, dnsNames: serverNames, usages: ['server'] },
    now,
  );
  const client = await issueLeaf(authority, { commonName: REPOSITORY_CLIENT_NAME, usages: ['client'] }, now);
  return {
    caCertificate: authority.certificate,
    caKey: authority.key,
    serverCertificate: server.certificate,
    serverKey: server.key,
    clientCertificate: client.certificate,
    clientKey: client.key,
  };
}
