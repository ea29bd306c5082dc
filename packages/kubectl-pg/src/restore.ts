/**
 * `kubectl pg restore`: a PostgresRestore written from flags (docs/restore.md), checked with the
 * API's own validator before anything is sent. Pure.
 */
import { validatePostgresRestore, type PostgresCluster, type PostgresRestore } from '@pgop/api';
import { UsageError, type Flags } from './args.js';

/** Fields of the source's spec a new cluster must not copy: they belong to that cluster's history. */
const NOT_COPIED = ['restore', 'inPlaceRestore', 'allowInPlaceRestore'] as const;

export function restoreObject(flags: Flags, source: PostgresCluster | undefined, now: Date): PostgresRestore {
  const from = flags.from;
  if (!from)
    throw new UsageError('kubectl pg restore needs --from CLUSTER (the cluster whose backups are restored)');
  if (flags.to && flags['in-place']) throw new UsageError('give --to NEW-CLUSTER or --in-place, not both');
  if (!flags.to && !flags['in-place'])
    throw new UsageError('give --to NEW-CLUSTER (a new cluster) or --in-place (replace the data of --from)');
  if (flags.time && flags['backup-label']) throw new UsageError('give --time or --backup-label, not both');
  let destination: PostgresRestore['spec']['destination'];
  if (flags['in-place']) {
    if (flags.confirm !== from)
      throw new UsageError(`--in-place replaces the data of ${from}: confirm with --confirm ${from}`);
    destination = { inPlace: { clusterName: from, confirm: from } };
  } else {
    if (!source)
      throw new UsageError(
        `PostgresCluster ${from} does not exist, so its spec cannot be copied: restore from a PostgresRestore manifest (docs/restore.md)`,
      );
    const spec = structuredClone(source.spec) as Record<string, unknown>;
    for (const field of NOT_COPIED) delete spec[field];
    if (flags.replicas) spec.replicas = Number(flags.replicas);
    destination = { newCluster: { name: flags.to!, spec: spec as PostgresCluster['spec'] } };
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-').toLowerCase();
  const object = {
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresRestore',
    metadata: { name: flags.name ?? `${flags.to ?? from}-${stamp}`.slice(0, 63) },
    spec: {
      source: { clusterName: from },
      ...(flags.time ? { target: { time: flags.time } } : {}),
      ...(flags['backup-label'] ? { target: { backupLabel: flags['backup-label'] } } : {}),
      destination,
    },
  };
  const checked = validatePostgresRestore(object);
  if (!checked.valid)
    throw new UsageError(
      `the PostgresRestore would be refused: ${checked.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    );
  return object as PostgresRestore;
}
