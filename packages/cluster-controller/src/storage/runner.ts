/**
 * Carries out the storage decision (decision.ts): raises claims, makes new instances' claims,
 * and says what it did in events. The thin half that talks to the API.
 */
import type { V1StorageClass } from '@kubernetes/client-node';
import type { BackupRepositoryStatus } from '@pgop/api';
import { isStatus, type EventRecorder, type Informer, type ObjectClient } from '@pgop/runtime';
import type { Logger } from 'winston';
import { clusterEventTarget, GROWN_AT_ANNOTATION } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { decideStorage, type StorageDecision } from './decision.js';
import type { UsageFacts } from './usage-monitor.js';

export interface StorageRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  storageClasses: Informer<V1StorageClass>;
}

/** Reasons of VolumesHaveSpace that leave a volume over its threshold for good: a Warning event. */
const NOT_GROWN_REASONS = ['WalBacklog', 'AtLimit'];

export class StorageRunner {
  constructor(private readonly deps: StorageRunnerDeps) {}

  decide(
    o: ClusterObservation,
    facts: UsageFacts | undefined,
    archiving: BackupRepositoryStatus['archiving'],
  ): StorageDecision {
    return decideStorage(o, facts, archiving, (name) =>
      name ? this.deps.storageClasses.get(name) : undefined,
    );
  }

  async act(o: ClusterObservation, decision: StorageDecision): Promise<void> {
    const grown = decision.autoGrow?.grow ?? [];
    for (const g of grown)
      await this.events(o)(
        'Normal',
        'VolumeAutoGrown',
        'Storage',
        `${g.because}: every ${g.template} volume grows to ${g.size}`,
      );
    await this.reportNoSpace(o, decision);
    for (const { claim, from, size } of decision.raise) {
      const byAutoGrow = grown.some((g) => claim.startsWith(`${g.template}-`));
      try {
        await this.deps.client.mergePatch(
          { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: claim, namespace: o.namespace },
          {
            ...(byAutoGrow
              ? { metadata: { annotations: { [GROWN_AT_ANNOTATION]: o.now.toISOString() } } }
              : {}),
            spec: { resources: { requests: { storage: size } } },
          },
        );
      } catch (err) {
        // Refused (a quota, an admission policy): said, and asked again at the next reconcile.
        if (!isStatus(err, 403) && !isStatus(err, 422)) throw err;
        await this.events(o)(
          'Warning',
          'VolumeExpansionRefused',
          'Storage',
          `the API server refused to expand ${claim} to ${size}: ${(err as Error).message}`.slice(0, 1024),
        );
        continue;
      }
      this.deps.logger.info('expanding a volume', { key: o.key, claim, from, size });
      await this.events(o)('Normal', 'VolumeExpansionRequested', 'Storage', `${claim}: ${from} → ${size}`);
    }
    for (const { claim, template, size } of decision.create) await this.createClaim(o, claim, template, size);
  }

  /**
   * The claim of an instance to come, as the StatefulSet's template would make it but at `size`:
   * the StatefulSet uses a claim of the name it would give. Made once; already there is done.
   */
  private async createClaim(
    o: ClusterObservation,
    claim: string,
    template: string,
    size: string,
  ): Promise<void> {
    const from = o.statefulSet?.spec?.volumeClaimTemplates?.find((t) => t.metadata?.name === template);
    if (!from) return;
    const made = await this.deps.client.createIfAbsent({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: claim, namespace: o.namespace, labels: from.metadata?.labels ?? {} },
      spec: { ...from.spec, resources: { ...from.spec?.resources, requests: { storage: size } } },
    });
    if (made === 'exists') return;
    this.deps.logger.info('made a new instance volume at the current size', { key: o.key, claim, size });
  }

  /** A Warning event when a volume over its threshold is not grown (a WAL backlog, the limit), once per cause. */
  private async reportNoSpace(o: ClusterObservation, decision: StorageDecision): Promise<void> {
    const now = decision.autoGrow?.condition;
    const before = o.cluster.status?.conditions?.find((c) => c.type === now?.type);
    if (!now || !NOT_GROWN_REASONS.includes(now.reason) || before?.reason === now.reason) return;
    await this.events(o)('Warning', `VolumeNotGrown${now.reason}`, 'Storage', now.message);
  }

  private events(o: ClusterObservation) {
    return this.deps.events.about(clusterEventTarget(o.cluster));
  }
}
