/** A server certificate the user provides: what is refused before any pod serves it, and why. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { issueCertificateAuthority, issueLeaf, type KeyAndCertificate } from '../../src/tls/certificates.js';
import { checkServerCertificate, requiredServerNames } from '../../src/tls/server-certificate.js';

const NOW = new Date();
const REQUIRED = requiredServerNames('db1', 'prod', 2);
const COVERING = ['db1-primary.prod.svc', 'db1-replica.prod.svc', '*.db1-pods.prod.svc'];

describe('a server certificate the user provides', () => {
  let ca: KeyAndCertificate, otherCa: KeyAndCertificate, good: KeyAndCertificate;
  const secret = (leaf: KeyAndCertificate, authority = ca) => ({
    'tls.crt': leaf.certificate,
    'tls.key': leaf.key,
    'ca.crt': authority.certificate,
  });
  const check = (data: Record<string, string> | undefined) =>
    checkServerCertificate('db1-server', data, REQUIRED, NOW);
  const refusal = (data: Record<string, string> | undefined) => {
    const result = check(data);
    assert.equal(result.ok, false);
    return (result as { blocker: { reason: string; message: string } }).blocker;
  };
  before(async () => {
    ca = await issueCertificateAuthority('user CA');
    otherCa = await issueCertificateAuthority('another CA');
    good = await issueLeaf(ca, { commonName: 'db1', dnsNames: COVERING, usages: ['server'] });
  });

  it('must name both Services and every instance pod', () => {
    assert.deepEqual(REQUIRED, [
      'db1-primary.prod.svc',
      'db1-replica.prod.svc',
      'db1-0.db1-pods.prod.svc',
      'db1-1.db1-pods.prod.svc',
    ]);
  });

  it('is taken when complete, signed by its ca.crt and naming all of them; clients get its CA', () => {
    assert.deepEqual(check(secret(good)), { ok: true, ca: ca.certificate });
  });

  it('is refused, with what is wrong, when missing, incomplete, foreign, expired or short of names', async () => {
    assert.match(refusal(undefined).message, /Secret db1-server does not exist/);
    const withoutCa = Object.fromEntries(Object.entries(secret(good)).filter(([key]) => key !== 'ca.crt'));
    assert.match(refusal(withoutCa).message, /lacks key ca\.crt/);
    assert.match(refusal(secret(good, otherCa)).message, /its ca\.crt did not sign/);
    const expired = await issueLeaf(
      ca,
      { commonName: 'db1', dnsNames: COVERING, usages: ['server'], validityDays: 1 },
      new Date(NOW.getTime() - 3 * 24 * 60 * 60_000),
    );
    assert.match(refusal(secret(expired)).message, /valid only from/);
    const short = await issueLeaf(ca, {
      commonName: 'db1',
      dnsNames: ['db1-primary.prod.svc'],
      usages: ['server'],
    });
    const blocker = refusal(secret(short));
    assert.equal(blocker.reason, 'ServerCertificateInvalid');
    assert.match(
      blocker.message,
      /^spec\.tls\.serverCertificateSecret: Secret db1-server holds a certificate that does not name db1-replica\.prod\.svc, db1-0\.db1-pods\.prod\.svc, db1-1\.db1-pods\.prod\.svc/,
    );
    assert.doesNotMatch(JSON.stringify(blocker), /PRIVATE KEY/);
  });
});
