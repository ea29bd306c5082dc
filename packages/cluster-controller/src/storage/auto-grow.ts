/**
 * spec.storage.autoGrow and spec.walStorage.autoGrow: grow the instances' volumes before they
 * are full. Pure. From each volume's measured use (usage-monitor.ts) it decides a new size for
 * every volume of that kind (a replica needs the room its primary has), within the limit and no
 * sooner than minIntervalMinutes after the last growth. Space taken by WAL that failing
 * archiving or an inactive replication slot holds back is reported, not fed: growing would only
 * postpone the same full disk (unless growWithWalBacklog). The new size is carried out by
 * expansion.ts like a raised spec. docs/storage.md, "Auto-grow".
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { VOLUMES_HAVE_SPACE_CONDITION, type PostgresCluster } from '@pgop/api';
import type { ConditionUpdate } from '@pgop/runtime';
import { GROWN_AT_ANNOTATION } from '../naming.js';
import { storageBytes } from './expansion.js';

const GI = 1024 ** 3;
/** spec.walStorage's claim template (render/statefulset.ts WAL_VOLUME). */
const WAL_TEMPLATE = 'pgwal';
/** WAL above this share of a volume's used space makes a backlog the cause of its growth. */
const WAL_BACKLOG_SHARE = 0.5;

export type AutoGrow = NonNullable<PostgresCluster['spec']['storage']['autoGrow']>;

/** One instance's file systems, as measured in its pod. */
export interface VolumeUsage {
  sizeBytes: number;
  usedBytes: number;
}
export interface InstanceUsage {
  /** By claim template (pgdata, pgwal). */
  volumes: Record<string, VolumeUsage>;
  /** Bytes in pg_wal. */
  walBytes?: number;
}

export interface WalBacklog {
  /** The last archive attempt failed (pg_stat_archiver): when. */
  archivingFailingSince?: string;
  /** Replication slots not in use that hold WAL back, on the primary. */
  inactiveSlots: string[];
}

export interface AutoGrowInputs {
  /** autoGrow by claim template: pgdata (spec.storage), pgwal (spec.walStorage). */
  autoGrow: Record<string, AutoGrow | undefined>;
  /** The template holding pg_wal: pgwal with spec.walStorage, else pgdata. */
  walTemplate: string;
  /** The claims of the instances, by template. */
  claims: Record<string, V1PersistentVolumeClaim[]>;
  /** By pod name (the claim <template>-<pod>). */
  usage: Record<string, InstanceUsage>;
  backlog: WalBacklog;
  now: Date;
}

export interface AutoGrowDecision {
  /** The new size of every volume of a template. */
  grow: { template: string; size: string; because: string }[];
  /** Percent used, by claim name. */
  usedPercent: Record<string, number>;
  condition?: ConditionUpdate;
}

/** The new size: the step (at least 1Gi) above the current, at most the limit, in whole Mi. */
export function nextSize(currentBytes: number, autoGrow: AutoGrow): number {
  const step = Math.max((currentBytes * (autoGrow.stepPercent ?? 25)) / 100, GI);
  const limit = storageBytes(autoGrow.limit) ?? currentBytes;
  return Math.min(Math.ceil((currentBytes + step) / 2 ** 20) * 2 ** 20, limit);
}

/** A size as the API server writes it back: whole Gi when it is, else Mi. */
const quantity = (bytes: number) =>
  bytes % GI === 0 ? `${bytes / GI}Gi` : `${Math.ceil(bytes / 2 ** 20)}Mi`;

export function decideAutoGrow(inputs: AutoGrowInputs): AutoGrowDecision {
  const grow: AutoGrowDecision['grow'] = [];
  const usedPercent: Record<string, number> = {};
  const backlogged: string[] = [];
  const atLimit: string[] = [];
  const delayed: string[] = [];
  const growing: string[] = [];
  let measured = false;
  let fullest: { claim: string; percent: number } | undefined;
  for (const [template, autoGrow] of Object.entries(inputs.autoGrow)) {
    if (!autoGrow) continue;
    const claims = inputs.claims[template] ?? [];
    const threshold = autoGrow.thresholdPercent ?? 80;
    let over: { claim: string; percent: number; walShare: number } | undefined;
    for (const claim of claims) {
      const name = claim.metadata!.name!;
      const instance = inputs.usage[name.slice(template.length + 1)];
      const volume = instance?.volumes[template];
      if (!volume || volume.sizeBytes <= 0) continue;
      measured = true;
      const percent = Math.round((100 * volume.usedBytes) / volume.sizeBytes);
      usedPercent[name] = percent;
      if (!fullest || percent > fullest.percent) fullest = { claim: name, percent };
      const walShare = walShareOf(template, inputs.walTemplate, instance.walBytes, volume.usedBytes);
      if (percent >= threshold && (!over || percent > over.percent))
        over = { claim: name, percent, walShare };
    }
    if (!over) continue;
    const full = `${over.claim} is ${over.percent}% full (threshold ${threshold}%)`;
    const cause = backlogCause(inputs.backlog, over.walShare);
    if (cause && !autoGrow.growWithWalBacklog) {
      backlogged.push(`${full}, ${Math.round(over.walShare * 100)}% of it WAL held back by ${cause}`);
      continue;
    }
    const requests = claims.map((c) => storageBytes(c.spec?.resources?.requests?.storage) ?? 0);
    const current = Math.max(...requests);
    // Grown already, and the driver or the kubelet has not finished: wait for it.
    const expanding = claims.some(
      (c, i) => (storageBytes(c.status?.capacity?.storage) ?? requests[i]!) < requests[i]!,
    );
    if (expanding) {
      growing.push(`${full}: expanding to ${quantity(current)}`);
      continue;
    }
    const limit = storageBytes(autoGrow.limit) ?? current;
    if (current >= limit) {
      atLimit.push(`${full} and at autoGrow.limit ${autoGrow.limit}`);
      continue;
    }
    const last = Math.max(
      ...claims.map((c) => Date.parse(c.metadata?.annotations?.[GROWN_AT_ANNOTATION] ?? '') || 0),
    );
    const allowedAt = last + (autoGrow.minIntervalMinutes ?? 360) * 60_000;
    if (allowedAt > inputs.now.getTime()) {
      delayed.push(
        `${full}; grown last at ${new Date(last).toISOString()}, again from ${new Date(allowedAt).toISOString()} (minIntervalMinutes)`,
      );
      continue;
    }
    grow.push({
      template,
      size: quantity(nextSize(current, autoGrow)),
      because: `${full}${cause ? `, growing despite WAL held back by ${cause} (growWithWalBacklog)` : ''}`,
    });
  }
  for (const g of grow) growing.push(`${g.because}: every ${g.template} volume grows to ${g.size}`);
  return {
    grow,
    usedPercent,
    condition: measured ? condition(growing, backlogged, atLimit, delayed, fullest) : undefined,
  };
}

/** How much of a volume's used space is WAL: all of a WAL volume (pg_wal and the archive spool). */
function walShareOf(template: string, walTemplate: string, walBytes = 0, usedBytes: number): number {
  if (template !== walTemplate) return 0;
  if (template === WAL_TEMPLATE) return 1;
  return Math.min(1, walBytes / Math.max(usedBytes, 1));
}

function backlogCause(backlog: WalBacklog, walShare: number): string | undefined {
  if (walShare < WAL_BACKLOG_SHARE) return undefined;
  if (backlog.archivingFailingSince)
    return `failing WAL archiving (failing since ${backlog.archivingFailingSince})`;
  if (backlog.inactiveSlots.length > 0)
    return `inactive replication slot${backlog.inactiveSlots.length > 1 ? 's' : ''} ${backlog.inactiveSlots.join(', ')}`;
  return undefined;
}

function condition(
  growing: string[],
  backlogged: string[],
  atLimit: string[],
  delayed: string[],
  fullest: { claim: string; percent: number } | undefined,
): ConditionUpdate {
  const type = VOLUMES_HAVE_SPACE_CONDITION;
  if (backlogged.length > 0)
    return {
      type,
      status: 'False',
      reason: 'WalBacklog',
      message: `${backlogged.join('; ')}: not grown. Fix archiving (status.backup.archiving) or drop the slot; autoGrow.growWithWalBacklog: true grows anyway`,
    };
  if (atLimit.length > 0) return { type, status: 'False', reason: 'AtLimit', message: atLimit.join('; ') };
  if (growing.length > 0) return { type, status: 'False', reason: 'Growing', message: growing.join('; ') };
  if (delayed.length > 0)
    return { type, status: 'False', reason: 'GrowthDelayed', message: delayed.join('; ') };
  return {
    type,
    status: 'True',
    reason: 'BelowThreshold',
    message: `every volume is below its threshold${fullest ? ` (fullest: ${fullest.claim}, ${fullest.percent}%)` : ''}`,
  };
}
