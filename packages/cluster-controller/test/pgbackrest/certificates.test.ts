/** The PVC repository's certificates: what pgBackRest's TLS server and clients check, and renewal. */
import assert from 'node:assert/strict';
import { createPrivateKey as createKey, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { REPOSITORY_CLIENT_NAME, TLS_FILES } from '../../src/pgbackrest/config.js';
import {
  decideRepositoryCertificates,
  issueRepositoryCertificates,
  type RepositoryCertificates,
} from '../../src/pgbackrest/certificates.js';
import { CA_KEY, renewalDue } from '../../src/tls/certificates.js';

const DAY = 24 * 60 * 60_000;
const NOW = new Date('2026-12-02T12:00:00Z');
const NAMES = ['my-cluster-repo-host.db.svc', 'my-cluster-repo-host'];

/** The Secret's data as the runner reads it. */
const asData = (c: RepositoryCertificates, withCaKey = true): Record<string, string> => ({
  [TLS_FILES.ca.key]: c.caCertificate,
  ...(withCaKey ? { [CA_KEY]: c.caKey } : {}),
  [TLS_FILES.serverCertificate.key]: c.serverCertificate,
  [TLS_FILES.serverKey.key]: c.serverKey,
  [TLS_FILES.clientCertificate.key]: c.clientCertificate,
  [TLS_FILES.clientKey.key]: c.clientKey,
});

describe('repository certificates', () => {
  let certs: RepositoryCertificates;
  let ca: X509Certificate, server: X509Certificate, client: X509Certificate;
  before(async () => {
    certs = await issueRepositoryCertificates('db/my-cluster pgBackRest CA', NAMES, undefined, NOW);
    ca = new X509Certificate(certs.caCertificate);
    server = new X509Certificate(certs.serverCertificate);
    client = new X509Certificate(certs.clientCertificate);
  });

  it('signs the server and client certificates with the cluster CA, all ECDSA P-256', () => {
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(client.verify(ca.publicKey));
    assert.ok(!server.ca && !client.ca);
    for (const c of [ca, server, client])
      assert.equal(c.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
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
    assert.ok(ca.checkPrivateKey(createKey(certs.caKey)));
  });

  it('gives leaves 90 days and the CA ten years', () => {
    const days = (c: X509Certificate) => Math.round((Date.parse(c.validTo) - NOW.getTime()) / DAY);
    assert.equal(days(server), 90);
    assert.equal(days(client), 90);
    assert.equal(days(ca), 3650);
  });

  it('renews the leaves from the kept CA once a third of their life is left, not before', async () => {
    const data = asData(certs);
    assert.deepEqual(decideRepositoryCertificates(data, new Date(NOW.getTime() + 59 * DAY)), {
      type: 'none',
    });
    const due = decideRepositoryCertificates(data, new Date(NOW.getTime() + 61 * DAY));
    assert.equal(due.type === 'issue' && due.keepCa, true);
    const later = new Date(NOW.getTime() + 61 * DAY);
    const renewed = await issueRepositoryCertificates(
      'unused',
      NAMES,
      { certificate: certs.caCertificate, key: certs.caKey },
      later,
    );
    assert.equal(renewed.caCertificate, certs.caCertificate, 'the same CA: the other side keeps trusting');
    assert.ok(new X509Certificate(renewed.serverCertificate).verify(ca.publicKey));
    assert.deepEqual(decideRepositoryCertificates(asData(renewed), later), { type: 'none' });
  });

  it('issues everything anew for a Secret without a CA key once its leaves are due, or a leaf its CA did not sign', async () => {
    const old = asData(certs, false);
    assert.deepEqual(decideRepositoryCertificates(old, NOW), { type: 'none' });
    const due = decideRepositoryCertificates(old, new Date(NOW.getTime() + 61 * DAY));
    assert.equal(due.type === 'issue' && due.keepCa, false);
    const other = await issueRepositoryCertificates('another CA', NAMES, undefined, NOW);
    const mixed = { ...asData(certs), [TLS_FILES.serverCertificate.key]: other.serverCertificate };
    assert.equal(decideRepositoryCertificates(mixed, NOW).type, 'issue');
    assert.equal(decideRepositoryCertificates(undefined, NOW).type, 'issue');
  });

  it('treats an unreadable certificate as due', () => {
    assert.equal(renewalDue('not a certificate', NOW), true);
    assert.equal(renewalDue(undefined, NOW), true);
  });
});
