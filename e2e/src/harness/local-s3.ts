/**
 * The S3 server of the local Kubernetes (MinIO, e2e/cluster/lib/addons.sh), as tests and the demo use
 * it: its address, its credentials copied into a namespace, and a spec.backup pointing at it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectlOk } from './kubectl.js';
import { CLUSTER_DIR, type LocalCluster } from './local-cluster.js';

export const LOCAL_S3 = {
  namespace: 'pgop-s3',
  endpoint: 'https://minio.pgop-s3.svc.cluster.local:9000',
  bucket: 'pgop-test',
} as const;
/** The Secret the CA is copied to (spec.backup.s3.tls.caSecret takes a Secret). */
const CA_SECRET = 's3-ca';

/**
 * Copies the server's credentials into namespace as Secret `name` (with another secret key, for
 * a test of refused credentials).
 */
export function copyLocalS3Credentials(
  cluster: LocalCluster,
  namespace: string,
  name: string,
  options: { secretAccessKey?: string } = {},
): void {
  const source = JSON.parse(
    kubectlOk(cluster, ['-n', LOCAL_S3.namespace, 'get', 'secret', 's3-credentials', '-o', 'json']),
  ) as { data: Record<string, string> };
  const data = { ...source.data };
  if (options.secretAccessKey)
    data['AWS_SECRET_ACCESS_KEY'] = Buffer.from(options.secretAccessKey).toString('base64');
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data };
  kubectlOk(cluster, ['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(secret));
}

/**
 * spec.backup for a PostgresCluster in namespace, archiving to the local S3 server with the
 * credentials in Secret credentialsSecret (see copyLocalS3Credentials); copies the CA there.
 */
export function localS3Backup(
  cluster: LocalCluster,
  namespace: string,
  credentialsSecret: string,
  options: { path?: string } = {},
) {
  const ca = readFileSync(join(CLUSTER_DIR, 'pki', 'ca.crt'), 'utf8');
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: CA_SECRET, namespace },
    stringData: { 'ca.crt': ca },
  };
  kubectlOk(cluster, ['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(secret));
  return {
    s3: {
      bucket: LOCAL_S3.bucket,
      endpoint: LOCAL_S3.endpoint,
      uriStyle: 'Path',
      credentialsSecret: { name: credentialsSecret },
      tls: { caSecret: { name: CA_SECRET } },
      ...(options.path ? { path: options.path } : {}),
    },
  };
}
