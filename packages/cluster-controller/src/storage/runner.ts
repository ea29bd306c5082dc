/**
 * Carries out the expansion decision (expansion.ts): raises the claims' requested size, and
 * recreates the StatefulSet with the larger claim template, keeping its pods. The thin half that
 * talks to the API.
 */
import type { V1StorageClass } from '@kubernetes/client-node';
import { isStatus, type EventRecorder, type Informer, type ObjectClient } from '@pgop/runtime';
import type { Logger } from 'winston';
import { childNames, clusterEventTarget } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { DATA_VOLUME } from '../render/statefulset.js';
import { decideExpansion, type ExpansionDecision, type SizedClaim } from './expansion.js';

export interface StorageRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  storageClasses: Informer<V1StorageClass>;
}

export class StorageRunner {
  constructor(private readonly deps: StorageRunnerDeps) {}

  /** What to expand, from the claims the cluster has and their StorageClasses. */
  decide(o: ClusterObservation): ExpansionDecision {
    const names = childNames(o.name);
    const dataClaim = new RegExp(`^${DATA_VOLUME}-${names.statefulSet}-\\d+$`);
    const claims: SizedClaim[] = [];
    for (const claim of o.volumeClaims) {
      const name = claim.metadata?.name ?? '';
      if (dataClaim.test(name)) claims.push({ claim, wanted: o.cluster.spec.storage.size, data: true });
      const repository = o.cluster.spec.backup?.pvc;
      if (repository && name === names.repositoryVolume)
        claims.push({ claim, wanted: repository.size, data: false });
    }
    return decideExpansion({
      claims,
      storageClass: (name) => (name ? this.deps.storageClasses.get(name) : undefined),
      templateSize: o.statefulSet?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage,
      dataSize: o.cluster.spec.storage.size,
    });
  }

  async expand(o: ClusterObservation, decision: ExpansionDecision): Promise<void> {
    for (const { claim, from, size } of decision.raise) {
      try {
        await this.deps.client.mergePatch(
          { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: claim, namespace: o.namespace },
          { spec: { resources: { requests: { storage: size } } } },
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
    if (decision.recreateStatefulSet && o.statefulSet && !o.statefulSet.metadata?.deletionTimestamp) {
      const template = o.statefulSet.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage;
      await this.deps.client.delete(
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: o.statefulSet.metadata!.name!,
          namespace: o.namespace,
        },
        { uid: o.statefulSet.metadata?.uid, orphan: true },
      );
      await this.events(o)(
        'Normal',
        'StatefulSetRecreated',
        'Storage',
        `the StatefulSet's claim template asks for ${template}; it is created again asking for ${o.cluster.spec.storage.size}, so new instances get that size (its pods keep running)`,
      );
    }
  }

  private events(o: ClusterObservation) {
    return this.deps.events.about(clusterEventTarget(o.cluster));
  }
}
