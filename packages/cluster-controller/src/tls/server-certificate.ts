/**
 * A server certificate the user provides (spec.tls.serverCertificateSecret, e.g. written by a
 * cert-manager Certificate): checked before any pod serves it, so that a wrong one stops the
 * change with a condition naming what is wrong instead of breaking replication. Pure.
 */
import { X509Certificate } from 'node:crypto';
import type { Blocker } from '../blocker.js';
import { childNames } from '../naming.js';
import { instanceHostName } from './cluster-certificates.js';

/** The keys of a kubernetes.io/tls Secret with its CA, and the file names in the pods. */
export const SERVER_SECRET_KEYS = { certificate: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

/** Where the instances find the user's Secret (a volume of its own; kubelet keeps it current). */
export const SERVER_TLS_DIR = '/etc/pgop/server-tls';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERTIFICATE) ?? []).map((c) => new X509Certificate(c));
}

/** The names the certificate must cover: both Services and every instance's pod name. */
export function requiredServerNames(clusterName: string, namespace: string, instances: number): string[] {
  const names = childNames(clusterName);
  return [
    `${names.primaryService}.${namespace}.svc`,
    `${names.replicaService}.${namespace}.svc`,
    ...Array.from({ length: instances }, (_, i) =>
      instanceHostName(clusterName, namespace, `${clusterName}-${i}`),
    ),
  ];
}

export const SERVER_CERTIFICATE_INVALID = 'ServerCertificateInvalid';

export type ServerCertificateCheck = { ok: true; ca: string } | { ok: false; blocker: Blocker };

/**
 * Whether the Secret (data decoded; undefined when it does not exist) holds a usable server
 * certificate: all three keys, a certificate valid now, signed by a certificate of ca.crt (what a
 * CA or self-signed issuer of cert-manager writes), naming every required name.
 */
export function checkServerCertificate(
  secretName: string,
  data: Record<string, string> | undefined,
  requiredNames: string[],
  now: Date,
): ServerCertificateCheck {
  const refuse = (detail: string): ServerCertificateCheck => ({
    ok: false,
    blocker: {
      reason: SERVER_CERTIFICATE_INVALID,
      message: `spec.tls.serverCertificateSecret: Secret ${secretName} ${detail}; the instances keep what they serve now`,
    },
  });
  if (!data) return refuse('does not exist');
  const missing = Object.values(SERVER_SECRET_KEYS).filter((key) => !data[key]);
  if (missing.length) return refuse(`lacks key ${missing.join(', ')}`);
  let leaf: X509Certificate | undefined, authorities: X509Certificate[];
  try {
    leaf = certificates(data[SERVER_SECRET_KEYS.certificate]!)[0];
    authorities = certificates(data[SERVER_SECRET_KEYS.ca]!);
  } catch (err) {
    return refuse(`holds a certificate that cannot be read (${(err as Error).message})`);
  }
  if (!leaf || !authorities.length) return refuse(`holds no PEM certificate in tls.crt or ca.crt`);
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo))
    return refuse(`holds a certificate valid only from ${leaf.validFrom} to ${leaf.validTo}`);
  if (!authorities.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey)))
    return refuse('holds a certificate its ca.crt did not sign');
  const uncovered = requiredNames.filter((name) => !leaf.checkHost(name));
  if (uncovered.length) return refuse(`holds a certificate that does not name ${uncovered.join(', ')}`);
  return { ok: true, ca: data[SERVER_SECRET_KEYS.ca]! };
}
