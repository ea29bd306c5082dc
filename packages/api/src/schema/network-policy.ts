/**
 * spec.networkPolicy: who may reach a cluster's pods over the network. The peer shape is
 * Kubernetes' own NetworkPolicyPeer, so a selector reads as it does in a NetworkPolicy.
 */
import { Type, type Static } from '@sinclair/typebox';
import { cel, stringEnum, stringMap } from './k8s.js';

const LabelSelectorRequirementSchema = Type.Object(
  {
    key: Type.String({ description: 'The label key.', minLength: 1, maxLength: 317 }),
    operator: stringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const, {
      description: 'How the key relates to the values.',
    }),
    values: Type.Optional(
      Type.Array(Type.String({ description: 'A label value.', maxLength: 63 }), {
        description: 'For In and NotIn: at least one value; for Exists and DoesNotExist: none.',
        maxItems: 50,
      }),
    ),
  },
  {
    description: 'A label selector requirement, as in Kubernetes.',
    'x-kubernetes-validations': [
      cel(
        "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
        'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
        { fieldPath: '.values' },
      ),
    ],
  },
);

function labelSelector(description: string) {
  return Type.Object(
    {
      matchLabels: Type.Optional(
        stringMap(Type.String({ description: 'Label value.', maxLength: 63 }), {
          description: 'Labels the pod or namespace must carry.',
          maxProperties: 20,
        }),
      ),
      matchExpressions: Type.Optional(
        Type.Array(LabelSelectorRequirementSchema, {
          description: 'Requirements the labels must meet (all of them).',
          maxItems: 20,
        }),
      ),
    },
    { description },
  );
}

export const NetworkPolicyPeerSchema = Type.Object(
  {
    podSelector: Type.Optional(
      labelSelector(
        "Pods whose labels match; in the cluster's namespace, or in the namespaces namespaceSelector selects. {} selects every pod.",
      ),
    ),
    namespaceSelector: Type.Optional(
      labelSelector(
        'Namespaces whose labels match (every namespace carries kubernetes.io/metadata.name). {} selects all.',
      ),
    ),
    ipBlock: Type.Optional(
      Type.Object(
        {
          cidr: Type.String({
            description: 'A CIDR, such as 10.0.0.0/8.',
            maxLength: 64,
            'x-kubernetes-validations': [
              cel('isCIDR(self)', 'must be a CIDR such as 10.0.0.0/8 or fd00::/8'),
            ],
          }),
          except: Type.Optional(
            Type.Array(
              Type.String({
                description: 'A CIDR inside cidr.',
                maxLength: 64,
                'x-kubernetes-validations': [cel('isCIDR(self)', 'must be a CIDR such as 10.1.0.0/16')],
              }),
              { description: 'CIDRs inside cidr that are not let in.', maxItems: 20 },
            ),
          ),
        },
        { description: 'Addresses outside the pod network (pod IPs change; select pods by label instead).' },
      ),
    ),
  },
  {
    description: 'A source of connections, as a NetworkPolicyPeer.',
    'x-kubernetes-validations': [
      cel(
        'has(self.podSelector) || has(self.namespaceSelector) || has(self.ipBlock)',
        'give podSelector, namespaceSelector or ipBlock',
      ),
      cel(
        '!has(self.ipBlock) || !has(self.podSelector) && !has(self.namespaceSelector)',
        'ipBlock cannot be combined with podSelector or namespaceSelector',
        { fieldPath: '.ipBlock' },
      ),
    ],
  },
);
export type NetworkPolicyPeer = Static<typeof NetworkPolicyPeerSchema>;

export const NetworkPolicySchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({
        description:
          "Whether pgop makes the cluster's NetworkPolicies. They take effect only where the cluster's network plugin enforces NetworkPolicy. Turn off to manage policies yourself (pgop then deletes the ones it made).",
        default: true,
      }),
    ),
    clients: Type.Optional(
      Type.Array(NetworkPolicyPeerSchema, {
        description:
          "Who may connect to PostgreSQL (port 5432) through the Services or the pods. Unset: every pod in the cluster's namespace. [] : no one but the cluster's own instances. The members, pgop and the repository host always reach what they need (docs/security.md).",
        maxItems: 20,
      }),
    ),
  },
  {
    description:
      "Network access to the cluster's pods (ingress). pgop lets in its own traffic: the instances to each other (PostgreSQL and Patroni), the cluster controller to Patroni's API, pgop's PostgreSQL pods of the namespace to a PVC repository's host; and spec.networkPolicy.clients to PostgreSQL.",
  },
);
export type NetworkPolicySpec = Static<typeof NetworkPolicySchema>;
