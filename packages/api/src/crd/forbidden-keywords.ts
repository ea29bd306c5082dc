/**
 * Walks a CRD schema and reports what the API server would reject or silently mangle:
 * keywords outside the structural-schema subset, and nodes without a type.
 */
import { KUBERNETES_EXTENSION_KEYWORDS } from '../schema/k8s.js';

/** Keywords a CRD's OpenAPI v3 schema may use (apiextensions JSONSchemaProps). */
const ALLOWED = new Set([
  'type',
  'format',
  'title',
  'description',
  'default',
  'enum',
  'nullable',
  'maximum',
  'minimum',
  'multipleOf',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'properties',
  'additionalProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'example',
  'externalDocs',
  ...KUBERNETES_EXTENSION_KEYWORDS,
]);
const INT_OR_STRING_ANY_OF = JSON.stringify([{ type: 'integer' }, { type: 'string' }]);
const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

export interface SchemaViolation {
  path: string;
  problem: string;
}

export function forbiddenSchemaKeywords(schema: unknown, path = '', inJunction = false): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return [{ path, problem: 'schema node is not an object' }];
  }
  const node = schema as Record<string, unknown>;
  for (const key of Object.keys(node)) {
    if (!ALLOWED.has(key)) out.push({ path, problem: `keyword "${key}" is not allowed in a CRD schema` });
  }
  if (node.uniqueItems === true)
    out.push({ path, problem: 'uniqueItems: true is forbidden (quadratic cost)' });
  for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (typeof node[k] === 'number') out.push({ path, problem: `numeric ${k} is not OpenAPI v3.0` });
  }
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    out.push({ path, problem: 'properties and additionalProperties are mutually exclusive' });
  }
  if (node.additionalProperties === false)
    out.push({ path, problem: 'additionalProperties: false is not allowed' });

  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (!inJunction) {
    if (node.type === undefined && !intOrString && !preserve) out.push({ path, problem: 'missing type' });
    if (node.type !== undefined && (typeof node.type !== 'string' || !TYPES.has(node.type))) {
      out.push({ path, problem: `type must be one of ${[...TYPES].join(', ')}` });
    }
  } else {
    // Inside anyOf/allOf/oneOf/not only value validations may appear (structural schema rule).
    for (const k of [
      'type',
      'description',
      'default',
      'nullable',
      'additionalProperties',
      'x-kubernetes-validations',
    ]) {
      if (node[k] !== undefined)
        out.push({ path, problem: `"${k}" is not allowed inside anyOf/allOf/oneOf/not` });
    }
  }
  if (node.type === 'array' && node.items === undefined) out.push({ path, problem: 'array without items' });

  const props = node.properties as Record<string, unknown> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) {
    out.push(...forbiddenSchemaKeywords(child, `${path}.${name}`, inJunction));
  }
  if (typeof node.additionalProperties === 'object') {
    out.push(...forbiddenSchemaKeywords(node.additionalProperties, `${path}[*]`, inJunction));
  }
  if (node.items !== undefined) out.push(...forbiddenSchemaKeywords(node.items, `${path}[]`, inJunction));
  for (const k of ['anyOf', 'allOf', 'oneOf']) {
    const list = node[k];
    // The one exception to "no type inside a junction": int-or-string's anyOf of integer and string.
    if (k === 'anyOf' && intOrString && JSON.stringify(list) === INT_OR_STRING_ANY_OF) continue;
    if (Array.isArray(list))
      list.forEach((s, i) => out.push(...forbiddenSchemaKeywords(s, `${path}.${k}[${i}]`, true)));
  }
  if (node.not !== undefined) out.push(...forbiddenSchemaKeywords(node.not, `${path}.not`, true));
  return out;
}
