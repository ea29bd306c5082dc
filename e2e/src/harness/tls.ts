/**
 * What a TLS client sees of an instance, from the test's own process: the certificate PostgreSQL
 * serves (after PostgreSQL's SSLRequest, as libpq starts TLS) and Patroni's REST API over HTTPS.
 */
import { issueCertificateAuthority, issueLeaf } from '@pgop/cluster-controller/tls';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';

/** PostgreSQL's SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * The serial number of the certificate PostgreSQL at host:5432 serves, verified against ca for
 * serverName (verify-full); rejects if it does not verify.
 */
export function servedCertificateSerial(host: string, serverName: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port: 5432, timeout: 5000 });
    socket.on('error', reject);
    socket.on('timeout', () => socket.destroy(new Error(`${host}:5432 timed out`)));
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (answer: Buffer) => {
      if (answer.toString() !== 'S') return socket.destroy(new Error(`no TLS offered: ${answer.toString()}`));
      const tls = tlsConnect({ socket, servername: serverName, ca });
      tls.on('error', reject);
      tls.once('secureConnect', () => {
        resolve(tls.getPeerX509Certificate()!.serialNumber);
        tls.destroy();
      });
    });
  });
}

/** One request to Patroni's REST API at ip:8008 over HTTPS (the chain verified against ca). */
export function patroniApi(
  ip: string,
  method: string,
  path: string,
  tls: { ca: string; cert?: string; key?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ip,
        port: 8008,
        method,
        path,
        ...tls,
        checkServerIdentity: () => undefined, // a pod IP is in no certificate
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A server certificate for localhost from a throwaway CA, written into dir as certName and
 * keyName: for a process of a harness that serves TLS on loopback (MinIO, CloudNativePG's webhooks).
 */
export async function writeLoopbackCertificate(
  dir: string,
  certName: string,
  keyName: string,
): Promise<void> {
  const ca = await issueCertificateAuthority('pgop-harness-loopback');
  const leaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], usages: ['server'] });
  writeFileSync(join(dir, certName), leaf.certificate);
  writeFileSync(join(dir, keyName), leaf.key);
}
