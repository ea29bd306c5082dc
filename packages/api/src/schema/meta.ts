/**
 * The parts of metav1.ObjectMeta the API library needs. Defined here so the library has no
 * dependency on a Kubernetes client.
 */
import { API_VERSION } from '../group.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** The owner reference that makes a pgop object the controller of a child it creates. */
export function controllerReference(kind: string, owner: ObjectMeta): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind,
    name: owner.name!,
    uid: owner.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The top-level shape every custom object of pgop shares. */
export interface CustomObject<Spec, Status> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}
