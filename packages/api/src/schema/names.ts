/** The name rules of a PostgresCluster, shared by every field that names one. */
import { Type } from '@sinclair/typebox';
import { cel } from './k8s.js';

/**
 * The longest cluster name: the StatefulSet's pods carry a controller-revision-hash label of
 * "<name>-<10 chars>" that must fit in 63 characters, and "<name>-replica" must be a Service name.
 */
export const MAX_CLUSTER_NAME_LENGTH = 50;

/** CEL: the string `expr` is a valid cluster name (an RFC 1035 label of at most 50 characters). */
export function clusterNameRule(expr: string): string {
  return `${expr}.size() <= ${MAX_CLUSTER_NAME_LENGTH} && ${expr}.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`;
}

export const CLUSTER_NAME_ALLOWED = `a lowercase letter first, then lowercase letters, digits and "-", at most ${MAX_CLUSTER_NAME_LENGTH} characters`;

export function clusterNameField(description: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 253,
    'x-kubernetes-validations': [
      cel(clusterNameRule('self'), `must be a PostgresCluster name: ${CLUSTER_NAME_ALLOWED}`),
    ],
  });
}
