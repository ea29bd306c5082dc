/** A Secret's data, decoded: what a controller reads from a cached Secret. */
import type { V1Secret } from '@kubernetes/client-node';

export function secretData(secret: V1Secret | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}
