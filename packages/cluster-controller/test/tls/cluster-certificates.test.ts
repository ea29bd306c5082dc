/** The cluster's own certificates: what clients, replicas and Patroni check, and renewal. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { CA_KEY, issueCertificateAuthority, type KeyAndCertificate } from '../../src/tls/certificates.js';
import {
  CLUSTER_TLS_KEYS,
  clusterServerNames,
  clusterTlsData,
  decideClusterCertificates,
  instanceHostName,
  issueClusterCertificates,
  trustedCertificateAuthorities,
  type ClusterCertificates,
} from '../../src/tls/cluster-certificates.js';

const NOW = new Date('2026-12-02T12:00:00Z');
const DAY = 24 * 60 * 60_000;
const NAMES = clusterServerNames('my-cluster', 'db');

describe('cluster certificates', () => {
  let certs: ClusterCertificates;
  let otherCa: KeyAndCertificate;
  let ca: X509Certificate, server: X509Certificate, replication: X509Certificate;
  before(async () => {
    certs = await issueClusterCertificates('db/my-cluster PostgreSQL CA', NAMES, undefined, NOW);
    otherCa = await issueCertificateAuthority('another CA', NOW);
    ca = new X509Certificate(certs.ca.certificate);
    server = new X509Certificate(certs.server.certificate);
    replication = new X509Certificate(certs.replication.certificate);
  });

  it('the server certificate answers to every name a client or a member uses', () => {
    for (const host of [
      'my-cluster-primary',
      'my-cluster-primary.db.svc',
      'my-cluster-replica.db.svc.cluster.local',
      instanceHostName('my-cluster', 'db', 'my-cluster-2'),
      'localhost',
    ])
      assert.ok(server.checkHost(host), host);
    assert.equal(server.checkHost('other-primary.db.svc'), undefined);
    assert.equal(server.checkHost('my-cluster-0.my-cluster-pods.other.svc'), undefined);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(server.checkIssued(ca));
  });

  it('the replication certificate names the replication role (PostgreSQL cert auth takes it from the CN)', () => {
    assert.equal(replication.subject, 'CN=replicator');
    assert.ok(replication.verify(ca.publicKey));
    assert.equal(replication.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), false, 'not a server certificate');
    assert.deepEqual(server.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('renews the leaves from the kept CA when a third of their life is left; a new CA only when it cannot sign', () => {
    const data = clusterTlsData(certs);
    assert.deepEqual(decideClusterCertificates(data, NOW), { type: 'none' });
    assert.deepEqual(decideClusterCertificates(undefined, NOW), {
      type: 'issue',
      keepCa: false,
      reason: 'issued',
    });
    assert.equal(decideClusterCertificates(data, new Date(NOW.getTime() + 61 * DAY)).type, 'issue');
    assert.equal(
      (decideClusterCertificates(data, new Date(NOW.getTime() + 61 * DAY)) as { keepCa: boolean }).keepCa,
      true,
    );
    const withoutKey = Object.fromEntries(Object.entries(data).filter(([key]) => key !== CA_KEY));
    assert.deepEqual(decideClusterCertificates(withoutKey, NOW), { type: 'none' });
    assert.equal(
      (decideClusterCertificates(withoutKey, new Date(NOW.getTime() + 61 * DAY)) as { keepCa: boolean })
        .keepCa,
      false,
    );
    // A leaf someone replaced with one from another CA is issued again, from the kept CA.
    const foreign = { ...data, [CLUSTER_TLS_KEYS.certificate]: otherCa.certificate };
    assert.deepEqual(decideClusterCertificates(foreign, NOW), {
      type: 'issue',
      keepCa: true,
      reason: 'renewed (a third of their life left, or not signed by the CA)',
    });
  });

  it('renewed from the kept CA: the same CA, new leaves', async () => {
    const renewed = await issueClusterCertificates('unused', NAMES, certs.ca, NOW);
    assert.equal(renewed.ca.certificate, certs.ca.certificate);
    assert.notEqual(renewed.server.certificate, certs.server.certificate);
    assert.ok(new X509Certificate(renewed.server.certificate).verify(ca.publicKey));
  });

  it("trusts, beside the cluster's CA and the user's, the CA served before a switch until the next one", async () => {
    const pem = (c: KeyAndCertificate) => c.certificate.trim();
    const userCa = await issueCertificateAuthority('the user CA', NOW);
    const split = (bundle: string) => bundle.match(/-----BEGIN[\s\S]+?-----END CERTIFICATE-----/g);
    // pgop's certificate only, then the user's: pgop's CA stays (pods not yet rolled serve pgop's).
    const own = trustedCertificateAuthorities(certs.ca.certificate, undefined, undefined, NOW);
    assert.deepEqual(split(own), [pem(certs.ca)]);
    const first = trustedCertificateAuthorities(certs.ca.certificate, userCa.certificate, own, NOW);
    assert.deepEqual(split(first), [pem(certs.ca), pem(userCa)]);
    // From one CA of the user's to another: the rolled replicas must still verify a primary that
    // serves the certificate of the first.
    const switched = trustedCertificateAuthorities(certs.ca.certificate, otherCa.certificate, first, NOW);
    assert.deepEqual(split(switched), [pem(certs.ca), pem(otherCa), pem(userCa)]);
    assert.equal(
      trustedCertificateAuthorities(certs.ca.certificate, otherCa.certificate, switched, NOW),
      switched,
      'stable once written',
    );
    // The next switch drops the one before; an expired one is not kept.
    const back = trustedCertificateAuthorities(certs.ca.certificate, undefined, switched, NOW);
    assert.deepEqual(split(back), [pem(certs.ca), pem(otherCa)]);
    const later = new Date(NOW.getTime() + 11 * 365 * DAY);
    assert.deepEqual(split(trustedCertificateAuthorities(certs.ca.certificate, undefined, switched, later)), [
      pem(certs.ca),
    ]);
  });
});
