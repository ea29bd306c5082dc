/**
 * Measures, for clusters with autoGrow, how full each instance's volumes are: `df` and the size
 * of pg_wal in every instance pod (Patroni's container runs even when PostgreSQL stopped on a
 * full disk), and the replication slots that hold WAL back, on the primary. In the background,
 * every USAGE_INTERVAL_MS at most: a reconcile reads the last facts and never waits; the
 * cluster is enqueued again when they change.
 */
import { DATABASE_CONTAINER } from '@pgop/api';
import type { ExecResult } from '@pgop/runtime';
import type { Logger } from 'winston';
import type { RunSql } from '../access/runner.js';
import { DATA_VOLUME_MOUNT, PGDATA, WAL_VOLUME_MOUNT } from '../instance-paths.js';
import type { ClusterObservation } from '../observe.js';
import { isPodReady } from '../patroni/member.js';
import { DATA_VOLUME, WAL_VOLUME } from '../render/statefulset.js';
import type { InstanceUsage } from './auto-grow.js';

/** How often the volumes of a cluster with autoGrow are measured. */
export const USAGE_INTERVAL_MS = 30_000;
const EXEC_TIMEOUT_MS = 20_000;

export type ExecInInstance = (
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  timeoutMs: number,
) => Promise<ExecResult>;

export interface UsageFacts {
  /** By pod name. */
  usage: Record<string, InstanceUsage>;
  /** Slots on the primary not in use that hold WAL back; undefined when it could not be asked. */
  inactiveSlots?: string[];
}

const MOUNTS: Record<string, string> = { [DATA_VOLUME]: DATA_VOLUME_MOUNT, [WAL_VOLUME]: WAL_VOLUME_MOUNT };

/** Prints "<template> <df -P line>" per mounted volume, then "wal <bytes in pg_wal>". */
const USAGE_SCRIPT = [
  ...Object.entries(MOUNTS).map(
    ([template, mount]) =>
      `if [ -d ${mount} ]; then echo "${template} $(df -P -B1 ${mount} | tail -n 1)"; fi`,
  ),
  `echo "wal $(du -sb ${PGDATA}/pg_wal/ 2>/dev/null | cut -f1)"`,
].join('; ');

const INACTIVE_SLOTS_QUERY =
  "select coalesce(string_agg(slot_name, ','), '') from pg_replication_slots where not active and restart_lsn is not null";

/** The output of USAGE_SCRIPT. */
export function parseUsage(stdout: string): InstanceUsage {
  const usage: InstanceUsage = { volumes: {} };
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'wal') {
      if (fields[1]) usage.walBytes = Number(fields[1]);
      continue;
    }
    // <template> <filesystem> <1-blocks> <used> <available> <capacity> <mounted on>
    const [template, , , used, available] = fields;
    if (!template || !MOUNTS[template] || used === undefined || available === undefined) continue;
    // Used against what is usable (df's Capacity): blocks reserved for root are not counted.
    usage.volumes[template] = { usedBytes: Number(used), sizeBytes: Number(used) + Number(available) };
  }
  return usage;
}

export class VolumeUsageMonitor {
  private readonly facts = new Map<string, UsageFacts & { at: number }>();
  private readonly running = new Set<string>();

  constructor(
    private readonly exec: ExecInInstance,
    private readonly runSql: RunSql,
    private readonly logger: Logger,
    private readonly enqueue: (key: string) => void,
  ) {}

  /** The last facts of a cluster with autoGrow; starts measuring again when due. */
  observe(o: ClusterObservation): UsageFacts | undefined {
    const { spec } = o.cluster;
    if (!spec.storage.autoGrow && !spec.walStorage?.autoGrow) {
      this.facts.delete(o.key);
      return undefined;
    }
    const known = this.facts.get(o.key);
    if (!this.running.has(o.key) && (!known || Date.now() - known.at >= USAGE_INTERVAL_MS)) {
      this.running.add(o.key);
      void this.measure(o)
        .then((facts) => {
          const changed = JSON.stringify(facts) !== JSON.stringify(this.facts.get(o.key) ?? {});
          this.facts.set(o.key, { ...facts, at: Date.now() });
          if (changed) this.enqueue(o.key);
        })
        .catch((err: unknown) =>
          this.logger.warn('measuring volume usage failed', {
            key: o.key,
            error: err instanceof Error ? err.message : String(err),
          }),
        )
        .finally(() => this.running.delete(o.key));
    }
    return known;
  }

  forget(key: string): void {
    this.facts.delete(key);
  }

  private async measure(o: ClusterObservation): Promise<UsageFacts> {
    // A pod whose container runs, ready or not: a full disk stops PostgreSQL, not Patroni.
    const pods = o.pods.filter((p) => p.status?.containerStatuses?.some((c) => c.ready || c.state?.running));
    const results = await Promise.all(
      pods.map((p) =>
        this.exec(
          o.namespace,
          p.metadata!.name!,
          DATABASE_CONTAINER,
          ['sh', '-c', USAGE_SCRIPT],
          EXEC_TIMEOUT_MS,
        )
          .then((r) => (r.exitCode === 0 ? parseUsage(r.stdout) : undefined))
          .catch(() => undefined),
      ),
    );
    const usage: Record<string, InstanceUsage> = {};
    pods.forEach((p, i) => {
      if (results[i]) usage[p.metadata!.name!] = results[i];
    });
    const primary = o.pods.find((p) => p.metadata?.name === o.primary);
    let inactiveSlots: string[] | undefined;
    if (primary && isPodReady(primary)) {
      const slots = await this.runSql(
        o.namespace,
        o.primary!,
        [INACTIVE_SLOTS_QUERY],
        'postgres',
        false,
      ).catch(() => undefined);
      if (slots?.exitCode === 0) inactiveSlots = slots.stdout.trim().split(',').filter(Boolean);
    }
    return { usage, ...(inactiveSlots ? { inactiveSlots } : {}) };
  }
}
