/**
 * A controller's own status writes: server-side applies status and remembers the resourceVersion
 * each write returned, so a reconcile can tell when its cache has not caught up with its own last
 * write yet (and must not act on the older status, e.g. start a backup it already recorded).
 */
import { isStatus, type ObjectClient, type ObjectRef } from './object-client.js';
import type { Informer } from './informer.js';
import { cacheBehind } from './resource-version.js';
import { asStored, type Stored } from './stored.js';

export class StatusWrites {
  private readonly written = new Map<string, string>();

  constructor(
    private readonly client: ObjectClient,
    private readonly plural: string,
  ) {}

  /** True when the cached object (key namespace/name) is older than our last status write to it. */
  behind(key: string, cachedResourceVersion: string | undefined): boolean {
    return cacheBehind(cachedResourceVersion, this.written.get(key));
  }

  forget(key: string): void {
    this.written.delete(key);
  }

  /**
   * The reconcile preamble: the cached object of key (namespace/name), typed as stored; when it
   * is gone, undefined, and what was remembered of it is forgotten.
   */
  cached<T extends { metadata?: { name?: string; namespace?: string; uid?: string } }>(
    key: string,
    cache: Informer<T>,
  ): Stored<T> | undefined {
    const [namespace, name] = key.split('/') as [string, string];
    const found = asStored(cache.get(name, namespace));
    if (!found) this.forget(key);
    return found;
  }

  /** Applies the status; false when the object is gone (deleted since the cache saw it). */
  async write(ref: ObjectRef & { namespace: string }, status: unknown): Promise<boolean> {
    try {
      const resourceVersion = await this.client.applyStatus(ref, this.plural, status);
      if (resourceVersion) this.written.set(`${ref.namespace}/${ref.name}`, resourceVersion);
      return true;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }
}
