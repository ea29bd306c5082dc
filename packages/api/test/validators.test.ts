import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VALIDATORS } from '../src/index.js';
import {
  INVALID_CASES,
  VALID_EXAMPLES,
  fullClusterWith,
  backupSchedule,
  basicCluster,
} from '../src/testing/index.js';

const kindOf = (o: Record<string, unknown>) => o.kind as keyof typeof VALIDATORS;

describe('ajv validators', () => {
  for (const example of VALID_EXAMPLES) {
    it(`accepts: ${example.name}`, () => {
      const result = VALIDATORS[kindOf(example.object)](example.object);
      assert.ok(result.valid, JSON.stringify(!result.valid && result.issues));
    });
  }

  describe('invalid objects the schema rejects', () => {
    for (const c of INVALID_CASES.filter((c) => c.ajv)) {
      it(`${c.kind}: ${c.name} -> ${c.field}`, () => {
        const result = VALIDATORS[c.kind](c.update ?? c.object);
        assert.equal(result.valid, false, 'ajv accepted an object the schema forbids');
        const fields = !result.valid ? result.issues.map((i) => i.field) : [];
        assert.ok(fields.includes(c.field), `expected an issue on ${c.field}, got ${fields.join(', ')}`);
      });
    }
  });

  describe('invalid objects only CEL catches (documented in docs/api.md)', () => {
    for (const c of INVALID_CASES.filter((c) => !c.ajv && !c.update)) {
      it(`${c.kind}: ${c.name} passes ajv`, () => {
        // If this fails, the schema got stricter: mark the case ajv: true and update docs/api.md.
        assert.ok(VALIDATORS[c.kind](c.object).valid);
      });
    }
  });

  it('fills defaults like the API server does, without touching the input', () => {
    const input = backupSchedule();
    const result = VALIDATORS.PostgresBackup({ ...input, spec: { clusterName: 'my-cluster' } });
    assert.ok(result.valid);
    assert.deepEqual(result.value.spec.retention, { days: 7, count: 5 });
    assert.equal(result.value.spec.keepForever, false);
    assert.equal((input.spec as { keepForever?: boolean }).keepForever, undefined);
  });

  it('defaults the S3 region, URI style, credential keys and TLS verification', () => {
    const result = VALIDATORS.PostgresCluster(
      fullClusterWith('spec.backup', { s3: { bucket: 'bkt', credentialsSecret: { name: 's' }, tls: {} } }),
    );
    assert.ok(result.valid);
    assert.deepEqual(result.value.spec.backup?.s3, {
      bucket: 'bkt',
      region: 'us-east-1',
      uriStyle: 'Host',
      credentialsSecret: {
        name: 's',
        accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
        secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
      },
      tls: { verify: true },
    });
  });

  it('names the field and the allowed values for a bad version', () => {
    const result = VALIDATORS.PostgresCluster({
      ...basicCluster(),
      spec: { version: 13, replicas: 1, storage: { size: '10Gi' } },
    });
    assert.equal(result.valid, false);
    assert.deepEqual(!result.valid && result.issues, [
      { field: 'spec.version', message: 'must be one of 14, 15, 16, 17, 18' },
    ]);
  });

  it('refuses wal_level below replica in any spelling of its name (PostgreSQL ignores case)', () => {
    for (const name of ['wal_level', 'WAL_LEVEL', 'Wal_Level']) {
      const result = VALIDATORS.PostgresCluster({
        ...basicCluster(),
        spec: {
          version: 17,
          replicas: 1,
          storage: { size: '10Gi' },
          postgresql: { parameters: { [name]: 'minimal' } },
        },
      });
      assert.deepEqual(
        !result.valid && result.issues,
        [
          {
            field: 'spec.postgresql.parameters',
            message:
              'wal_level must be replica or logical: streaming replicas and WAL archiving need at least replica',
          },
        ],
        name,
      );
    }
    const logical = VALIDATORS.PostgresCluster({
      ...basicCluster(),
      spec: {
        version: 17,
        replicas: 1,
        storage: { size: '10Gi' },
        postgresql: { parameters: { WAL_LEVEL: 'Logical' } },
      },
    });
    assert.equal(logical.valid, true);
  });
});
