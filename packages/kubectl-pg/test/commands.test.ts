/** kubectl pg's command line, restore objects, redaction and completion (pure parts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostgresCluster } from '@pgop/api';
import { parseCommandLine, UsageError } from '../src/args.js';
import { complete } from '../src/complete.js';
import { REDACTED, redactSecret, redactText, secretValues } from '../src/report.js';
import { restoreObject } from '../src/restore.js';

const now = new Date('2026-12-03T12:00:00Z');
const source = {
  metadata: { name: 'orders', namespace: 'shop' },
  spec: { version: 16, replicas: 3, storage: { size: '5Gi' }, allowInPlaceRestore: true },
} as unknown as PostgresCluster;
const flags = (argv: string[]) => parseCommandLine(['restore', ...argv]).flags;

describe('kubectl pg command line', () => {
  it("takes kubectl's shared flags and keeps what follows -- for psql", () => {
    const parsed = parseCommandLine([
      'psql',
      'orders',
      '-n',
      'shop',
      '--context',
      'prod',
      '--replica',
      '--',
      '-c',
      'select 1',
    ]);
    assert.equal(parsed.command, 'psql');
    assert.deepEqual(parsed.positionals, ['orders']);
    assert.equal(parsed.flags.namespace, 'shop');
    assert.equal(parsed.flags.context, 'prod');
    assert.deepEqual(parsed.passThrough, ['-c', 'select 1']);
  });

  it('refuses unknown commands and flags and bad values, naming them', () => {
    assert.throws(
      () => parseCommandLine(['stauts']),
      (e: Error) => e instanceof UsageError && /unknown command "stauts"/.test(e.message),
    );
    assert.throws(() => parseCommandLine(['status', '--colour']), /colour/);
    assert.throws(
      () => parseCommandLine(['status', '-o', 'xml']),
      /--output must be json, yaml or text, not "xml"/,
    );
    assert.throws(() => parseCommandLine(['logs', 'x', '--tail', 'ten']), /--tail must be a whole number/);
  });
});

describe('kubectl pg restore', () => {
  it('writes a point-in-time restore into a new cluster with the source spec, minus its restore history', () => {
    const r = restoreObject(
      flags(['--from', 'orders', '--to', 'orders-copy', '--time', '2026-12-03T11:00:00Z', '--replicas', '1']),
      source,
      now,
    );
    assert.equal(r.metadata.name, 'orders-copy-20261203-120000');
    assert.deepEqual(r.spec.source, { clusterName: 'orders' });
    assert.deepEqual(r.spec.target, { time: '2026-12-03T11:00:00Z' });
    assert.equal(r.spec.destination.newCluster!.name, 'orders-copy');
    assert.equal(r.spec.destination.newCluster!.spec.replicas, 1);
    assert.equal(r.spec.destination.newCluster!.spec.version, 16);
    assert.equal('allowInPlaceRestore' in r.spec.destination.newCluster!.spec, false);
  });

  it('restores in place only when --confirm repeats the cluster', () => {
    assert.throws(
      () => restoreObject(flags(['--from', 'orders', '--in-place']), source, now),
      /confirm with --confirm orders/,
    );
    const r = restoreObject(
      flags(['--from', 'orders', '--in-place', '--confirm', 'orders', '--backup-label', '20261203-020000F']),
      source,
      now,
    );
    assert.deepEqual(r.spec.destination, { inPlace: { clusterName: 'orders', confirm: 'orders' } });
    assert.deepEqual(r.spec.target, { backupLabel: '20261203-020000F' });
  });

  it("refuses what the API would refuse, with the API's message", () => {
    assert.throws(() => restoreObject(flags(['--to', 'x']), source, now), /needs --from CLUSTER/);
    assert.throws(
      () => restoreObject(flags(['--from', 'orders', '--to', 'copy', '--time', 'yesterday']), source, now),
      /would be refused: spec.target.time/,
    );
    assert.throws(
      () => restoreObject(flags(['--from', 'gone', '--to', 'x']), undefined, now),
      /PostgresCluster gone does not exist/,
    );
  });
});

describe('kubectl pg report redaction', () => {
  it("keeps a Secret's keys and drops every value", () => {
    const secret = redactSecret({
      metadata: {
        name: 'orders-app',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"c2VjcmV0"}}',
        },
      },
      data: { username: 'YXBw', password: 'c2VjcmV0' },
    });
    assert.deepEqual(secret.data, { username: REDACTED, password: REDACTED });
    assert.deepEqual(secret.metadata.annotations, {});
  });

  it('sweeps passwords out of log lines, and the Secret values verbatim', () => {
    const text = [
      "ALTER ROLE app PASSWORD 'SCRAM-SHA-256$4096:abc'",
      'connecting with password=hunter22 host=x',
      'uri postgresql://app:s3cr3t-pw@orders-primary:5432/app',
      'a line that repeats the secret value Zq8wq9e8rt',
    ].join('\n');
    const out = redactText(text, ['Zq8wq9e8rt']);
    for (const leaked of ['SCRAM-SHA-256$4096:abc', 'hunter22', 's3cr3t-pw', 'Zq8wq9e8rt'])
      assert.ok(!out.includes(leaked), `${leaked} in ${out}`);
    assert.match(out, /postgresql:\/\/app:<redacted>@orders-primary/);
  });
});

describe('kubectl pg report sweep', () => {
  it("sweeps the Secrets' credentials, not their user names or hosts", () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const values = secretValues([
      {
        metadata: {},
        data: { username: b64('postgres'), password: b64('pw-123456'), host: b64('orders-primary.shop.svc') },
      },
      {
        metadata: {},
        data: {
          'tls.key': b64('-----BEGIN EC PRIVATE KEY-----x'),
          'tls.crt': b64('-----BEGIN CERTIFICATE-----y'),
        },
      },
    ]);
    assert.deepEqual(values, ['pw-123456', '-----BEGIN EC PRIVATE KEY-----x']);
  });
});

describe('kubectl pg completion', () => {
  const clusters = () => ['orders', 'billing'];
  it('completes commands, then cluster names, then flags, never file names', () => {
    assert.deepEqual(complete(['sw'], clusters), ['switchover', ':4']);
    assert.deepEqual(complete(['status', 'or'], clusters), ['orders', ':4']);
    assert.deepEqual(complete(['restore', '--from', ''], clusters), ['orders', 'billing', ':4']);
    assert.deepEqual(complete(['logs', 'orders', '--fo'], clusters), ['--follow', ':4']);
    assert.deepEqual(complete(['status', '-o', ''], clusters), ['json', 'yaml', 'text', ':4']);
    assert.deepEqual(complete(['status', '-n', 'shop', ''], clusters), ['orders', 'billing', ':4']);
    assert.deepEqual(complete(['status', 'orders', ''], clusters), [':4']);
  });
});
