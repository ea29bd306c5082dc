/**
 * True when a cached object is older than a write this process made to it. resourceVersions are
 * etcd revisions in practice; comparing them here only keeps a reconcile from acting on a status
 * older than its own last write (e.g. starting a backup or a switchover it already recorded).
 */
export function cacheBehind(cached: string | undefined, written: string | undefined): boolean {
  if (!cached || !written || !/^\d+$/.test(cached) || !/^\d+$/.test(written)) return false;
  return BigInt(cached) < BigInt(written);
}
