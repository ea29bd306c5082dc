/**
 * Online expansion of the volumes pgop sizes: each instance's data volume (spec.storage.size)
 * and WAL volume (spec.walStorage.size), and a PVC repository's (spec.backup.pvc.size). Pure. A
 * claim asking for less than the spec is raised, when its StorageClass allows expansion; the CSI
 * driver and the kubelet then grow the volume and its file system while PostgreSQL runs. The
 * StatefulSet's claim templates cannot change, so the claim of a new instance is made by pgop,
 * at the new size, before the StatefulSet makes its pod (it uses a claim of the name it would
 * give). docs/storage.md.
 */
import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { VOLUMES_RESIZED_CONDITION, type PostgresClusterStatus } from '@pgop/api';
import type { ConditionUpdate } from '@pgop/runtime';

export type VolumeStatus = NonNullable<PostgresClusterStatus['volumes']>[number];

export interface SizedClaim {
  claim: V1PersistentVolumeClaim;
  /** The size the spec asks for. */
  wanted: string;
  /** The StatefulSet's claim template it was made from; absent for the repository's. */
  template?: string;
}

/** A claim template of the StatefulSet: the size it asks for, and the one the spec asks for. */
export interface ClaimTemplate {
  name: string;
  size: string;
  wanted: string;
}

export interface ExpansionInputs {
  claims: SizedClaim[];
  /** The StorageClass a claim names, when it exists. */
  storageClass: (name: string | undefined) => V1StorageClass | undefined;
  /** The StatefulSet's claim templates, once it exists. */
  templates: ClaimTemplate[];
  /** The StatefulSet's name and the instances it is to have (spec.replicas). */
  statefulSet: string;
  replicas: number;
}

export interface ExpansionDecision {
  /** Claims to raise to `size`. */
  raise: { claim: string; from: string; size: string }[];
  /** Claims of instances to come, made at the spec's size where the template asks for less. */
  create: { claim: string; template: string; size: string }[];
  volumes: VolumeStatus[];
  condition?: ConditionUpdate;
}

/** Bytes of a storage quantity ("10Gi", "1.5G", "500M"), or undefined when it is not one. */
export function storageBytes(quantity: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?|\.\d+)([KMGTPE]i?|k)?$/.exec(quantity ?? '');
  if (!match) return undefined;
  const [, number, suffix] = match;
  if (!suffix) return Number(number);
  const power = 'KMGTPE'.indexOf(suffix[0]!.toUpperCase()) + 1;
  return Number(number) * (suffix.endsWith('i') ? 1024 : 1000) ** power;
}

const smaller = (a: string | undefined, b: string | undefined) =>
  (storageBytes(a) ?? 0) < (storageBytes(b) ?? 0);

/** A resize the PVC reports as failed or waiting on the node, with its message. */
function resizeTrouble(claim: V1PersistentVolumeClaim): { failed: boolean; message: string } | undefined {
  const conditions = claim.status?.conditions ?? [];
  const error = conditions.find((c) => /ResizeError$/.test(c.type) && c.status === 'True');
  if (error) return { failed: true, message: error.message ?? error.type };
  const infeasible = Object.values(claim.status?.allocatedResourceStatuses ?? {}).find((s) =>
    /Infeasible$/.test(s),
  );
  if (infeasible) return { failed: true, message: `the driver refused the new size (${infeasible})` };
  if (conditions.some((c) => c.type === 'FileSystemResizePending' && c.status === 'True'))
    return {
      failed: false,
      message:
        'the file system grows once the kubelet expands it on the node (a driver without online expansion waits for the pod to restart)',
    };
  return undefined;
}

export function decideExpansion(inputs: ExpansionInputs): ExpansionDecision {
  const raise: ExpansionDecision['raise'] = [];
  const cannot: string[] = [];
  const failed: string[] = [];
  const growing: string[] = [];
  const volumes: VolumeStatus[] = [];
  for (const { claim, wanted } of inputs.claims) {
    const name = claim.metadata!.name!;
    const requested = claim.spec?.resources?.requests?.storage ?? wanted;
    const capacity = claim.status?.capacity?.storage;
    volumes.push({ name, requested, ...(capacity ? { capacity } : {}) });
    if (smaller(requested, wanted)) {
      // Only a bound claim can be resized; an unbound one is sized when it binds (next look).
      if (claim.status?.phase !== 'Bound') continue;
      const className = claim.spec?.storageClassName;
      if (inputs.storageClass(className)?.allowVolumeExpansion !== true)
        cannot.push(`${name} (StorageClass ${className ?? '(none)'})`);
      else raise.push({ claim: name, from: requested, size: wanted });
    } else if (capacity && smaller(capacity, requested)) {
      const trouble = resizeTrouble(claim);
      if (trouble?.failed) failed.push(`${name}: ${trouble.message}`);
      else growing.push(`${name} ${capacity} → ${requested}${trouble ? ` (${trouble.message})` : ''}`);
    }
  }
  for (const r of raise) growing.push(`${r.claim} ${r.from} → ${r.size}`);
  const existing = new Set(inputs.claims.map((c) => c.claim.metadata?.name));
  const create = inputs.templates
    .filter((t) => smaller(t.size, t.wanted))
    .flatMap((t) =>
      Array.from({ length: inputs.replicas }, (_, i) => `${t.name}-${inputs.statefulSet}-${i}`)
        .filter((claim) => !existing.has(claim))
        .map((claim) => ({ claim, template: t.name, size: t.wanted })),
    );
  return { raise, create, volumes, condition: condition(volumes, cannot, failed, growing) };
}

function condition(
  volumes: VolumeStatus[],
  cannot: string[],
  failed: string[],
  growing: string[],
): ConditionUpdate | undefined {
  if (volumes.length === 0) return undefined;
  const type = VOLUMES_RESIZED_CONDITION;
  if (cannot.length > 0)
    return {
      type,
      status: 'False',
      reason: 'StorageClassCannotExpand',
      message: `the StorageClass does not allow volume expansion (allowVolumeExpansion is not true), so these stay at their size: ${cannot.join(', ')}. Set allowVolumeExpansion: true on it if its driver can expand volumes`,
    };
  if (failed.length > 0)
    return { type, status: 'False', reason: 'ExpansionFailed', message: failed.join('; ') };
  if (growing.length > 0)
    return { type, status: 'False', reason: 'Expanding', message: `expanding: ${growing.join(', ')}` };
  return {
    type,
    status: 'True',
    reason: 'AsRequested',
    message: 'every volume is at the size the spec asks for',
  };
}
