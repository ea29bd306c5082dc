/**
 * Carries out the instance plan (plan.ts) for a cluster: applies the desired children with
 * server-side apply (render/desired-state.ts) and replaces one outdated pod at a time during a
 * rolling update. The decisions are in plan.ts; this is the thin half that talks to the API.
 */
import type { EventRecorder, ObjectClient } from '@pgop/runtime';
import type { Logger } from 'winston';
import { clusterEventTarget } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { desiredChildren } from '../render/desired-state.js';
import type { OperatorPeer } from '../render/network-policies.js';
import type { InstanceAction } from './plan.js';

export interface InstanceRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  operator?: OperatorPeer;
}

type ChildrenInputs = Omit<Parameters<typeof desiredChildren>[1], 'operator'>;

export class InstanceRunner {
  constructor(private readonly deps: InstanceRunnerDeps) {}

  /**
   * Applies every child the cluster should own, the StatefulSet last, and deletes the
   * NetworkPolicies it no longer should (spec.networkPolicy turned off, spec.backup.pvc removed).
   */
  async applyChildren(o: ClusterObservation, inputs: ChildrenInputs): Promise<void> {
    const children = desiredChildren(o.cluster, { ...inputs, operator: this.deps.operator });
    for (const child of children) await this.deps.client.apply(child);
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
