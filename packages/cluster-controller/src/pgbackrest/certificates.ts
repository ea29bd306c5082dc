/**
 * The certificates of a PVC repository's TLS link: pgBackRest's TLS server on the repository host
 * accepts only clients whose certificate this cluster's own CA signed, and the instance pods
 * accept only that server. Issued once per cluster; the CA's private key is not kept, so nothing
 * else can ever be signed by it.
 *
 * Keys come from Node's crypto (native, fast); node-forge builds and signs the certificates,
 * which Node cannot do itself.
 */
import forge from 'node-forge';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { REPOSITORY_CLIENT_NAME } from './config.js';

const VALID_YEARS = 10;

export interface RepositoryCertificates {
  caCertificate: string;
  serverCertificate: string;
  serverKey: string;
  clientCertificate: string;
  clientKey: string;
}

interface KeyPair {
  privateKeyPem: string;
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

function keyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey: forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

function certificate(options: {
  commonName: string;
  publicKey: forge.pki.PublicKey;
  issuer: { commonName: string; key: forge.pki.rsa.PrivateKey };
  extensions: object[];
  now: Date;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = options.publicKey;
  // A positive 128-bit serial (a leading zero byte keeps the DER integer positive).
  cert.serialNumber = `00${randomBytes(16).toString('hex')}`;
  // A few minutes back, so a node whose clock runs slightly behind accepts it at once.
  cert.validity.notBefore = new Date(options.now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(options.now);
  cert.validity.notAfter.setUTCFullYear(options.now.getUTCFullYear() + VALID_YEARS);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer([{ name: 'commonName', value: options.issuer.commonName }]);
  cert.setExtensions(options.extensions);
  cert.sign(options.issuer.key, forge.md.sha256.create());
  return cert;
}

/** A new CA, a server certificate for serverNames (DNS SANs) and the client certificate. */
export function issueRepositoryCertificates(
  caName: string,
  serverNames: string[],
  now = new Date(),
): RepositoryCertificates {
  const ca = keyPair();
  const issuer = { commonName: caName, key: ca.privateKey };
  const caCert = certificate({
    commonName: caName,
    publicKey: ca.publicKey,
    issuer,
    now,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = (commonName: string, extensions: object[]) => {
    const keys = keyPair();
    const cert = certificate({
      commonName,
      publicKey: keys.publicKey,
      issuer,
      now,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        ...extensions,
      ],
    });
    return { certificate: forge.pki.certificateToPem(cert), key: keys.privateKeyPem };
  };
  const server = leaf(serverNames[0]!, [
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: serverNames.map((value) => ({ type: 2, value })) },
  ]);
  const client = leaf(REPOSITORY_CLIENT_NAME, [{ name: 'extKeyUsage', clientAuth: true }]);
  return {
    caCertificate: forge.pki.certificateToPem(caCert),
    serverCertificate: server.certificate,
    serverKey: server.key,
    clientCertificate: client.certificate,
    clientKey: client.key,
  };
}
