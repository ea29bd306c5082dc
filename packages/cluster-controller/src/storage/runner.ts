/**
 * Carries out the storage decisions: auto-grow (auto-grow.ts) picks new sizes from the measured
 * use (usage-monitor.ts), expansion (expansion.ts) raises the claims to the spec's or the grown
 * size and makes new instances' claims at that size. The thin half that talks to the API.
 */
import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import type { BackupRepositoryStatus } from '@pgop/api';
import { isStatus, type EventRecorder, type Informer, type ObjectClient } from '@pgop/runtime';
import type { Logger } from 'winston';
import { childNames, clusterEventTarget, GROWN_AT_ANNOTATION } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { DATA_VOLUME, WAL_VOLUME } from '../render/statefulset.js';
import { decideAutoGrow, type AutoGrowDecision } from './auto-grow.js';
import {
  decideExpansion,
  storageBytes,
  type ClaimTemplate,
  type ExpansionDecision,
  type SizedClaim,
} from './expansion.js';
import type { UsageFacts } from './usage-monitor.js';

export interface StorageRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  storageClasses: Informer<V1StorageClass>;
}

export interface StorageDecision extends ExpansionDecision {
  autoGrow?: AutoGrowDecision;
  /** The size of each kind of instance volume (claim template): a StatefulSet made now asks for it. */
  sizes: Record<string, string>;
}

/** Reasons of VolumesHaveSpace that leave a volume over its threshold for good: a Warning event. */
const NOT_GROWN_REASONS = ['WalBacklog', 'AtLimit'];

/** The larger of two sizes. */
const larger = (a: string, b: string | undefined) =>
  b !== undefined && (storageBytes(b) ?? 0) > (storageBytes(a) ?? 0) ? b : a;

export class StorageRunner {
  constructor(private readonly deps: StorageRunnerDeps) {}

  /**
   * What to grow and expand. The volumes of a kind are kept at one size: the spec's, or the
   * largest any of them asks for (a growth by autoGrow, which the spec does not record), so a
   * new instance gets the room the others have.
   */
  decide(
    o: ClusterObservation,
    facts: UsageFacts | undefined,
    archiving: BackupRepositoryStatus['archiving'],
  ): StorageDecision {
    const { spec } = o.cluster;
    const names = childNames(o.name);
    const byTemplate: Record<string, V1PersistentVolumeClaim[]> = { [DATA_VOLUME]: [], [WAL_VOLUME]: [] };
    let repository: V1PersistentVolumeClaim | undefined;
    for (const claim of o.volumeClaims) {
      const name = claim.metadata?.name ?? '';
      // <template>-<StatefulSet>-<ordinal>
      const template = new RegExp(`^(.+)-${names.statefulSet}-\\d+$`).exec(name)?.[1];
      if (template && byTemplate[template]) byTemplate[template].push(claim);
      if (name === names.repositoryVolume) repository = claim;
    }
    const autoGrow = facts
      ? decideAutoGrow({
          autoGrow: { [DATA_VOLUME]: spec.storage.autoGrow, [WAL_VOLUME]: spec.walStorage?.autoGrow },
          walTemplate: spec.walStorage ? WAL_VOLUME : DATA_VOLUME,
          claims: byTemplate,
          usage: facts.usage,
          backlog: {
            inactiveSlots: facts.inactiveSlots ?? [],
            ...(archivingFailing(archiving) ? { archivingFailingSince: archiving!.lastFailedTime } : {}),
          },
          now: o.now,
        })
      : undefined;
    const wanted: Record<string, string> = {};
    for (const [template, size] of [
      [DATA_VOLUME, spec.storage.size],
      [WAL_VOLUME, spec.walStorage?.size],
    ] as const) {
      if (!size) continue;
      const largest = byTemplate[template]!.map((c) => c.spec?.resources?.requests?.storage).reduce(
        larger,
        size,
      );
      wanted[template] = larger(largest!, autoGrow?.grow.find((g) => g.template === template)?.size);
    }
    const claims: SizedClaim[] = Object.entries(byTemplate).flatMap(([template, list]) =>
      wanted[template] ? list.map((claim) => ({ claim, wanted: wanted[template]!, template })) : [],
    );
    if (repository && spec.backup?.pvc) claims.push({ claim: repository, wanted: spec.backup.pvc.size });
    const templates: ClaimTemplate[] = [];
    for (const t of o.statefulSet?.spec?.volumeClaimTemplates ?? []) {
      const name = t.metadata?.name ?? '';
      const size = t.spec?.resources?.requests?.storage;
      if (size && wanted[name]) templates.push({ name, size, wanted: wanted[name] });
    }
    const expansion = decideExpansion({
      claims,
      storageClass: (name) => (name ? this.deps.storageClasses.get(name) : undefined),
      templates,
      statefulSet: names.statefulSet,
      replicas: spec.replicas,
    });
    const volumes = expansion.volumes.map((v) =>
      autoGrow?.usedPercent[v.name] !== undefined ? { ...v, usedPercent: autoGrow.usedPercent[v.name] } : v,
    );
    return { ...expansion, volumes, sizes: wanted, ...(autoGrow ? { autoGrow } : {}) };
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

/** The last archive attempt failed: WAL piles up in pg_wal until archiving works again. */
function archivingFailing(archiving: BackupRepositoryStatus['archiving']): boolean {
  if (!archiving?.lastFailedTime) return false;
  return Date.parse(archiving.lastFailedTime) > (Date.parse(archiving.lastArchivedTime ?? '') || 0);
}
