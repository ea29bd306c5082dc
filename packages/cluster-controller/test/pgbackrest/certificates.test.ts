/** The PVC repository's certificates: what pgBackRest's TLS server and clients will check. */
import assert from 'node:assert/strict';
import { createPrivateKey as createKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { REPOSITORY_CLIENT_NAME } from '../../src/pgbackrest/config.js';
import { issueRepositoryCertificates } from '../../src/pgbackrest/certificates.js';

describe('repository certificates', () => {
  const certs = issueRepositoryCertificates('db/my-cluster pgBackRest CA', [
    'my-cluster-repo-host.db.svc',
    'my-cluster-repo-host',
  ]);
  const ca = new X509Certificate(certs.caCertificate);
  const server = new X509Certificate(certs.serverCertificate);
  const client = new X509Certificate(certs.clientCertificate);

  it('signs the server and client certificates with the cluster CA', () => {
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(client.verify(ca.publicKey));
    assert.ok(!server.ca && !client.ca);
  });

  it("names the repository host's Service in the server certificate", () => {
    assert.equal(server.checkHost('my-cluster-repo-host.db.svc'), 'my-cluster-repo-host.db.svc');
    assert.equal(server.checkHost('other-repo-host.db.svc'), undefined);
  });

  it('gives the client the one name the server admits', () => {
    assert.match(client.subject, new RegExp(`CN=${REPOSITORY_CLIENT_NAME}`));
  });

  it('pairs each certificate with its own key', () => {
    assert.ok(server.checkPrivateKey(createKey(certs.serverKey)));
    assert.ok(client.checkPrivateKey(createKey(certs.clientKey)));
    assert.ok(!client.checkPrivateKey(createKey(certs.serverKey)));
  });
});
