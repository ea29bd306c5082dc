/**
 * The storage decision for one cluster, from its observation and the measured use: auto-grow
 * (auto-grow.ts) picks new sizes, expansion (expansion.ts) raises the claims to the spec's or the
 * grown size and makes new instances' claims at that size. Pure; runner.ts carries it out.
 */
import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import type { BackupRepositoryStatus } from '@pgop/api';
import { archivingFailing } from '../backup/health.js';
import { childNames } from '../naming.js';
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

export interface StorageDecision extends ExpansionDecision {
  autoGrow?: AutoGrowDecision;
  /** The size of each kind of instance volume (claim template): a StatefulSet made now asks for it. */
  sizes: Record<string, string>;
}

/** The larger of two sizes. */
const larger = (a: string, b: string | undefined) =>
  b !== undefined && (storageBytes(b) ?? 0) > (storageBytes(a) ?? 0) ? b : a;

/**
 * What to grow and expand. The volumes of a kind are kept at one size: the spec's, or the
 * largest any of them asks for (a growth by autoGrow, which the spec does not record), so a
 * new instance gets the room the others have.
 */
export function decideStorage(
  o: ClusterObservation,
  facts: UsageFacts | undefined,
  archiving: BackupRepositoryStatus['archiving'],
  storageClass: (name: string | undefined) => V1StorageClass | undefined,
): StorageDecision {
  const { spec } = o.cluster;
  const names = childNames(o.name);
  const { byTemplate, repository } = groupClaims(o);
  const autoGrow = facts
    ? decideAutoGrow({
        autoGrow: { [DATA_VOLUME]: spec.storage.autoGrow, [WAL_VOLUME]: spec.walStorage?.autoGrow },
        walTemplate: spec.walStorage ? WAL_VOLUME : DATA_VOLUME,
        claims: byTemplate,
        usage: facts.usage,
        backlog: {
          inactiveSlots: facts.inactiveSlots ?? [],
          archivingFailingSince: archivingFailingSince(archiving),
        },
        now: o.now,
      })
    : undefined;
  const wanted = wantedSizes(o, byTemplate, autoGrow);
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
    storageClass,
    templates,
    statefulSet: names.statefulSet,
    replicas: spec.replicas,
  });
  const volumes = expansion.volumes.map((v) =>
    autoGrow?.usedPercent[v.name] !== undefined ? { ...v, usedPercent: autoGrow.usedPercent[v.name] } : v,
  );
  return { ...expansion, volumes, sizes: wanted, ...(autoGrow ? { autoGrow } : {}) };
}

/** The cluster's claims by claim template (<template>-<StatefulSet>-<ordinal>), and its repository's. */
function groupClaims(o: ClusterObservation) {
  const names = childNames(o.name);
  const byTemplate: Record<string, V1PersistentVolumeClaim[]> = { [DATA_VOLUME]: [], [WAL_VOLUME]: [] };
  let repository: V1PersistentVolumeClaim | undefined;
  const instanceClaim = new RegExp(`^(.+)-${names.statefulSet}-\\d+$`);
  for (const claim of o.volumeClaims) {
    const name = claim.metadata?.name ?? '';
    const template = instanceClaim.exec(name)?.[1];
    if (template && byTemplate[template]) byTemplate[template].push(claim);
    if (name === names.repositoryVolume) repository = claim;
  }
  return { byTemplate, repository };
}

/** Per claim template, the largest of the spec's size, any claim's and autoGrow's new one. */
function wantedSizes(
  o: ClusterObservation,
  byTemplate: Record<string, V1PersistentVolumeClaim[]>,
  autoGrow: AutoGrowDecision | undefined,
): Record<string, string> {
  const { spec } = o.cluster;
  const wanted: Record<string, string> = {};
  for (const [template, size] of [
    [DATA_VOLUME, spec.storage.size],
    [WAL_VOLUME, spec.walStorage?.size],
  ] as const) {
    if (!size) continue;
    const claimed = byTemplate[template]!.map((c) => c.spec?.resources?.requests?.storage);
    const grown = autoGrow?.grow.find((g) => g.template === template)?.size;
    wanted[template] = [...claimed, grown].reduce(larger, size);
  }
  return wanted;
}

/** When the last archive attempt failed, if it did (status.backup.archiving): WAL piles up in pg_wal until archiving works again. */
function archivingFailingSince(archiving: BackupRepositoryStatus['archiving']): string | undefined {
  const ms = (time: string | undefined) => (time ? Date.parse(time) : undefined);
  const failing = archivingFailing({
    lastFailedAt: ms(archiving?.lastFailedTime),
    lastArchivedAt: ms(archiving?.lastArchivedTime),
  });
  return failing ? archiving!.lastFailedTime : undefined;
}
