/**
 * An informer handler that passes an update on only when the part of the object a reconcile
 * reads changed (controller-runtime's predicates). Objects that are rewritten often for reasons
 * the controller does not care about (Patroni renews its lease and reports its WAL position every
 * few seconds) would otherwise cost a whole reconcile each time. Adds, deletes and resyncs always
 * pass.
 */
type Named = { metadata?: { name?: string; namespace?: string } };

export function onRelevantChange<T extends Named>(
  fingerprint: (obj: T) => string,
  handler: (obj: T) => void,
): (obj: T, event: 'add' | 'update' | 'delete' | 'resync') => void {
  const seen = new Map<string, string>();
  return (obj, event) => {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    if (event === 'delete') {
      seen.delete(key);
      return handler(obj);
    }
    const print = fingerprint(obj);
    if (event === 'update' && seen.get(key) === print) return;
    seen.set(key, print);
    handler(obj);
  };
}
