/**
 * What the restore's two Jobs (the pre-flight check and the restore itself) have in common: a
 * ConfigMap with their script and the source repository's pgBackRest configuration (no
 * secrets), the source's Secret files projected beside it, and a pod from the cluster's image.
 *
 * The Jobs run apart from the instance pods so the source repository's configuration and
 * credentials never enter the StatefulSet: the pods do not change (or roll) for a restore, and
 * never depend on the source cluster's Secrets.
 */
import type { V1ConfigMap, V1EnvVar, V1Job } from '@kubernetes/client-node';
import { PGBACKREST_STANZA, RESTORE_REQUEST_ANNOTATION, type PostgresCluster } from '@pgop/api';
import { childMetadata, clusterLabels } from '../naming.js';
import { DATA_VOLUME_MOUNT, PGDATA } from '../instance-paths.js';
import { ini, repositoryOptions, repositorySecretSources } from '../pgbackrest/config.js';
import { type RepositoryOf } from '../pgbackrest/repository.js';
import { postgresImagePodSpec, RESTRICTED_CONTAINER_SECURITY_CONTEXT } from './security-context.js';
import { DATA_VOLUME, resourceRequirements } from './statefulset.js';

/** Where the Jobs mount their script, the source repository's configuration and its Secret files. */
export const RESTORE_SOURCE_DIR = '/etc/pgbackrest-source';
const CONFIG_KEY = 'pgbackrest.conf';

/** The first instance's volume, named as the StatefulSet's claim template names it. */
export function firstInstanceVolume(clusterName: string): string {
  return `${DATA_VOLUME}-${clusterName}-0`;
}

/** The Jobs' pgBackRest configuration: the source repository as repo1, the first volume as pg1. */
export function restoreSourceConf(source: RepositoryOf): string {
  return ini({
    global: {
      ...repositoryOptions(source, RESTORE_SOURCE_DIR),
      'log-level-file': 'off',
      // The restore is done when the Job ends; no archive-get spool to keep.
      'archive-async': 'n',
    },
    [PGBACKREST_STANZA]: { 'pg1-path': PGDATA },
  });
}

export interface RestoreJobParameters {
  name: string;
  /** The request the Job belongs to (RESTORE_REQUEST_ANNOTATION; restore/progress.ts, RestoreRequest.key). */
  requestKey: string;
  source: RepositoryOf;
  image: string;
  script: { key: string; text: string };
  /** The script's interpreter and arguments (the script's path is added after the first). */
  command: [string, ...string[]];
  env?: V1EnvVar[];
  /** Mount the first instance's volume at the data directory. */
  dataVolume: boolean;
}

/** The ConfigMap and the Job of one restore step. A failure is reported, not repeated (backoffLimit 0). */
export function renderRestoreStepJob(
  cluster: PostgresCluster,
  p: RestoreJobParameters,
): [V1ConfigMap, V1Job] {
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(cluster, p.name, 'restore'),
    data: { [p.script.key]: p.script.text, [CONFIG_KEY]: restoreSourceConf(p.source) },
  };
  const [interpreter, ...args] = p.command;
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...childMetadata(cluster, p.name, 'restore'),
      annotations: { [RESTORE_REQUEST_ANNOTATION]: p.requestKey },
    },
    spec: {
      // Its causes (a target outside the WAL, a repository refusing access) do not go away by
      // themselves; a retry is a new request.
      backoffLimit: 0,
      template: {
        metadata: { labels: clusterLabels(cluster, 'restore') },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...postgresImagePodSpec(cluster),
          containers: [
            {
              name: 'restore',
              image: p.image,
              command: [interpreter, `${RESTORE_SOURCE_DIR}/${p.script.key}`, ...args],
              env: [{ name: 'PGDATA', value: PGDATA }, ...(p.env ?? [])],
              resources: resourceRequirements(cluster.spec.resources),
              securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
              terminationMessagePolicy: 'File',
              volumeMounts: [
                ...(p.dataVolume ? [{ name: DATA_VOLUME, mountPath: DATA_VOLUME_MOUNT }] : []),
                { name: 'source', mountPath: RESTORE_SOURCE_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            ...(p.dataVolume
              ? [
                  {
                    name: DATA_VOLUME,
                    persistentVolumeClaim: { claimName: firstInstanceVolume(cluster.metadata.name!) },
                  },
                ]
              : []),
            {
              name: 'source',
              projected: {
                sources: [
                  {
                    configMap: {
                      name: p.name,
                      items: [
                        { key: p.script.key, path: p.script.key },
                        { key: CONFIG_KEY, path: CONFIG_KEY },
                      ],
                    },
                  },
                  ...repositorySecretSources(p.source),
                ],
              },
            },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
  return [configMap, job];
}
