/**
 * TypeBox helpers that emit only what a CRD's structural OpenAPI v3 schema accepts.
 *
 * TypeBox's own Union/Literal/Record emit `anyOf` of `const` and `patternProperties`, which
 * the API server rejects; these helpers produce the Kubernetes spelling instead while keeping
 * the static TypeScript types. `forbiddenSchemaKeywords` (crd/forbidden-keywords.ts) checks
 * the result.
 */
import { Type, type TSchema, type TUnsafe, type SchemaOptions } from '@sinclair/typebox';

/** The x-kubernetes-* extensions a CRD schema may carry. */
export const KUBERNETES_EXTENSION_KEYWORDS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** A CEL validation rule (`x-kubernetes-validations` entry). */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** Field path (relative to the node) the error is reported on, e.g. ".storageClass". */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  optionalOldSelf?: boolean;
}

export function cel(rule: string, message: string, extra: Omit<CelRule, 'rule' | 'message'> = {}): CelRule {
  return { rule, message, ...extra };
}

/** Options accepted by every helper: a description is mandatory, docs are generated from it. */
export interface FieldOptions extends SchemaOptions {
  description: string;
  'x-kubernetes-validations'?: CelRule[];
}

/** A string enum, emitted as `type: string, enum: [...]`. */
export function stringEnum<const T extends readonly string[]>(
  values: T,
  options: FieldOptions & { default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** An integer enum, emitted as `type: integer, enum: [...]`. */
export function integerEnum<const T extends readonly number[]>(
  values: T,
  options: FieldOptions & { default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'integer', enum: [...values] });
}

/** A map with string keys, emitted as `type: object, additionalProperties: <value>`. */
export function stringMap<V extends TSchema>(
  value: V,
  options: FieldOptions & { maxProperties?: number },
): TUnsafe<Record<string, V['static']>> {
  return Type.Unsafe<Record<string, V['static']>>({
    ...options,
    type: 'object',
    additionalProperties: value,
  });
}

/** The grammar of a Kubernetes resource.Quantity (apimachinery's quantity regexp). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/**
 * A quantity written as a string ("10Gi"). The server checks it with CEL's `isQuantity` so the
 * message says what is allowed instead of printing a regular expression.
 */
export function quantityString(options: FieldOptions & { positive?: boolean }): TUnsafe<string> {
  const { positive, ...rest } = options;
  const rules: CelRule[] = [
    cel('isQuantity(self)', 'must be a Kubernetes quantity such as 10Gi, 500Mi or 1Ti'),
    ...(positive
      ? [cel("!isQuantity(self) || quantity(self).isGreaterThan(quantity('0'))", 'must be greater than zero')]
      : []),
    ...(rest['x-kubernetes-validations'] ?? []),
  ];
  return Type.Unsafe<string>({ ...rest, type: 'string', maxLength: 64, 'x-kubernetes-validations': rules });
}

/**
 * A quantity that may be a number or a string (cpu: 1, cpu: "500m"), like
 * core/v1 ResourceRequirements: int-or-string with the quantity pattern on strings.
 */
export function intOrStringQuantity(options: FieldOptions): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    ...options,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
  });
}

/** A value that may be a number or a string, e.g. a PostgreSQL parameter. */
export function intOrString(options: FieldOptions): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    ...options,
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
  });
}

/** Lowercase RFC 1123 subdomain, the name of most Kubernetes objects. */
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** The name of an object in the same namespace. */
export function objectName(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    description,
    type: 'string',
    minLength: 1,
    maxLength: 253,
    'x-kubernetes-validations': [
      cel(
        `self.matches('${DNS1123_SUBDOMAIN_PATTERN.replaceAll('\\', '\\\\')}')`,
        'must be a lowercase RFC 1123 name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
      ),
    ],
  });
}
