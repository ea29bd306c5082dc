/** The standard metav1.Condition shape, so `kubectl wait --for=condition=Ready` works. */
import { Type, type Static } from '@sinclair/typebox';
import { stringEnum } from './k8s.js';

export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: 'Type of condition in CamelCase, e.g. Ready.',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: stringEnum(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition.' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        description: 'The metadata.generation the condition was set for.',
        format: 'int64',
        minimum: 0,
      }),
    ),
    lastTransitionTime: Type.String({
      description: 'When the condition last changed from one status to another.',
      format: 'date-time',
    }),
    reason: Type.String({
      description: 'Programmatic identifier of the cause, in CamelCase.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ description: 'Human-readable details.', maxLength: 32768 }),
  },
  { description: 'A condition in the standard Kubernetes shape.' },
);

export type Condition = Static<typeof ConditionSchema>;

/** `status.conditions`: a list keyed by type, so server-side apply merges entries by type. */
export const ConditionsSchema = Type.Array(ConditionSchema, {
  description: 'Current conditions of the object, one per type.',
  maxItems: 32,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

/** The fields that end every kind's status: what generation it describes, and its conditions. */
export function statusTail() {
  return {
    observedGeneration: Type.Optional(
      Type.Integer({
        description: 'The metadata.generation this status describes.',
        format: 'int64',
        minimum: 0,
      }),
    ),
    conditions: Type.Optional(ConditionsSchema),
  };
}
