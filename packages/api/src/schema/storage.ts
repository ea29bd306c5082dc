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

export const AutoGrowSchema = Type.Object(
  {
    limit: quantityString({
      description:
        'The size no volume is grown beyond, e.g. 100Gi. At the limit, condition VolumesHaveSpace turns False with reason AtLimit.',
      positive: true,
    }),
    thresholdPercent: Type.Optional(
      Type.Integer({
        description: 'Grow a volume once this share of it is used. Default 80.',
        minimum: 1,
        maximum: 95,
        default: 80,
      }),
    ),
    stepPercent: Type.Optional(
      Type.Integer({
        description: 'How much to add each time, as a share of the current size (at least 1Gi). Default 25.',
        minimum: 5,
        maximum: 100,
        default: 25,
      }),
    ),
    minIntervalMinutes: Type.Optional(
      Type.Integer({
        description:
          'Least time between two growths of one volume: some clouds allow only a few changes of a volume a day (one per 6 hours on AWS EBS). Default 360.',
        minimum: 1,
        maximum: 10080,
        default: 360,
      }),
    ),
    growWithWalBacklog: Type.Optional(
      Type.Boolean({
        description:
          'Grow also when the space goes to WAL held back by failing archiving or an inactive replication slot. Default false: pgop reports the cause (condition VolumesHaveSpace, an event, a metric) instead of growing the volume to feed it.',
        default: false,
      }),
    ),
  },
  {
    description:
      'Grow the instances\' volumes of this kind before they are full (docs/storage.md, "Auto-grow"). Needs a StorageClass that allows expansion.',
  },
);

/** A volume of every instance: its size (grows, never shrinks) and StorageClass (immutable). */
function instanceVolumeSchema(what: string, size: string) {
  return Type.Object(
    {
      size: quantityString({ description: size, positive: true }),
      autoGrow: Type.Optional(AutoGrowSchema),
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
        cel(
          '!has(self.autoGrow) || !isQuantity(self.autoGrow.limit) || !isQuantity(self.size) || quantity(self.autoGrow.limit).compareTo(quantity(self.size)) >= 0',
          'autoGrow.limit must be at least size',
          { fieldPath: '.autoGrow.limit' },
        ),
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
/** Condition of status, with autoGrow: no volume is over its threshold without pgop growing it. */
export const VOLUMES_HAVE_SPACE_CONDITION = 'VolumesHaveSpace';

export const VolumeStatusSchema = Type.Object(
  {
    name: Type.String({ description: 'The PersistentVolumeClaim.', maxLength: 253 }),
    requested: Type.String({ description: 'The size the claim asks for.', maxLength: 64 }),
    capacity: Type.Optional(
      Type.String({ description: 'The size the volume has, as its claim reports it.', maxLength: 64 }),
    ),
    usedPercent: Type.Optional(
      Type.Integer({
        description: 'How full its file system is, as the instance last measured it (with autoGrow).',
        minimum: 0,
        maximum: 100,
      }),
    ),
  },
  { description: 'A volume of the cluster and its size.' },
);

export const VolumesStatusSchema = Type.Array(VolumeStatusSchema, {
  description: `The instances' data volumes and a PVC repository's, with their sizes (condition ${VOLUMES_RESIZED_CONDITION}).`,
  maxItems: 64,
});
