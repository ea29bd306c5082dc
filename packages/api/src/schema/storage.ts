/**
 * The instances' volumes (spec.storage) and what status says of every volume pgop sizes: the
 * data volumes and a PVC repository's (docs/storage.md).
 */
import { Type } from '@sinclair/typebox';
import { cel, quantityString } from './k8s.js';

/** On update: a volume's size can grow but not shrink (no StorageClass shrinks a volume). */
export function noShrinking() {
  return cel(
    '!isQuantity(self.size) || !isQuantity(oldSelf.size) || quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0',
    'size cannot be decreased: volumes can grow but not shrink',
    { fieldPath: '.size' },
  );
}

/** A volume of every instance: its size (grows, never shrinks) and StorageClass (immutable). */
function instanceVolumeSchema(what: string, size: string) {
  return Type.Object(
    {
      size: quantityString({ description: size, positive: true }),
      storageClass: Type.Optional(
        Type.String({
          description: `StorageClass of the ${what} volumes. Default: the cluster default. Immutable.`,
          minLength: 1,
          maxLength: 253,
        }),
      ),
    },
    {
      description: `The ${what} volume of every instance.`,
      'x-kubernetes-validations': [
        cel(
          'has(self.storageClass) == has(oldSelf.storageClass) && (!has(self.storageClass) || self.storageClass == oldSelf.storageClass)',
          `storageClass is immutable: the ${what} volumes of a running cluster cannot move to another StorageClass`,
          { fieldPath: '.storageClass' },
        ),
        noShrinking(),
      ],
    },
  );
}

export const StorageSchema = instanceVolumeSchema(
  'data',
  "Size of each instance's data volume, e.g. 10Gi. It can grow but not shrink: a larger size expands every instance's volume, online where the StorageClass allows expansion (condition VolumesResized).",
);

export const WalStorageSchema = instanceVolumeSchema(
  'WAL',
  "Size of each instance's WAL volume (pg_wal), e.g. 5Gi. It grows like spec.storage.size.",
);

/** Rules of the spec about spec.walStorage. */
export const WalStorageRules = [
  cel(
    '!has(self.walStorage) || (!has(self.restore) && !has(self.inPlaceRestore))',
    'walStorage cannot be combined with restore or inPlaceRestore yet: restoring onto a separate WAL volume is not built (docs/storage.md)',
    { fieldPath: '.walStorage' },
  ),
];

/** On the root: WAL moves to its own volume only when the cluster is created. */
export const WalStorageRootRule = cel(
  'has(self.spec.walStorage) == has(oldSelf.spec.walStorage)',
  'walStorage can only be set when the cluster is created, and cannot be removed: moving the WAL of a running cluster between volumes is not built (docs/storage.md)',
  { fieldPath: '.spec.walStorage' },
);

/** Condition of status: every volume pgop sizes is at the size the spec asks for. */
export const VOLUMES_RESIZED_CONDITION = 'VolumesResized';

export const VolumeStatusSchema = Type.Object(
  {
    name: Type.String({ description: 'The PersistentVolumeClaim.', maxLength: 253 }),
    requested: Type.String({ description: 'The size the claim asks for.', maxLength: 64 }),
    capacity: Type.Optional(
      Type.String({ description: 'The size the volume has, as its claim reports it.', maxLength: 64 }),
    ),
  },
  { description: 'A volume of the cluster and its size.' },
);

export const VolumesStatusSchema = Type.Array(VolumeStatusSchema, {
  description: `The instances' data volumes and a PVC repository's, with their sizes (condition ${VOLUMES_RESIZED_CONDITION}).`,
  maxItems: 64,
});
