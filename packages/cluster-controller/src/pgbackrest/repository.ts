/**
 * A cluster's pgBackRest repository as pgop reasons about it: which repository a cluster has, its
 * address as a URL without credentials (status.backup.repository, status.restore.source), the
 * repository host's DNS names, and whether WAL archiving is on. Pure; no configuration text.
 */
import type { PostgresCluster, Repository } from '@pgop/api';
import { childNames } from '../naming.js';

/**
 * A cluster's repository as pgBackRest sees it: the repository spec, and the cluster it belongs
 * to (which names the default S3 path and the repository host). A restore reads another
 * cluster's repository this way.
 */
export interface RepositoryOf {
  repository: Repository;
  clusterName: string;
  namespace: string;
}

/** The cluster's own repository (spec.backup), or undefined. */
export function ownRepository(cluster: PostgresCluster): RepositoryOf | undefined {
  const repository = cluster.spec.backup;
  if (!repository?.s3 && !repository?.pvc) return undefined;
  return { repository, clusterName: cluster.metadata.name!, namespace: cluster.metadata.namespace! };
}

/** The repository's directory: s3.path, or one per namespace and cluster. */
export function repositoryPathOf({ repository, clusterName, namespace }: RepositoryOf): string {
  return repository.s3?.path ?? `/pgbackrest/${namespace}/${clusterName}`;
}

/** The repository as a URL without credentials (status.backup.repository, status.restore.source). */
export function repositoryUrlOf(of: RepositoryOf): string {
  if (of.repository.s3) return `s3://${of.repository.s3.bucket}${repositoryPathOf(of)}`;
  return `pvc://${childNames(of.clusterName).repositoryVolume}`;
}

/** Where WAL goes, as a URL without credentials (status.backup.repository), or undefined. */
export function repositoryUrl(cluster: PostgresCluster): string | undefined {
  const own = ownRepository(cluster);
  return own && repositoryUrlOf(own);
}

/** The DNS names of the repository host's Service, the first being the one clients use. */
export function repositoryHostNames(clusterName: string, namespace: string): string[] {
  const service = childNames(clusterName).repositoryHost;
  const namespaced = `${service}.${namespace}`;
  return [`${namespaced}.svc`, service, namespaced, `${namespaced}.svc.cluster.local`];
}

/**
 * Archiving is on once pgop has checked the repository accepts writes (status.backup.repository
 * names it): before that, WAL would pile up in pg_wal behind a bucket that cannot take it.
 */
export function archivingEnabled(cluster: PostgresCluster): boolean {
  const url = repositoryUrl(cluster);
  return url !== undefined && cluster.status?.backup?.repository === url;
}

export interface S3Address {
  host: string;
  port: number;
}

/** Host and port of the S3 endpoint (the AWS endpoint of the region when none is given). */
export function s3Address(s3: NonNullable<Repository['s3']>): S3Address {
  if (!s3.endpoint) return { host: `s3.${s3.region ?? 'us-east-1'}.amazonaws.com`, port: 443 };
  const url = new URL(s3.endpoint);
  return { host: url.hostname, port: url.port ? Number(url.port) : 443 };
}
