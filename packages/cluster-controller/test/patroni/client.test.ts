/**
 * pgop's calls to Patroni's REST API, against a real HTTPS server standing in for Patroni: over
 * TLS only, the server verified against the cluster's CA, with a client certificate that CA signed
 * (what Patroni's verify_client demands for a change).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OPERATOR_CLIENT_NAME, PatroniClient, PatroniError } from '../../src/patroni/client.js';
import { issueCertificateAuthority, issueLeaf, type KeyAndCertificate } from '../../src/tls/certificates.js';

interface Seen {
  method?: string;
  url?: string;
  clientSubject?: string;
  body?: string;
}

/** An HTTPS server with certificate server; it records what a request brought and answers 200. */
async function standIn(server: KeyAndCertificate, ca: KeyAndCertificate, seen: Seen): Promise<Server> {
  const https = createServer(
    {
      cert: server.certificate,
      key: server.key,
      ca: ca.certificate,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        Object.assign(seen, {
          method: req.method,
          url: req.url,
          clientSubject: (req.socket as import('node:tls').TLSSocket).authorized
            ? peer.subject?.CN
            : undefined,
          body,
        });
        res.end('switched over');
      });
    },
  );
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  return https;
}

describe('Patroni REST API client', () => {
  let ca: KeyAndCertificate;
  let otherCa: KeyAndCertificate;
  const servers: Server[] = [];
  before(async () => {
    ca = await issueCertificateAuthority('cluster CA');
    otherCa = await issueCertificateAuthority('someone else');
  });
  after(() => servers.forEach((s) => s.close()));

  const port = (s: Server) => (s.address() as AddressInfo).port;

  it('calls over HTTPS with a client certificate from the cluster CA', async () => {
    const seen: Seen = {};
    const cert = await issueLeaf(ca, {
      commonName: 'my-cluster-primary.db.svc',
      usages: ['server', 'client'],
    });
    const server = await standIn(cert, ca, seen);
    servers.push(server);
    const client = new PatroniClient(5000, port(server));
    const answer = await client.switchover('127.0.0.1', ca, 'a-0', 'a-1');
    assert.equal(answer, 'switched over');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/switchover');
    assert.deepEqual(JSON.parse(seen.body!), { leader: 'a-0', candidate: 'a-1' });
    assert.equal(seen.clientSubject, OPERATOR_CLIENT_NAME, 'a client certificate the cluster CA signed');
  });

  it('refuses a server whose certificate another CA signed, and sends nothing to it', async () => {
    const seen: Seen = {};
    const impostor = await issueLeaf(otherCa, { commonName: 'impostor', usages: ['server'] });
    const server = await standIn(impostor, otherCa, seen);
    servers.push(server);
    const client = new PatroniClient(5000, port(server));
    await assert.rejects(client.patchConfig('127.0.0.1', ca, {}));
    assert.equal(seen.method, undefined, 'no request reached it');
  });

  it('does not call at all before the cluster has its CA', async () => {
    const client = new PatroniClient(5000, 1);
    await assert.rejects(
      client.patchConfig('127.0.0.1', undefined, {}),
      (err: Error) => err instanceof PatroniError && /CA is not issued yet/.test(err.message),
    );
  });

  it('issues its client certificate once per CA, valid for a day', async () => {
    const seen: Seen = {};
    const cert = await issueLeaf(ca, { commonName: 'x', usages: ['server'] });
    const server = await standIn(cert, ca, seen);
    servers.push(server);
    const client = new PatroniClient(5000, port(server));
    const certificates = new Set<string>();
    server.on('secureConnection', (socket) => {
      const peer = socket.getPeerX509Certificate?.();
      if (peer) certificates.add((peer as X509Certificate).serialNumber);
    });
    await client.patchConfig('127.0.0.1', ca, {});
    await client.patchConfig('127.0.0.1', ca, {});
    assert.equal(certificates.size, 1);
  });
});
