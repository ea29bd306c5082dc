/**
 * The repository a cluster is restored from (spec.restore): the repository given, or the one the
 * named cluster (or the named PostgresBackup's cluster) archives to. Pure.
 */
import type { PostgresBackup, PostgresCluster } from '@pgop/api';
import { ownRepository, repositoryUrlOf, type RepositoryOf } from '../pgbackrest/repository.js';
import type { Blocker } from '../blocker.js';

export function resolveRestoreSource(
  cluster: PostgresCluster,
  clusterNamed: (name: string) => PostgresCluster | undefined,
  backupNamed: (name: string) => PostgresBackup | undefined,
): RepositoryOf | Blocker {
  const restore = cluster.spec.restore!;
  const namespace = cluster.metadata.namespace!;
  let sourceName = restore.clusterName;
  if (restore.backupName) {
    const backup = backupNamed(restore.backupName);
    if (!backup)
      return {
        reason: 'RestoreSourceNotFound',
        message: `spec.restore.backupName: PostgresBackup ${restore.backupName} does not exist in namespace ${namespace}`,
      };
    sourceName = backup.spec.clusterName;
  }
  if (sourceName === cluster.metadata.name)
    return {
      reason: 'RestoreSourceInvalid',
      message: `spec.restore names this cluster itself as the source: a cluster cannot be created from its own backups (restore in place with a PostgresRestore instead)`,
    };
  const found = restore.repository
    ? { repository: restore.repository, clusterName: sourceName!, namespace }
    : clusterNamed(sourceName!);
  if (!found)
    return notFound(
      `PostgresCluster ${sourceName} does not exist in namespace ${namespace}; give spec.restore.repository to restore from the repository of a deleted cluster`,
    );
  const source = 'repository' in found ? found : ownRepository(found);
  if (!source) return notFound(`PostgresCluster ${sourceName} has no spec.backup repository to restore from`);
  const own = ownRepository(cluster);
  // The restored data has the source's system identifier: pgBackRest would accept its WAL into
  // the source's archive and mix two histories there.
  if (own && repositoryUrlOf(own) === repositoryUrlOf(source))
    return {
      reason: 'RestoreSourceInvalid',
      message: `spec.backup is the repository restored from (${repositoryUrlOf(own)}): a restored cluster must archive to a repository of its own (leave s3.path unset for one per cluster)`,
    };
  return source;
}

const notFound = (what: string): Blocker => ({
  reason: 'RestoreSourceNotFound',
  message: `spec.restore: ${what}`,
});

export function isBlocker(x: RepositoryOf | Blocker): x is Blocker {
  return 'reason' in x;
}
