/**
 * Checks an S3 repository the way pgBackRest will use it, with the AWS SDK, so a wrong bucket,
 * refused credentials or an unreachable endpoint is named before archiving is switched on (and
 * again after any archiving failure), instead of surfacing as a pgBackRest retry loop minutes
 * later. The check writes and deletes one small object under the repository path.
 */
import {
  DeleteObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Repository } from '@pgop/api';
import { Agent } from 'node:https';

export const REPOSITORY_PROBLEMS = [
  'S3AccessDenied',
  'S3BucketNotFound',
  'S3Unreachable',
  'S3CredentialsMissing',
  // A PVC repository: its repository host has no ready pod.
  'RepositoryHostNotReady',
] as const;
export type RepositoryProblem = (typeof REPOSITORY_PROBLEMS)[number];

export type RepositoryCheck = { ok: true } | { ok: false; reason: RepositoryProblem; message: string };

export interface S3Access {
  accessKeyId: string;
  secretAccessKey: string;
  /** PEM of the CA that signed the endpoint's certificate, when spec.backup.s3.tls.caSecret is set. */
  ca?: string;
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'AllAccessDisabled',
]);

/** Why a connection failed, from Node's error codes; never the response or socket text. */
const UNREACHABLE_CAUSES: [codes: string[], cause: string][] = [
  [['ECONNREFUSED'], 'the connection was refused'],
  [['ENOTFOUND', 'EAI_AGAIN'], 'the host name does not resolve'],
  [['ETIMEDOUT', 'TimeoutError', 'RequestTimeout', 'ESOCKETTIMEDOUT'], 'no answer in time'],
  [['ECONNRESET', 'EPIPE'], 'the connection was reset'],
  [['EHOSTUNREACH', 'ENETUNREACH'], 'no route to the host'],
  [
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_UNTRUSTED',
    ],
    'its TLS certificate is not signed by a trusted CA (spec.backup.s3.tls.caSecret names one)',
  ],
  [['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'], 'its TLS certificate is outside its validity'],
  [['ERR_TLS_CERT_ALTNAME_INVALID'], "its TLS certificate does not name the endpoint's host"],
];

/**
 * Names the cause of a failed S3 call. Pure, so the table is unit-tested. Only classified
 * reasons reach status and events: the endpoint is the user's choice, so raw response or socket
 * text would make the controller a probe of whatever it can reach.
 */
export function classifyS3Error(
  error: { name?: string; code?: string; $metadata?: { httpStatusCode?: number } },
  bucket: string,
): { reason: RepositoryProblem; message: string } {
  const status = error.$metadata?.httpStatusCode;
  const name = error.name ?? 'Error';
  if (name === 'NoSuchBucket' || name === 'NotFound' || (status === 404 && name !== 'NoSuchKey'))
    return { reason: 'S3BucketNotFound', message: `bucket ${bucket} does not exist` };
  if (ACCESS_DENIED.has(name) || status === 403 || status === 401)
    return {
      reason: 'S3AccessDenied',
      message: `the S3 service refused the credentials for bucket ${bucket}${status ? ` (HTTP ${status})` : ''}`,
    };
  const cause =
    UNREACHABLE_CAUSES.find(([codes]) => codes.includes(error.code ?? '') || codes.includes(name))?.[1] ??
    (status ? `it answered HTTP ${status}` : 'the request failed');
  return { reason: 'S3Unreachable', message: `cannot reach the S3 service: ${cause}` };
}

export async function checkS3Repository(
  s3: S3Repository,
  repositoryPath: string,
  access: S3Access,
  timeoutMs = 10_000,
): Promise<RepositoryCheck> {
  const verify = s3.tls?.verify ?? true;
  const client = new S3Client({
    region: s3.region ?? 'us-east-1',
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    forcePathStyle: (s3.uriStyle ?? 'Host') === 'Path',
    credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey },
    maxAttempts: 1,
    // The SDK builds its Node.js HTTP handler from these options.
    requestHandler: {
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      httpsAgent: new Agent({
        rejectUnauthorized: verify,
        ...(verify && access.ca ? { ca: access.ca } : {}),
      }),
    },
  });
  const Bucket = s3.bucket;
  const Key = `${repositoryPath.replace(/^\/+/, '')}/.pgop-write-check`;
  try {
    await client.send(new HeadBucketCommand({ Bucket }));
    await client.send(new PutObjectCommand({ Bucket, Key, Body: 'pgop checks it can write here\n' }));
    await client.send(new DeleteObjectCommand({ Bucket, Key }));
    return { ok: true };
  } catch (err) {
    const error = err instanceof S3ServiceException || err instanceof Error ? err : new Error(String(err));
    return { ok: false, ...classifyS3Error(error, Bucket) };
  } finally {
    client.destroy();
  }
}
