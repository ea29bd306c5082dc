/**
 * Where a cluster's pgBackRest repository lives: S3-compatible object storage or a PVC.
 * Used by PostgresCluster.spec.backup and PostgresRestore.spec.source.repository.
 */
import { Type, type Static } from '@sinclair/typebox';
import { cel, objectName, quantityString, stringEnum } from './k8s.js';
import { noShrinking } from './storage.js';

/** A key in a Secret of the same namespace. */
function secretKey(description: string, defaultKey: string) {
  return Type.Optional(
    Type.String({
      description: `${description} Default: "${defaultKey}".`,
      default: defaultKey,
      minLength: 1,
      maxLength: 253,
      pattern: '^[-._a-zA-Z0-9]+$',
    }),
  );
}

export const S3RepositorySchema = Type.Object(
  {
    bucket: Type.String({
      description: 'Name of the bucket. It must exist; pgop does not create buckets.',
      minLength: 3,
      maxLength: 63,
      'x-kubernetes-validations': [
        cel(
          "self.matches('^[a-z0-9][a-z0-9.-]*[a-z0-9]$')",
          'must be an S3 bucket name: 3 to 63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit',
        ),
      ],
    }),
    endpoint: Type.Optional(
      Type.String({
        description:
          'https URL of the S3-compatible service, e.g. https://minio.storage.svc:9000 (pgBackRest speaks S3 over TLS only). Default: the AWS endpoint of the region.',
        maxLength: 2048,
        'x-kubernetes-validations': [
          cel(
            "isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != '' && url(self).getEscapedPath() in ['', '/']",
            'must be an https:// URL with a host and no path, e.g. https://s3.eu-west-1.amazonaws.com (pgBackRest speaks S3 over TLS only; set the directory in path)',
          ),
        ],
      }),
    ),
    region: Type.Optional(
      Type.String({
        description: 'Region of the bucket. Default: "us-east-1" (what most S3-compatible servers expect).',
        default: 'us-east-1',
        minLength: 1,
        maxLength: 64,
        pattern: '^[a-z0-9-]+$',
      }),
    ),
    uriStyle: Type.Optional(
      stringEnum(['Host', 'Path'] as const, {
        description:
          'How the bucket is addressed: Host (virtual-hosted, bucket.endpoint; AWS) or Path (endpoint/bucket; MinIO and most self-hosted servers).',
        default: 'Host',
      }),
    ),
    path: Type.Optional(
      Type.String({
        description:
          'Directory inside the bucket that holds the repository. Default: /pgbackrest/<namespace>/<cluster>.',
        maxLength: 1024,
        pattern: '^/[^\\s]*$',
      }),
    ),
    credentialsSecret: Type.Object(
      {
        name: objectName('Name of the Secret with the access key.'),
        accessKeyIdKey: secretKey('Key of the access key ID in the Secret.', 'AWS_ACCESS_KEY_ID'),
        secretAccessKeyKey: secretKey('Key of the secret access key in the Secret.', 'AWS_SECRET_ACCESS_KEY'),
      },
      {
        description:
          'Secret in the same namespace holding the S3 access key. Its values never leave the Secret.',
      },
    ),
    tls: Type.Optional(
      Type.Object(
        {
          verify: Type.Optional(
            Type.Boolean({
              description: 'Verify the server certificate. Default: true. Turn off only for test servers.',
              default: true,
            }),
          ),
          caSecret: Type.Optional(
            Type.Object(
              {
                name: objectName('Name of the Secret holding the CA certificate.'),
                key: secretKey('Key of the PEM-encoded CA certificate in the Secret.', 'ca.crt'),
              },
              { description: 'CA that signed the server certificate, when it is not a public CA.' },
            ),
          ),
        },
        {
          description: 'TLS settings for an https endpoint.',
          'x-kubernetes-validations': [
            cel(
              '!has(self.caSecret) || !has(self.verify) || self.verify',
              'caSecret is only used when verify is true; remove caSecret or set verify: true',
              { fieldPath: '.caSecret', reason: 'FieldValueForbidden' },
            ),
          ],
        },
      ),
    ),
  },
  { description: 'An S3-compatible object store.' },
);

export const PvcRepositorySchema = Type.Object(
  {
    size: quantityString({
      description:
        'Size of the repository volume, e.g. 50Gi. It can grow but not shrink, as the data volumes (spec.storage.size).',
      positive: true,
    }),
    storageClass: Type.Optional(
      Type.String({
        description: 'StorageClass of the repository volume. Default: the cluster default. Immutable.',
        minLength: 1,
        maxLength: 253,
      }),
    ),
  },
  {
    description:
      'A PersistentVolumeClaim <cluster>-repository served to every instance by a repository host (pgBackRest TLS server), so it survives failovers. It is kept when the cluster is deleted. Backups into it need pgBackRest 2.55 or later in the image.',
    'x-kubernetes-validations': [
      cel(
        'has(self.storageClass) == has(oldSelf.storageClass) && (!has(self.storageClass) || self.storageClass == oldSelf.storageClass)',
        'storageClass is immutable: a volume cannot move to another StorageClass',
        { fieldPath: '.storageClass' },
      ),
      noShrinking(),
    ],
  },
);

export const RepositorySchema = Type.Object(
  {
    s3: Type.Optional(S3RepositorySchema),
    pvc: Type.Optional(PvcRepositorySchema),
  },
  {
    description:
      'The pgBackRest repository of the cluster: exactly one of s3 or pvc. WAL is archived to it continuously; PostgresBackup objects take backups into it.',
    'x-kubernetes-validations': [
      cel('has(self.s3) != has(self.pvc)', 'exactly one repository must be set: s3 or pvc'),
    ],
  },
);

export type Repository = Static<typeof RepositorySchema>;
export type S3Repository = Static<typeof S3RepositorySchema>;
export type PvcRepository = Static<typeof PvcRepositorySchema>;
