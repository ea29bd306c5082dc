/**
 * Certificates pgop issues itself: a CA per purpose and cluster, whose key pgop keeps (in the
 * Secret of the certificates) so it can renew the leaves, and short-lived leaves it renews well
 * before they expire. ECDSA P-256 throughout (small, fast, what TLS 1.3 prefers), built with
 * @peculiar/x509 over Node's WebCrypto; nothing here blocks the event loop for long.
 */
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60_000;
/** A CA outlives many leaves; replacing it means every party trusting it must learn the new one. */
export const CA_VALIDITY_DAYS = 3650;
/** Leaves live 90 days and are renewed when a third of that is left (30 days of margin). */
export const LEAF_VALIDITY_DAYS = 90;
const RENEW_WHEN_LEFT = 1 / 3;

export interface KeyAndCertificate {
  certificate: string;
  key: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

/** A few minutes back, so a node whose clock runs slightly behind accepts a new certificate. */
const notBefore = (now: Date) => new Date(now.getTime() - 5 * 60_000);
const cn = (name: string) => `CN=${name.replace(/([,+"\\<>;=])/g, '\\$1')}`;

export async function issueCertificateAuthority(name: string, now = new Date()): Promise<KeyAndCertificate> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: cn(name),
    keys,
    notBefore: notBefore(now),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: cert.toString('pem') + '\n', key: await pemKey(keys.privateKey) };
}

export interface LeafRequest {
  commonName: string;
  /** DNS subject alternative names (servers). */
  dnsNames?: string[];
  /** What the key may authenticate: a server, a client, or both (an instance is both). */
  usages: ('server' | 'client')[];
  validityDays?: number;
}

/** Issues a leaf signed by ca; validity from request.validityDays (90 days by default). */
export async function issueLeaf(
  ca: KeyAndCertificate,
  request: LeafRequest,
  now = new Date(),
): Promise<KeyAndCertificate> {
  const keys = await keyPair();
  const issuer = new x509.X509Certificate(ca.certificate);
  const cert = await x509.X509CertificateGenerator.create({
    subject: cn(request.commonName),
    issuer: issuer.subject,
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.key),
    notBefore: notBefore(now),
    notAfter: new Date(now.getTime() + (request.validityDays ?? LEAF_VALIDITY_DAYS) * DAY_MS),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        request.usages.map((usage) =>
          usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
        ),
      ),
      ...(request.dnsNames?.length
        ? [
            new x509.SubjectAlternativeNameExtension(
              request.dnsNames.map((value) => ({ type: 'dns' as const, value })),
            ),
          ]
        : []),
      await x509.AuthorityKeyIdentifierExtension.create(issuer, false),
    ],
  });
  return { certificate: cert.toString('pem') + '\n', key: await pemKey(keys.privateKey) };
}

/**
 * Whether a certificate must be replaced now: unreadable, not signed by ca (when given), or with
 * less than a third of its lifetime left. Pure (Node's X509Certificate only parses).
 */
export function renewalDue(certificatePem: string | undefined, now: Date, caPem?: string): boolean {
  if (!certificatePem) return true;
  try {
    const cert = new NodeX509(certificatePem);
    if (caPem && !cert.verify(new NodeX509(caPem).publicKey)) return true;
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    return now.getTime() >= to - (to - from) * RENEW_WHEN_LEFT;
  } catch {
    return true;
  }
}

/** The Secret key of a CA's private key: kept for renewals, never projected into a pod. */
export const CA_KEY = 'ca.key';

export type CertificateSecretStep =
  | { type: 'none' }
  /** Issue the leaves from the kept CA, or everything anew (keepCa false). */
  | { type: 'issue'; keepCa: boolean; reason: string };

/**
 * What a Secret of certificates (data decoded; caCertificateKey names its CA certificate, CA_KEY
 * its key, leafKeys its leaf certificates) needs now: nothing; its leaves renewed from the kept CA
 * when one has a third of its life left or is not signed by that CA; or everything anew when there
 * is no Secret, or its leaves are due and the CA cannot sign them (no key kept, or it expires).
 */
export function decideCertificateSecret(
  data: Record<string, string> | undefined,
  caCertificateKey: string,
  leafKeys: string[],
  now: Date,
): CertificateSecretStep {
  if (!data) return { type: 'issue', keepCa: false, reason: 'issued' };
  const ca = data[caCertificateKey];
  const leavesDue = leafKeys.some((key) => renewalDue(data[key], now, ca));
  if (!leavesDue) return { type: 'none' };
  if (!data[CA_KEY] || renewalDue(ca, now))
    return {
      type: 'issue',
      keepCa: false,
      reason: 'renewed with a new CA (the old one cannot sign: no key kept, or it expires)',
    };
  return {
    type: 'issue',
    keepCa: true,
    reason: 'renewed (a third of their life left, or not signed by the CA)',
  };
}
