/**
 * A cache of one kind of object, kept current by list + watch (client-node's ListWatch), made
 * safe to run for months:
 * - any watch or list error restarts it with backoff (ListWatch itself stops for good on errors);
 * - a watchdog restarts the watch when nothing arrived for watchdogMs, so a connection that died
 *   silently (no FIN, no error) costs minutes, not forever;
 * - every resyncMs each cached object is handed to onChange again, so a lost event or a
 *   reconcile that gave up is retried without any outside trigger (controller-runtime's resync).
 * managedFields are dropped from cached objects: controllers never read them, and they are often
 * the largest part of an object.
 *
 * An operator installed for a list of namespaces (Helm value watchNamespaces) holds rights there
 * only: its Informer is then one list + watch per namespace, behind the same get and list.
 */
import {
  KubernetesObjectApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { ExponentialBackoff } from './backoff.js';

export interface InformerOptions<T extends object> {
  kubeConfig: KubeConfig;
  apiVersion: string;
  kind: string;
  /** The watch path, e.g. /api/v1/pods or /apis/apps/v1/statefulsets (all namespaces). */
  path: string;
  /** Watch only these namespaces (absent or empty: all). Not for cluster-scoped kinds. */
  namespaces?: readonly string[];
  labelSelector?: string;
  logger: Logger;
  /** Called for every add, update, delete and resync; must not throw (enqueue a key). */
  onChange: (obj: T, event: 'add' | 'update' | 'delete' | 'resync') => void;
  watchdogMs?: number;
  resyncMs?: number;
}

export class Informer<T extends object> {
  private readonly scopes: Map<string | undefined, NamespaceInformer<T>>;
  /** Resolves once the first list of every namespace has filled the cache. */
  readonly synced: Promise<void>;

  constructor(options: InformerOptions<T>) {
    const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
    this.scopes = new Map(namespaces.map((ns) => [ns, new NamespaceInformer<T>(options, ns)]));
    this.synced = Promise.all([...this.scopes.values()].map((s) => s.synced)).then(() => undefined);
  }

  async start(): Promise<void> {
    await Promise.all([...this.scopes.values()].map((s) => s.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.scopes.values()].map((s) => s.stop()));
  }

  get(name: string, namespace?: string): T | undefined {
    if (this.scopes.has(undefined)) return this.scopes.get(undefined)!.get(name, namespace);
    return namespace === undefined ? undefined : this.scopes.get(namespace)?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    if (this.scopes.has(undefined)) return this.scopes.get(undefined)!.list(namespace);
    if (namespace !== undefined) return this.scopes.get(namespace)?.list(namespace) ?? [];
    return [...this.scopes.values()].flatMap((s) => s.list());
  }
}

/**
 * PGOP_WATCH_NAMESPACES="team-a,team-b" (Helm value watchNamespaces): the namespaces an operator
 * installed for a list of namespaces watches; empty means all.
 */
export function parseWatchNamespaces(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The watch path of one namespace: /api/v1/pods → /api/v1/namespaces/db/pods. */
export function namespacedPath(path: string, namespace: string): string {
  const cut = path.lastIndexOf('/');
  return `${path.slice(0, cut)}/namespaces/${encodeURIComponent(namespace)}${path.slice(cut)}`;
}

/** One list + watch: all namespaces, or one. */
class NamespaceInformer<T extends object> {
  private readonly inner: ListWatch<KubernetesObject>;
  private readonly restartBackoff = new ExponentialBackoff(1_000, 30_000);
  private readonly timers: NodeJS.Timeout[] = [];
  private restartTimer?: NodeJS.Timeout;
  private lastActivity = Date.now();
  private stopped = false;
  private syncedOnce = false;
  private resolveSynced!: () => void;
  /** Resolves once the first list has filled the cache. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));

  constructor(
    private readonly options: InformerOptions<T>,
    namespace: string | undefined,
  ) {
    const { kubeConfig, apiVersion, kind, labelSelector } = options;
    const path = namespace === undefined ? options.path : namespacedPath(options.path, namespace);
    const api = KubernetesObjectApi.makeApiClient(kubeConfig);
    const list = async () => {
      const result = (await api.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      )) as KubernetesListObject<KubernetesObject>;
      // The list is decoded into client-node's models (timestamps become Date objects) while
      // watch events arrive as plain JSON: back to plain JSON, so the cache holds one shape.
      const items = result.items.map((item) => JSON.parse(JSON.stringify(item)) as KubernetesObject);
      for (const item of items) stripManagedFields(item);
      return { ...result, items };
    };
    this.inner = new ListWatch<KubernetesObject>(path, new Watch(kubeConfig), list, false, labelSelector);
    const forward = (event: 'add' | 'update' | 'delete') => (obj: KubernetesObject) => {
      this.lastActivity = Date.now();
      stripManagedFields(obj);
      options.onChange(obj as T, event);
    };
    this.inner.on('add', forward('add'));
    this.inner.on('update', forward('update'));
    this.inner.on('delete', forward('delete'));
    this.inner.on('connect', () => (this.lastActivity = Date.now()));
    this.inner.on('error', (err: unknown) => this.restartLater(err));
  }

  async start(): Promise<void> {
    const { watchdogMs = 120_000, resyncMs = 300_000 } = this.options;
    this.timers.push(
      setInterval(() => {
        if (Date.now() - this.lastActivity < watchdogMs) return;
        this.options.logger.info('watch quiet too long; reconnecting', { kind: this.options.kind });
        void this.restart();
      }, watchdogMs / 2),
      setInterval(() => {
        for (const obj of this.inner.list()) this.options.onChange(obj as T, 'resync');
      }, resyncMs),
    );
    for (const t of this.timers) t.unref();
    await this.restart();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.restartTimer);
    await this.inner.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.inner.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.inner.list(namespace) as readonly T[];
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    this.lastActivity = Date.now();
    await this.inner.stop();
    try {
      await this.inner.start();
    } catch (err) {
      this.restartLater(err);
      return;
    }
    // start() resolves after a failed list too (it reports the error); only a list sets a version.
    if (this.inner.latestResourceVersion() !== '') {
      this.restartBackoff.forget('watch');
      if (!this.syncedOnce) {
        this.syncedOnce = true;
        this.resolveSynced();
      }
    }
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return;
    const delay = this.restartBackoff.when('watch');
    this.options.logger.warn('watch failed; restarting', {
      kind: this.options.kind,
      delayMs: delay,
      error: err instanceof Error ? err.message : String(err),
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }
}

function stripManagedFields(obj: KubernetesObject): void {
  if (obj.metadata) delete obj.metadata.managedFields;
}
