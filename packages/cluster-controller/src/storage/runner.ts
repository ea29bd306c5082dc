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
import { DATA_VOLUME, WAL_VOLUME } from '../render/statefulset.js';
import { decideExpansion, type ClaimTemplate, type ExpansionDecision, type SizedClaim } from './expansion.js';

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
    const { spec } = o.cluster;
    const names = childNames(o.name);
    const wanted: Record<string, string | undefined> = {
      [DATA_VOLUME]: spec.storage.size,
      [WAL_VOLUME]: spec.walStorage?.size,
    };
    const claims: SizedClaim[] = [];
    for (const claim of o.volumeClaims) {
      const name = claim.metadata?.name ?? '';
      // <template>-<StatefulSet>-<ordinal>
      const template = new RegExp(`^(.+)-${names.statefulSet}-\\d+$`).exec(name)?.[1];
      const size = template ? wanted[template] : undefined;
      if (template && size) claims.push({ claim, wanted: size, template });
      if (spec.backup?.pvc && name === names.repositoryVolume)
        claims.push({ claim, wanted: spec.backup.pvc.size });
    }
    const templates: ClaimTemplate[] = [];
    for (const t of o.statefulSet?.spec?.volumeClaimTemplates ?? []) {
      const name = t.metadata?.name ?? '';
      const size = t.spec?.resources?.requests?.storage;
      if (size && wanted[name]) templates.push({ name, size, wanted: wanted[name] });
    }
    return decideExpansion({
      claims,
      storageClass: (name) => (name ? this.deps.storageClasses.get(name) : undefined),
      templates,
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
        `the StatefulSet's claim templates ask for less than the spec; it is created again with the spec's sizes, so new instances get them (its pods keep running)`,
      );
    }
  }

  private events(o: ClusterObservation) {
    return this.deps.events.about(clusterEventTarget(o.cluster));
  }
}
