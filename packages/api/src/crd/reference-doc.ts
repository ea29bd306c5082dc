/**
 * Renders the field reference of docs/api.md from the kind schemas, so every field, default,
 * allowed value and apply-time rule is documented from the one definition.
 */
import type { TSchema } from '@sinclair/typebox';
import { QUANTITY_PATTERN } from '../schema/k8s.js';
import type { KindDefinition } from './build-crd.js';

interface Row {
  field: string;
  type: string;
  required: boolean;
  details: string[];
  description: string;
}

function typeOf(node: Record<string, unknown>): string {
  if (node['x-kubernetes-int-or-string'] === true) return 'integer or string';
  if (node.type === 'array') return `array of ${typeOf(node.items as Record<string, unknown>)}`;
  if (node.type === 'object' && typeof node.additionalProperties === 'object') {
    return `map of ${typeOf(node.additionalProperties as Record<string, unknown>)}`;
  }
  return typeof node.format === 'string' && node.format !== 'int64'
    ? `${String(node.type)} (${node.format})`
    : String(node.type);
}

function detailsOf(node: Record<string, unknown>): string[] {
  const d: string[] = [];
  const code = (v: unknown) => `\`${JSON.stringify(v)}\``;
  if (
    node.default !== undefined &&
    !(typeof node.default === 'object' && Object.keys(node.default as object).length === 0)
  ) {
    d.push(`default ${code(node.default)}`);
  }
  if (Array.isArray(node.enum)) d.push(`one of ${node.enum.map(code).join(', ')}`);
  if (node.minimum !== undefined || node.maximum !== undefined) {
    d.push(`${node.minimum ?? '…'}–${node.maximum ?? '…'}`);
  }
  if (node.pattern === QUANTITY_PATTERN) d.push('a Kubernetes quantity, e.g. 500m or 2Gi');
  else if (typeof node.pattern === 'string') d.push(`matches \`${node.pattern}\``);
  if (node.maxLength !== undefined) d.push(`at most ${String(node.maxLength)} characters`);
  if (node.maxItems !== undefined) d.push(`at most ${String(node.maxItems)} items`);
  if (node.maxProperties !== undefined) d.push(`at most ${String(node.maxProperties)} entries`);
  const rules = node['x-kubernetes-validations'] as { rule: string; message?: string }[] | undefined;
  for (const r of rules ?? []) {
    const message = r.message ?? 'see the rule in the CRD';
    d.push(`${r.rule.includes('oldSelf') ? 'CEL, on update' : 'CEL'}: ${message}`);
  }
  return d;
}

function walk(node: Record<string, unknown>, path: string, required: boolean, rows: Row[]): void {
  rows.push({
    field: path,
    type: typeOf(node),
    required,
    details: detailsOf(node),
    description: String(node.description ?? ''),
  });
  const props = node.properties as Record<string, Record<string, unknown>> | undefined;
  const req = new Set((node.required as string[] | undefined) ?? []);
  for (const [name, child] of Object.entries(props ?? {}))
    walk(child, `${path}.${name}`, req.has(name), rows);
  if (node.type === 'array' && (node.items as Record<string, unknown>).properties) {
    const items = node.items as Record<string, unknown>;
    const itemReq = new Set((items.required as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries(items.properties as Record<string, Record<string, unknown>>)) {
      walk(child, `${path}[].${name}`, itemReq.has(name), rows);
    }
  }
}

const escape = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(schema: TSchema, root: string): string {
  const rows: Row[] = [];
  walk(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>, root, true, rows);
  const lines: string[] = [];
  if (rows[0]!.details.length > 0) lines.push(`Rules on \`${root}\`: ${rows[0]!.details.join('; ')}.`, '');
  lines.push(
    '| field | type | required | allowed values, default, rules | description |',
    '|---|---|---|---|---|',
  );
  for (const r of rows.slice(1)) {
    lines.push(
      `| \`${r.field}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${escape(r.details.join('; '))} | ${escape(r.description)} |`,
    );
  }
  return lines.join('\n');
}

export function renderReference(defs: readonly KindDefinition[]): string {
  const parts: string[] = [];
  for (const def of defs) {
    parts.push(`### ${def.kind}`, '', def.description, '');
    parts.push(
      `Short name \`${def.shortNames.join('`, `')}\`; categories \`${def.categories.join('`, `')}\`.`,
      '',
    );
    const names = (wide: boolean) =>
      def.printerColumns
        .filter((c) => Boolean(c.priority) === wide)
        .map((c) => c.name.toUpperCase())
        .join(', ');
    const wide = names(true);
    parts.push(
      `Columns of \`kubectl get ${def.plural}\`: ${names(false)}${wide ? ` (\`-o wide\` adds ${wide})` : ''}.`,
      '',
    );
    for (const rule of def.rootRules ?? []) parts.push(`Object rule (CEL): ${rule.message ?? rule.rule}`, '');
    parts.push(
      '#### spec',
      '',
      table(def.spec, 'spec'),
      '',
      '#### status',
      '',
      table(def.status, 'status'),
      '',
    );
  }
  return parts.join('\n');
}
