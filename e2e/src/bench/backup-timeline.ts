/**
 * Where the time of a backup through the operator goes: watches the PostgresBackup, its Job and
 * the Job's pod from the moment the backup is applied, and notes when each step is first seen
 * (watch events arrive within milliseconds; Kubernetes' own timestamps have whole seconds only).
 */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { GROUP, KINDS, VERSION } from '@pgop/api';

/** Seconds from the apply to each step, as seen by watches. */
export interface BackupTimeline {
  /** The backup controller created the Job and the Job controller its pod. */
  podCreated: number;
  /** The kubelet reports the Job's container running. */
  containerRunning: number;
  /** The kubelet reports the container terminated (the Job's work is done). */
  containerTerminated: number;
  /**
   * The Job controller marks the Job Complete: absent when the backup controller recorded the
   * pod's success and deleted the Job first.
   */
  jobComplete?: number;
  /** The backup controller writes Succeeded into the PostgresBackup's status. */
  statusSucceeded: number;
  /** The pgBackRest command inside, as the Job measured it (its termination message). */
  pgbackrestSeconds: number;
}

interface Seen {
  metadata?: { name?: string };
  status?: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { running?: object; terminated?: { message?: string } } }[];
    oneOff?: { phase?: string; message?: string };
  };
}

/**
 * Watches backup `name` in `namespace`, calls apply(), and resolves once its status says
 * Succeeded (rejects on Failed or after timeoutSeconds).
 */
export async function timeBackup(
  kubeconfigPath: string,
  namespace: string,
  name: string,
  apply: () => void,
  timeoutSeconds: number,
): Promise<BackupTimeline> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const watch = new Watch(kc);
  const seen: Partial<BackupTimeline> = {};
  let started = 0;
  const note = (step: keyof BackupTimeline) => {
    if (started && seen[step] === undefined) seen[step] = (Date.now() - started) / 1000;
  };
  const requests: { abort(): void }[] = [];
  let finished = false;
  try {
    return await new Promise<BackupTimeline>((resolve, reject) => {
      // A watch ends after 30 s without events (the client's inactivity limit) or when the
      // server closes it: watch again, and the new watch lists what exists now.
      const watchOf = async (
        path: string,
        query: Record<string, string>,
        onEvent: (o: Seen) => void,
      ): Promise<void> => {
        requests.push(
          await watch.watch(
            path,
            query,
            (_type, o: Seen) => onEvent(o),
            () => void (finished || setTimeout(() => void watchOf(path, query, onEvent).catch(reject), 100)),
          ),
        );
      };
      // The backup label the controller puts on its Jobs and their pods (backup-controller naming.ts).
      const byLabel = { labelSelector: `${GROUP}/backup=${name}` };
      Promise.all([
        watchOf(`/api/v1/namespaces/${namespace}/pods`, byLabel, (pod) => {
          note('podCreated');
          const state = pod.status?.containerStatuses?.[0]?.state;
          if (state?.running) note('containerRunning');
          if (state?.terminated) {
            note('containerRunning');
            note('containerTerminated');
            const message = JSON.parse(state.terminated.message || '{}') as { durationSeconds?: number };
            seen.pgbackrestSeconds ??= message.durationSeconds;
          }
        }),
        watchOf(`/apis/batch/v1/namespaces/${namespace}/jobs`, byLabel, (job) => {
          if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'))
            note('jobComplete');
        }),
        watchOf(
          `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${KINDS.PostgresBackup.plural}`,
          { fieldSelector: `metadata.name=${name}` },
          (backup) => {
            const phase = backup.status?.oneOff?.phase;
            if (phase === 'Failed') reject(new Error(`${name} failed: ${backup.status?.oneOff?.message}`));
            if (phase !== 'Succeeded') return;
            note('statusSucceeded');
            resolve(seen as BackupTimeline);
          },
        ),
      ]).then(() => {
        started = Date.now();
        apply();
        setTimeout(
          () => reject(new Error(`${name}: not Succeeded after ${timeoutSeconds}s`)),
          timeoutSeconds * 1000,
        ).unref();
      }, reject);
    });
  } finally {
    finished = true;
    for (const request of requests) request.abort();
  }
}
