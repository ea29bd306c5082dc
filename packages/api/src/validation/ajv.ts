/**
 * ajv validators built from the same schemas as the CRDs. Controllers use them to re-check an
 * object before acting on it (and report Valid=False); the API server stays the source of truth.
 *
 * What ajv cannot do, and the server does: CEL rules (x-kubernetes-validations, including
 * transition rules), pruning of unknown fields, and Kubernetes-only formats. docs/api.md lists
 * the differences.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { openApiSchemaOf, type KindDefinition } from '../crd/build-crd.js';
import { POSTGRES_BACKUP, POSTGRES_CLUSTER, POSTGRES_RESTORE } from '../crd/definitions.js';
import { KUBERNETES_EXTENSION_KEYWORDS } from '../schema/k8s.js';
import type { PostgresBackup } from '../schema/postgres-backup.js';
import {
  isOwnedParameter,
  WAL_LEVEL_MESSAGE,
  WAL_LEVELS,
  type PostgresCluster,
} from '../schema/postgres-cluster.js';
import type { PostgresRestore } from '../schema/postgres-restore.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export interface ValidationIssue {
  /** Kubernetes-style field path, e.g. spec.storage.size. */
  field: string;
  message: string;
}

export type ValidationResult<T> = { valid: true; value: T } | { valid: false; issues: ValidationIssue[] };

function newAjv(): Ajv {
  // strictTypes off: int-or-string nodes carry `pattern` next to anyOf, as Kubernetes requires.
  const ajv = new Ajv({ strict: true, strictTypes: false, allErrors: true, useDefaults: true });
  addFormats(ajv);
  ajv.addVocabulary([...KUBERNETES_EXTENSION_KEYWORDS]);
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

function toIssue(e: ErrorObject): ValidationIssue {
  // The API server's spelling: spec.scheduling.tolerations[0].key.
  const base = e.instancePath
    .replace(/^\//, '')
    .replaceAll('/', '.')
    .replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  const field = e.keyword === 'required' ? [base, e.params.missingProperty].filter(Boolean).join('.') : base;
  if (e.keyword === 'enum') {
    return { field, message: `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}` };
  }
  if (e.keyword === 'required') return { field, message: 'is required' };
  return { field, message: e.message ?? 'is invalid' };
}

function validatorFor<T>(
  ajv: () => Ajv,
  def: KindDefinition,
  /** Rules the API server runs in CEL that the controllers must not trust to have run. */
  recheck: (value: T) => ValidationIssue[] = () => [],
): (obj: unknown) => ValidationResult<T> {
  let fn: ValidateFunction | undefined;
  return (obj: unknown) => {
    fn ??= ajv().compile(openApiSchemaOf(def));
    // useDefaults fills defaults in place, like the API server does: validate a copy.
    const copy = structuredClone(obj);
    if (!fn(copy)) return { valid: false, issues: (fn.errors ?? []).map(toIssue) };
    const issues = recheck(copy as T);
    return issues.length === 0 ? { valid: true, value: copy as T } : { valid: false, issues };
  };
}

/**
 * Parameters users may not set, as the CEL rule on the field words them: a parameter that makes
 * the server run a command must not reach it because a CEL rule was skipped (an older CRD, an
 * object stored before the rule).
 */
function ownedParameterIssues(
  parameters: Record<string, unknown> | undefined,
  field: string,
): ValidationIssue[] {
  const owned = Object.keys(parameters ?? {})
    .filter(isOwnedParameter)
    .map((name) => ({ field, message: `parameter ${name} is managed by pgop and cannot be set` }));
  const walLevel = Object.entries(parameters ?? {})
    .filter(
      ([name, value]) =>
        name.toLowerCase() === 'wal_level' &&
        !(WAL_LEVELS as readonly string[]).includes(String(value).toLowerCase()),
    )
    .map(() => ({ field, message: WAL_LEVEL_MESSAGE }));
  return [...owned, ...walLevel];
}

// Compiled on first use: the backup Jobs and the CLIs import this package for its names and
// constants only, and compiling the three schemas takes a fifth of a second.
let shared: Ajv | undefined;
const ajv = () => (shared ??= newAjv());
export const validatePostgresCluster = validatorFor<PostgresCluster>(ajv, POSTGRES_CLUSTER, (c) =>
  ownedParameterIssues(c.spec.postgresql?.parameters, 'spec.postgresql.parameters'),
);
export const validatePostgresBackup = validatorFor<PostgresBackup>(ajv, POSTGRES_BACKUP);
export const validatePostgresRestore = validatorFor<PostgresRestore>(ajv, POSTGRES_RESTORE, (r) =>
  ownedParameterIssues(
    r.spec.destination.newCluster?.spec.postgresql?.parameters,
    'spec.destination.newCluster.spec.postgresql.parameters',
  ),
);

export const VALIDATORS = {
  PostgresCluster: validatePostgresCluster,
  PostgresBackup: validatePostgresBackup,
  PostgresRestore: validatePostgresRestore,
} as const;
