/**
 * An object as the API server stores it: name, namespace and uid are always set. The client's
 * types make every metadata field optional (they also describe objects not yet created); a
 * reconcile reads stored objects from its cache, and says so once with this type instead of
 * asserting `metadata.name!` at every use.
 */
export type Stored<T extends { metadata?: object }> = T & {
  metadata: NonNullable<T['metadata']> & { name: string; namespace: string; uid: string };
};

/** obj as Stored, when its name, namespace and uid are set (a namespaced object read from the API). */
export function asStored<T extends { metadata?: { name?: string; namespace?: string; uid?: string } }>(
  obj: T | undefined,
): Stored<T> | undefined {
  const m = obj?.metadata;
  return m?.name && m.namespace && m.uid ? (obj as Stored<T>) : undefined;
}
