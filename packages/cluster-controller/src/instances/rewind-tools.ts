/**
 * Whether the cluster's image has the tools Patroni rewinds a former primary with: pg_rewind,
 * and pg_waldump, with which it first checks whether the timelines diverged at all. An image
 * without them (our PostgreSQL 14 and 16 test images, docs/clusters.md "Versions and images")
 * still runs a correct cluster: Patroni then clones the former primary again in full from the new
 * one after every switchover and failover (remove_data_directory_on_diverged_timelines), and the
 * cluster has one replica less until that copy ends. The condition RewindAvailable says so
 * instead of leaving it to Patroni's log.
 *
 * Found out once per image (by its ID, as the kubelet reports it) with an exec into a ready
 * instance, in the background: a reconcile never waits for it.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { execInPod, type ConditionUpdate, type Stored } from '@pgop/runtime';
import type { Logger } from 'winston';
import { clusterKey } from '../naming.js';
import { isPodReady } from '../patroni/member.js';

export const REWIND_AVAILABLE_CONDITION = 'RewindAvailable';
export const REWIND_TOOLS = ['pg_rewind', 'pg_waldump'] as const;
const EXEC_TIMEOUT_MS = 30_000;
/** After a failed look (an exec refused, a pod gone), when the next reconcile may look again. */
const RETRY_AFTER_MS = 60_000;

/** The condition for what the image lacks (undefined: not found out yet). */
export function rewindCondition(
  image: string,
  missing: readonly string[] | undefined,
): ConditionUpdate | undefined {
  if (!missing) return undefined;
  if (missing.length === 0)
    return {
      type: REWIND_AVAILABLE_CONDITION,
      status: 'True',
      reason: 'RewindToolsPresent',
      message: `image ${image} has ${REWIND_TOOLS.join(' and ')}: a former primary is rewound onto the new timeline`,
    };
  return {
    type: REWIND_AVAILABLE_CONDITION,
    status: 'False',
    reason: 'ImageLacksRewindTools',
    message:
      `image ${image} has no ${missing.join(' or ')}: after every switchover or failover Patroni clones ` +
      'the former primary again in full from the new primary instead of rewinding it, and the cluster ' +
      'has one replica less until that copy ends',
  };
}

/** The image ID the kubelet reports for a pod's postgres container. */
function imageIdOf(pod: V1Pod): string | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === 'postgres')?.imageID || undefined;
}

export class RewindToolsInspector {
  /** Missing tools by image ID. */
  private readonly missingByImage = new Map<string, string[]>();
  private readonly running = new Set<string>();
  /** When a look at an image last failed, by image ID. */
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly logger: Logger,
    private readonly enqueue: (key: string) => void,
  ) {}

  /** What the image of the cluster's instances lacks, once found out; starts finding out. */
  observe(cluster: Stored<PostgresCluster>, image: string, pods: V1Pod[]): ConditionUpdate | undefined {
    const pod = pods.find((p) => isPodReady(p) && p.spec?.containers?.[0]?.image === image && imageIdOf(p));
    if (!pod) return undefined;
    const imageId = imageIdOf(pod)!;
    const missing = this.missingByImage.get(imageId);
    const retryDue = (this.failedAt.get(imageId) ?? -Infinity) + RETRY_AFTER_MS <= Date.now();
    if (!missing && !this.running.has(imageId) && retryDue) {
      this.running.add(imageId);
      void this.inspect(cluster, pod, imageId).finally(() => this.running.delete(imageId));
    }
    return rewindCondition(image, missing);
  }

  private async inspect(cluster: Stored<PostgresCluster>, pod: V1Pod, imageId: string): Promise<void> {
    const binDir = `/usr/lib/postgresql/${cluster.spec.version}/bin`;
    try {
      const result = await execInPod(
        this.kubeConfig,
        { namespace: cluster.metadata.namespace, pod: pod.metadata!.name!, container: 'postgres' },
        [
          'sh',
          '-c',
          `for tool in ${REWIND_TOOLS.join(' ')}; do [ -x "${binDir}/$tool" ] || echo "$tool"; done`,
        ],
        { timeoutMs: EXEC_TIMEOUT_MS },
      );
      if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${result.stderr.trim()}`);
      this.missingByImage.set(imageId, result.stdout.split(/\s+/).filter(Boolean));
      this.failedAt.delete(imageId);
      this.enqueue(clusterKey(cluster));
    } catch (err) {
      // Tried again by a reconcile that looks after RETRY_AFTER_MS: not a warning every reconcile.
      this.failedAt.set(imageId, Date.now());
      this.logger.warn('could not look for pg_rewind in the image', {
        cluster: clusterKey(cluster),
        pod: pod.metadata?.name,
        error: (err as Error).message,
      });
    }
  }
}
