/**
 * Carries out the instance plan (plan.ts) for a cluster: applies the desired children with
 * server-side apply (render/desired-state.ts), skipping those that would not change
 * (AppliedObjects), and replaces one outdated pod at a time during a rolling update. The
 * decisions are in plan.ts; this is the thin half that talks to the API.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  AppliedObjects,
  UNWATCHED,
  type EventRecorder,
  type ObjectClient,
  type WatchedCopy,
} from '@pgop/runtime';
import type { Logger } from 'winston';
import { clusterEventTarget } from '../naming.js';
import type { ClusterCaches, ClusterObservation } from '../observe.js';
import { desiredChildren } from '../render/desired-state.js';
import type { OperatorPeer } from '../render/network-policies.js';
import type { InstanceAction } from './plan.js';

export interface InstanceRunnerDeps {
  client: ObjectClient;
  /** The children's kinds the controller watches: a change to one of them is seen at once. */
  caches: Pick<ClusterCaches, 'statefulSets' | 'configMaps' | 'secrets' | 'networkPolicies' | 'services'>;
  events: EventRecorder;
  logger: Logger;
  operator?: OperatorPeer;
}

type ChildrenInputs = Omit<Parameters<typeof desiredChildren>[1], 'operator'>;

export class InstanceRunner {
  private readonly applied: AppliedObjects;

  constructor(private readonly deps: InstanceRunnerDeps) {
    this.applied = new AppliedObjects(deps.client);
  }

  /**
   * Applies every child the cluster should own, the StatefulSet last, and deletes the
   * NetworkPolicies it no longer should (spec.networkPolicy turned off, spec.backup.pvc removed).
   */
  async applyChildren(o: ClusterObservation, inputs: ChildrenInputs): Promise<void> {
    const children = desiredChildren(o.cluster, { ...inputs, operator: this.deps.operator });
    for (const child of children) await this.applied.apply(o.key, child, this.watchedCopy(o, child));
    const wanted = new Set(children.filter((c) => c.kind === 'NetworkPolicy').map((c) => c.metadata?.name));
    for (const policy of o.networkPolicies.filter((p) => !wanted.has(p.metadata?.name))) {
      await this.deps.client.delete(
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          name: policy.metadata!.name!,
          namespace: o.namespace,
        },
        { uid: policy.metadata?.uid },
      );
    }
  }

  /**
   * Forgets what was applied for a cluster: it is gone, or a child it does not watch was deleted
   * (the next applyChildren creates it again at once).
   */
  forgetApplied(key: string): void {
    this.applied.forget(key);
  }

  private watchedCopy(o: ClusterObservation, child: KubernetesObject): WatchedCopy {
    const name = child.metadata!.name!;
    const { caches } = this.deps;
    switch (child.kind) {
      case 'StatefulSet':
        return caches.statefulSets.get(name, o.namespace);
      case 'ConfigMap':
        return caches.configMaps.get(name, o.namespace);
      case 'Secret':
        return caches.secrets.get(name, o.namespace);
      case 'NetworkPolicy':
        return caches.networkPolicies.get(name, o.namespace);
      case 'Service':
        return caches.services.get(name, o.namespace);
      default:
        return UNWATCHED;
    }
  }

  async act(o: ClusterObservation, action: InstanceAction): Promise<void> {
    if (action.type !== 'replacePod') return;
    const pod = o.pods.find((p) => p.metadata?.name === action.pod);
    if (!pod) return;
    this.deps.logger.info('replacing instance', { key: o.key, pod: action.pod, reason: action.reason });
    await this.deps.client.delete(
      { apiVersion: 'v1', kind: 'Pod', name: action.pod, namespace: o.namespace },
      { uid: pod.metadata?.uid },
    );
    await this.deps.events.record(
      clusterEventTarget(o.cluster),
      'Normal',
      'InstanceReplaced',
      'RollingUpdate',
      `replaced ${action.pod} to apply the current spec`,
    );
  }
}
