/**
 * The built-in kinds the controllers watch, spelled once: apiVersion, kind and the cluster-wide
 * watch path an Informer needs (the custom kinds have their own table, resourceOf in @pgop/api).
 */
export const BUILT_IN_KINDS = {
  Pod: { apiVersion: 'v1', kind: 'Pod', path: '/api/v1/pods' },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', path: '/api/v1/configmaps' },
  Secret: { apiVersion: 'v1', kind: 'Secret', path: '/api/v1/secrets' },
  Service: { apiVersion: 'v1', kind: 'Service', path: '/api/v1/services' },
  Node: { apiVersion: 'v1', kind: 'Node', path: '/api/v1/nodes' },
  PersistentVolumeClaim: {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    path: '/api/v1/persistentvolumeclaims',
  },
  StorageClass: {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    path: '/apis/storage.k8s.io/v1/storageclasses',
  },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets' },
  Job: { apiVersion: 'batch/v1', kind: 'Job', path: '/apis/batch/v1/jobs' },
  CronJob: { apiVersion: 'batch/v1', kind: 'CronJob', path: '/apis/batch/v1/cronjobs' },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    path: '/apis/networking.k8s.io/v1/networkpolicies',
  },
} as const;

export type BuiltInKind = keyof typeof BUILT_IN_KINDS;

/** What an Informer of a built-in kind needs to know about it: `new Informer({ ...builtIn('Pod'), ... })`. */
export function builtIn(kind: BuiltInKind): { apiVersion: string; kind: string; path: string } {
  return BUILT_IN_KINDS[kind];
}
