/**
 * The certificates of a cluster's own connections, in Secret <cluster>-tls: a CA per cluster
 * (its key kept in the Secret, never mounted), one server certificate every instance presents to
 * clients, to the other members and on Patroni's REST API (also a client certificate, for the
 * members' calls to each other's API), and the client certificates of the roles Patroni connects to
 * other members as: replicator (replication) and rewinder (pg_rewind). PostgreSQL's `cert` method
 * takes the role from the certificate's CN, so neither logs in with a password. Deciding is pure;
 * issuing is certificates.ts.
 */
import { X509Certificate } from 'node:crypto';
import { REPLICATION_USER, REWIND_USER } from '../access/roles.js';
import { childNames } from '../naming.js';
import {
  CA_KEY,
  decideCertificateSecret,
  issueCertificateAuthority,
  issueLeaf,
  type CertificateSecretStep,
  type KeyAndCertificate,
} from './certificates.js';

/** Where an instance finds the files of the Secret (a Secret volume; kubelet keeps it current). */
export const CLUSTER_TLS_DIR = '/etc/pgop/tls';

/** The Secret's keys, which are also the file names under CLUSTER_TLS_DIR. */
export const CLUSTER_TLS_KEYS = {
  ca: 'ca.crt',
  certificate: 'tls.crt',
  key: 'tls.key',
  replicationCertificate: 'replication.crt',
  replicationKey: 'replication.key',
  rewindCertificate: 'rewind.crt',
  rewindKey: 'rewind.key',
  /**
   * What a member verifies another member's server certificate with: this CA, and the CA of the
   * user's server certificate when spec.tls names one. Both, so that members still serving the
   * other one during a roll stay reachable.
   */
  trustedCa: 'trusted-ca.crt',
} as const;

export const clusterTlsFile = (file: keyof typeof CLUSTER_TLS_KEYS) =>
  `${CLUSTER_TLS_DIR}/${CLUSTER_TLS_KEYS[file]}`;

/** Kubernetes' default DNS domain, for the fully qualified names (the .svc names work anywhere). */
const CLUSTER_DOMAIN = 'cluster.local';

/**
 * The DNS name an instance is reached by from its peers: its pod's record under the StatefulSet's
 * headless Service, which the server certificate covers (replication verifies it, verify-full).
 */
export function instanceHostName(clusterName: string, namespace: string, podName: string): string {
  return `${podName}.${childNames(clusterName).podsService}.${namespace}.svc`;
}

/** The names of a Service: namespaced .svc first, then short, namespaced, fully qualified. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    `${service}.${namespace}.svc`,
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc.${CLUSTER_DOMAIN}`,
  ];
}

/**
 * Every name a client may use for an instance: the -primary and -replica Services (short,
 * namespaced, .svc, fully qualified) and each pod's name under the headless Service. The first
 * is the application Secret's host.
 */
export function clusterServerNames(clusterName: string, namespace: string): string[] {
  const names = childNames(clusterName);
  const service = (name: string) => serviceDnsNames(name, namespace);
  const pods = `*.${names.podsService}.${namespace}.svc`;
  return [
    ...service(names.primaryService),
    ...service(names.replicaService),
    pods,
    `${pods}.${CLUSTER_DOMAIN}`,
    'localhost',
  ];
}

export interface ClusterCertificates {
  ca: KeyAndCertificate;
  server: KeyAndCertificate;
  replication: KeyAndCertificate;
  rewind: KeyAndCertificate;
}

/** What the cluster's TLS Secret (its data, decoded) needs now. */
export function decideClusterCertificates(
  data: Record<string, string> | undefined,
  now: Date,
): CertificateSecretStep {
  return decideCertificateSecret(
    data,
    CLUSTER_TLS_KEYS.ca,
    [
      CLUSTER_TLS_KEYS.certificate,
      CLUSTER_TLS_KEYS.replicationCertificate,
      CLUSTER_TLS_KEYS.rewindCertificate,
    ],
    now,
  );
}

/** The CA the Secret keeps (certificate and key), if it has both. */
export function keptCertificateAuthority(data: Record<string, string>): KeyAndCertificate | undefined {
  const certificate = data[CLUSTER_TLS_KEYS.ca];
  const key = data[CA_KEY];
  return certificate && key ? { certificate, key } : undefined;
}

/** The CA (given, or a new one), the instances' certificate and the two roles' client certificates. */
export async function issueClusterCertificates(
  caName: string,
  serverNames: string[],
  ca?: KeyAndCertificate,
  now = new Date(),
): Promise<ClusterCertificates> {
  const authority = ca ?? (await issueCertificateAuthority(caName, now));
  const server = await issueLeaf(
    authority,
    { commonName: serverNames[0]!, dnsNames: serverNames, usages: ['server', 'client'] },
    now,
  );
  const client = (commonName: string) => issueLeaf(authority, { commonName, usages: ['client'] }, now);
  return {
    ca: authority,
    server,
    replication: await client(REPLICATION_USER),
    rewind: await client(REWIND_USER),
  };
}

/**
 * The members' trusted CAs: the cluster's; the user's server certificate's, if any; and, while it
 * is valid, the one that signed what the members served before (read from trustedBefore, the
 * Secret's current list). A change of spec.tls.serverCertificateSecret rolls the pods one at a
 * time, and those not yet rolled still serve the previous certificate, which the rolled replicas
 * must verify to stream. The previous CA goes at the next change.
 */
export function trustedCertificateAuthorities(
  clusterCa: string,
  serverCa: string | undefined,
  trustedBefore: string | undefined,
  now = new Date(),
): string {
  const current = [clusterCa, serverCa].filter((pem): pem is string => !!pem).map((pem) => pem.trim());
  const previous = certificatesIn(trustedBefore).find((pem) => !current.includes(pem) && validAt(pem, now));
  return `${[...new Set([...current, ...(previous ? [previous] : [])])].join('\n')}\n`;
}

function validAt(pem: string, now: Date): boolean {
  try {
    return new Date(new X509Certificate(pem).validTo) > now;
  } catch {
    return false;
  }
}

/** The PEM certificates of a bundle, each trimmed. */
function certificatesIn(bundle: string | undefined): string[] {
  return (bundle ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The Secret's data for the certificates (serverCa: the user's server certificate's CA;
 * trustedBefore: the members' trusted CAs until now).
 */
export function clusterTlsData(
  certificates: ClusterCertificates,
  serverCa?: string,
  trustedBefore?: string,
): Record<string, string> {
  return {
    [CLUSTER_TLS_KEYS.trustedCa]: trustedCertificateAuthorities(
      certificates.ca.certificate,
      serverCa,
      trustedBefore,
    ),
    [CLUSTER_TLS_KEYS.ca]: certificates.ca.certificate,
    [CA_KEY]: certificates.ca.key,
    [CLUSTER_TLS_KEYS.certificate]: certificates.server.certificate,
    [CLUSTER_TLS_KEYS.key]: certificates.server.key,
    [CLUSTER_TLS_KEYS.replicationCertificate]: certificates.replication.certificate,
    [CLUSTER_TLS_KEYS.replicationKey]: certificates.replication.key,
    [CLUSTER_TLS_KEYS.rewindCertificate]: certificates.rewind.certificate,
    [CLUSTER_TLS_KEYS.rewindKey]: certificates.rewind.key,
  };
}
