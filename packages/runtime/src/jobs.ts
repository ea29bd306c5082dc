/**
 * What a finished Job's pods say. A controller's Jobs report their outcome in the termination
 * message of their container (terminationMessagePolicy File), and a retried Job has several
 * pods: the last one made says how the Job ended.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';

/** The newest of the pods the Job made (label job-name), among pods. */
export function lastJobPod(job: V1Job | undefined, pods: readonly V1Pod[]): V1Pod | undefined {
  if (!job) return undefined;
  return pods
    .filter(
      (p) =>
        p.metadata?.namespace === job.metadata?.namespace &&
        p.metadata?.labels?.['job-name'] === job.metadata?.name,
    )
    .sort((a, b) =>
      String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)),
    )
    .at(-1);
}

/** What the pod's first container wrote to its termination message, trimmed; undefined if none. */
export function terminationMessage(pod: V1Pod | undefined): string | undefined {
  return pod?.status?.containerStatuses?.[0]?.state?.terminated?.message?.trim() || undefined;
}
