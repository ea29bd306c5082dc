/**
 * Writes to the API server the way every pgop controller does them: server-side apply under one
 * field manager (the controller owns exactly the fields it renders, and conflicts with other
 * managers are forced, as controllers should), status through the status subresource, and
 * "create if absent" for objects that must never be overwritten (generated credentials).
 */
import {
  ApiException,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export class ObjectClient {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    readonly fieldManager: string,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * Server-side apply of the full intent for obj, written as the API takes it (the renders and
   * their golden files spell it so). The client library sends its own model of a built-in kind,
   * which names a few fields differently (NetworkPolicy's `from` is `_from`) and drops any field
   * it does not know: read obj into that model first (loadYaml does, and JSON is YAML).
   */
  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.objects.patch(
      loadYaml<T>(JSON.stringify(obj)),
      undefined,
      undefined,
      this.fieldManager,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** Server-side apply of `status` to a custom object's status subresource. */
  /** Server-side apply of status; returns the object's new resourceVersion. */
  async applyStatus(
    ref: ObjectRef & { namespace: string },
    plural: string,
    status: unknown,
  ): Promise<string | undefined> {
    const [group, version] = ref.apiVersion.split('/');
    const updated = (await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: group!,
        version: version!,
        namespace: ref.namespace,
        plural,
        name: ref.name,
        body: { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name }, status },
        fieldManager: this.fieldManager,
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as KubernetesObject;
    return updated.metadata?.resourceVersion;
  }

  /** A JSON merge patch (for fields no single manager should own, e.g. metadata.finalizers). */
  async mergePatch<T extends KubernetesObject>(ref: ObjectRef, patch: Record<string, unknown>): Promise<T> {
    const body = {
      ...patch,
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: {
        ...(patch.metadata as object | undefined),
        name: ref.name,
        namespace: ref.namespace,
      },
    };
    return this.objects.patch(
      body as T,
      undefined,
      undefined,
      this.fieldManager,
      undefined,
      PatchStrategy.MergePatch,
    );
  }

  /** Creates obj unless an object of that name exists; never changes an existing one. */
  async createIfAbsent<T extends KubernetesObject>(obj: T): Promise<'created' | 'exists'> {
    try {
      await this.objects.create(obj, undefined, undefined, this.fieldManager);
      return 'created';
    } catch (err) {
      if (isStatus(err, 409)) return 'exists';
      throw err;
    }
  }

  /** The object as the API server has it now (not a cache), or undefined when it does not exist. */
  async read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return (await this.objects.read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
      })) as T;
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** Deletes the object; already gone counts as done. */
  async delete(ref: ObjectRef, options: { gracePeriodSeconds?: number; uid?: string } = {}): Promise<void> {
    try {
      await this.objects.delete(
        {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        },
        undefined,
        undefined,
        options.gracePeriodSeconds,
        undefined,
        'Background',
        // In the body too: the client drops a query parameter of 0, and the API server reads
        // the body's options instead of the query's (a Job's default propagation orphans its pods).
        {
          propagationPolicy: 'Background',
          ...(options.gracePeriodSeconds !== undefined
            ? { gracePeriodSeconds: options.gracePeriodSeconds }
            : {}),
          ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        },
      );
    } catch (err) {
      if (isStatus(err, 404)) return;
      throw err;
    }
  }
}

/** True when err is an API error with this HTTP status. */
export function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}
