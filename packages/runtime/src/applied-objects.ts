/**
 * Server-side apply that skips the request when it would change nothing. A controller re-applies
 * every child on every reconcile; at hundreds of clusters that is most of its API traffic and
 * all of it no-ops. Each apply is remembered (a digest of what was sent, the resourceVersion that
 * came back, when), and the next apply of the same object is skipped while:
 *   - what would be sent is the same, and
 *   - the caller's watched copy still has that resourceVersion (nobody changed or deleted the
 *     object since), or, for a kind the caller does not watch, the last apply is recent
 *     (`reassertMs` bounds how long a change made by someone else goes unrepaired).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { ObjectClient } from './object-client.js';

/** The caller's watched copy of the object (undefined: absent from its cache), or UNWATCHED. */
export type WatchedCopy = KubernetesObject | undefined | typeof UNWATCHED;
export const UNWATCHED = Symbol('unwatched');

export interface AppliedRecord {
  digest: string;
  resourceVersion?: string;
  atMs: number;
}

/** Whether the object must be applied again. Pure. */
export function applyNeeded(
  last: AppliedRecord | undefined,
  digest: string,
  current: WatchedCopy,
  nowMs: number,
  reassertMs: number,
): boolean {
  if (!last || last.digest !== digest) return true;
  if (current === UNWATCHED) return nowMs - last.atMs >= reassertMs;
  return (
    current?.metadata?.resourceVersion === undefined ||
    current.metadata.resourceVersion !== last.resourceVersion
  );
}

export const REASSERT_UNWATCHED_MS = 5 * 60_000;

export class AppliedObjects {
  /** owner key → object key → what was applied last. */
  private readonly records = new Map<string, Map<string, AppliedRecord>>();

  constructor(
    private readonly client: Pick<ObjectClient, 'apply'>,
    private readonly reassertMs = REASSERT_UNWATCHED_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies obj (for the owner `owner`, e.g. its cluster's key) unless that would change nothing. */
  async apply<T extends KubernetesObject>(owner: string, obj: T, current: WatchedCopy): Promise<void> {
    const key = `${obj.apiVersion}/${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
    const digest = createHash('sha256').update(JSON.stringify(obj)).digest('base64');
    const owned = this.records.get(owner);
    if (!applyNeeded(owned?.get(key), digest, current, this.now(), this.reassertMs)) return;
    const applied = await this.client.apply(obj);
    const record = { digest, resourceVersion: applied.metadata?.resourceVersion, atMs: this.now() };
    if (owned) owned.set(key, record);
    else this.records.set(owner, new Map([[key, record]]));
  }

  /** Forgets an owner's objects (it was deleted), and with that applies them afresh if it returns. */
  forget(owner: string): void {
    this.records.delete(owner);
  }
}
