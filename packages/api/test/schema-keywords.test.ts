import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCrd, forbiddenSchemaKeywords, KIND_DEFINITIONS, openApiSchemaOf } from '../src/index.js';

describe('CRD schemas use only what Kubernetes accepts', () => {
  for (const def of KIND_DEFINITIONS) {
    it(`${def.kind}: no forbidden keyword, every node typed`, () => {
      assert.deepEqual(forbiddenSchemaKeywords(openApiSchemaOf(def)), []);
    });
  }

  it('the walker reports each kind of violation it knows', () => {
    const bad = {
      type: 'object',
      properties: {
        a: { type: 'string', const: 'x' },
        b: { $ref: '#/definitions/x' },
        c: { type: 'integer', exclusiveMinimum: 0 },
        d: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        e: { description: 'no type' },
        f: { type: 'object', properties: {}, additionalProperties: false },
        g: {
          anyOf: [
            { type: 'string', const: 'a' },
            { type: 'string', const: 'b' },
          ],
        },
        h: { type: ['string', 'null'] },
        i: { type: 'object', patternProperties: { '^(.*)$': { type: 'string' } } },
      },
    };
    const problems = forbiddenSchemaKeywords(bad).map((v) => `${v.path}: ${v.problem}`);
    for (const expected of [
      '.a: keyword "const" is not allowed in a CRD schema',
      '.b: keyword "$ref" is not allowed in a CRD schema',
      '.b: missing type',
      '.c: numeric exclusiveMinimum is not OpenAPI v3.0',
      '.d: keyword "uniqueItems" is not allowed in a CRD schema',
      '.e: missing type',
      '.f: properties and additionalProperties are mutually exclusive',
      '.f: additionalProperties: false is not allowed',
      '.g: missing type',
      '.g.anyOf[0]: "type" is not allowed inside anyOf/allOf/oneOf/not',
      '.h: type must be one of object, array, string, integer, number, boolean',
      '.i: keyword "patternProperties" is not allowed in a CRD schema',
    ]) {
      assert.ok(problems.includes(expected), `expected "${expected}" in:\n${problems.join('\n')}`);
    }
  });

  it('int-or-string is the one typed junction allowed', () => {
    const node = { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
    assert.deepEqual(forbiddenSchemaKeywords(node), []);
  });

  it('status.conditions is a list map keyed by type (server-side apply merges by type)', () => {
    for (const def of KIND_DEFINITIONS) {
      const status = openApiSchemaOf(def).properties as Record<
        string,
        { properties: Record<string, Record<string, unknown>> }
      >;
      const conditions = status.status!.properties.conditions!;
      assert.equal(conditions['x-kubernetes-list-type'], 'map');
      assert.deepEqual(conditions['x-kubernetes-list-map-keys'], ['type']);
    }
  });

  it('CRDs carry the names, subresources and columns the README shows', () => {
    interface Version {
      subresources: { scale?: { labelSelectorPath: string } };
      additionalPrinterColumns: { name: string; priority?: number }[];
    }
    interface Crd {
      spec: { names: { shortNames: string[] }; versions: Version[] };
    }
    const [cluster, backup, restore] = KIND_DEFINITIONS.map((d) => buildCrd(d) as unknown as Crd);
    assert.equal(cluster!.spec.names.shortNames[0], 'pgc');
    assert.equal(backup!.spec.names.shortNames[0], 'pgbackup');
    assert.equal(restore!.spec.names.shortNames[0], 'pgrestore');
    const version = cluster!.spec.versions[0]!;
    assert.deepEqual(Object.keys(version.subresources).sort(), ['scale', 'status']);
    assert.equal(version.subresources.scale?.labelSelectorPath, '.status.selector');
    const columns = (v: Version) =>
      v.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name.toUpperCase());
    assert.deepEqual(columns(version), ['VERSION', 'REPLICAS', 'STATUS', 'AGE']);
    assert.deepEqual(columns(backup!.spec.versions[0]!), [
      'CLUSTER',
      'LAST BACKUP',
      'SIZE',
      'COUNT',
      'NEXT SCHEDULED',
    ]);
  });
});
