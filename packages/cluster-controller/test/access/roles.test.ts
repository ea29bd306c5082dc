/** The managed roles: their Secrets, when a password is applied, and how it is stored. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import {
  connectionDetails,
  decideRole,
  managedRoles,
  PASSWORD_APPLIED_ANNOTATION,
  passwordFingerprint,
  roleStatements,
} from '../../src/access/roles.js';
import { scramVerifier } from '../../src/access/scram.js';
import { basicCluster, cluster } from '../fixtures.js';

const c = cluster(basicCluster());
const [app, rewind] = managedRoles('my-cluster') as [
  ReturnType<typeof managedRoles>[0],
  ReturnType<typeof managedRoles>[0],
];
const secret = (password: string, applied?: string): V1Secret => ({
  metadata: {
    name: 'my-cluster-app',
    ...(applied ? { annotations: { [PASSWORD_APPLIED_ANNOTATION]: applied } } : {}),
  },
  data: { password: Buffer.from(password).toString('base64') },
});

describe('scramVerifier', () => {
  it("derives RFC 7677's keys for its example (user, pencil)", () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    assert.equal(
      scramVerifier('pencil', salt),
      'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
    );
  });

  it('salts each verifier anew', () => {
    assert.notEqual(scramVerifier('pencil'), scramVerifier('pencil'));
  });
});

describe('managed roles', () => {
  it('are the application role with its database, the rewind role with what pg_rewind reads, and the superuser', () => {
    assert.deepEqual(
      [app.user, app.secretName, app.database, rewind.user, rewind.secretName, rewind.database],
      ['app', 'my-cluster-app', 'app', 'rewinder', 'my-cluster-rewind', undefined],
    );
    const superuser = managedRoles('my-cluster')[2]!;
    assert.deepEqual(
      [superuser.user, superuser.secretName, superuser.attributes, superuser.connectionDetails],
      ['postgres', 'my-cluster-superuser', 'SUPERUSER', true],
    );
    const sql = roleStatements(rewind, 'SCRAM-SHA-256$4096:x$y:z').join('\n');
    assert.match(
      sql,
      /GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file\(text, bigint, bigint, boolean\) TO rewinder/,
    );
    assert.doesNotMatch(sql, /SUPERUSER(?! )|pg_database/);
  });

  it('hand out ready connection strings, with the password escaped where the format needs it', () => {
    const d = connectionDetails(c, 'app', "p@ss:w/rd'", 'app');
    assert.equal(d.host, `my-cluster-primary.${c.metadata.namespace}.svc`);
    assert.equal(d.uri, `postgresql://app:p%40ss%3Aw%2Frd'@${d.host}:5432/app?sslmode=verify-full`);
    assert.equal(
      d['jdbc-uri'],
      `jdbc:postgresql://${d.host}:5432/app?user=app&password=p%40ss%3Aw%2Frd'&sslmode=verify-full`,
    );
    assert.equal(d.pgpass, `${d.host}:5432:app:app:p@ss\\:w/rd'\n`);
  });

  it('apply a new password once, and again only when the Secret changes it', () => {
    const first = decideRole(c, app, secret('generated-password-1'));
    assert.equal(first.type, 'apply');
    assert.equal(first.type === 'apply' && first.rotation, false);
    const fingerprint = passwordFingerprint('app', 'generated-password-1');
    assert.deepEqual(decideRole(c, app, secret('generated-password-1', fingerprint)), { type: 'none' });
    const rotated = decideRole(c, app, secret('a-new-password-2', fingerprint));
    assert.equal(rotated.type, 'apply');
    assert.equal(rotated.type === 'apply' && rotated.rotation, true);
    assert.equal(rotated.type === 'apply' && rotated.data.uri!.includes('a-new-password-2'), true);
    const rewound = decideRole(c, rewind, secret('generated-password-3'));
    assert.deepEqual(
      rewound.type === 'apply' && rewound.data,
      {},
      'no connection strings for the rewind role',
    );
  });

  it('apply every password again after an in-place restore brought back the old roles', () => {
    const fingerprint = passwordFingerprint('app', 'generated-password-1');
    const restored = cluster(basicCluster());
    restored.status = { restore: { phase: 'Restored', requestId: 'uid/2' } } as typeof restored.status;
    const step = decideRole(restored, app, secret('generated-password-1', fingerprint));
    assert.equal(step.type, 'apply');
    const again = step.type === 'apply' ? step.fingerprint : '';
    assert.deepEqual(decideRole(restored, app, secret('generated-password-1', again)), { type: 'none' });
  });

  it('refuse a password too short or with a line break, keeping the current one', () => {
    for (const bad of ['short', 'two\nlines-password'])
      assert.equal(decideRole(c, app, secret(bad)).type, 'invalid', JSON.stringify(bad));
  });

  it('never put the password into SQL: only its SCRAM verifier', () => {
    const sql = roleStatements(app, scramVerifier('generated-password-1')).join('\n');
    assert.doesNotMatch(sql, /generated-password-1/);
    assert.match(sql, /ALTER ROLE app WITH LOGIN NOSUPERUSER .* PASSWORD 'SCRAM-SHA-256\$4096:/);
  });
});
