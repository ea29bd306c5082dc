/**
 * Builds CustomResourceDefinition objects from the kind schemas: a pure function, so the
 * committed crds/*.yaml are reproducible and a test can compare them.
 */
import type { TSchema } from '@sinclair/typebox';
import { GROUP, VERSION } from '../group.js';
import type { CelRule } from '../schema/k8s.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  /** CEL rules on the whole object (the only place that can check metadata.name). */
  rootRules?: CelRule[];
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

/** Plain JSON (drops TypeBox's symbol keys), so the schema serializes exactly as written. */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

export function openApiSchemaOf(def: KindDefinition): Record<string, unknown> {
  return {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion of this object: postgres.example.com/v1.' },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      metadata: { type: 'object' },
      spec: plain(def.spec),
      status: plain(def.status),
    },
    ...(def.rootRules && def.rootRules.length > 0 ? { 'x-kubernetes-validations': def.rootRules } : {}),
  };
}

export function buildCrd(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'pgop', 'app.kubernetes.io/part-of': 'pgop' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openApiSchemaOf(def) },
          subresources: { status: {}, ...(def.scale ? { scale: def.scale } : {}) },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}
