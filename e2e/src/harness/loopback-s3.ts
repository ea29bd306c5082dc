/**
 * A MinIO process on loopback with a self-signed certificate and one bucket: the S3 repository
 * of a harness without a Kubernetes network (bench:scale on the integration API server).
 * Clusters reach it with tls.verify false and uriStyle Path.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goTool } from './paths.js';
import { freePort } from './ports.js';
import { startProcess, waitUntil } from './processes.js';
import { writeLoopbackCertificate } from './tls.js';

export interface LoopbackS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export async function startLoopbackS3(bucket = 'pgop-bench'): Promise<LoopbackS3> {
  const dir = mkdtempSync(join(tmpdir(), 'pgop-s3-'));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  await writeLoopbackCertificate(certs, 'public.crt', 'private.key');
  const [port, consolePort] = [await freePort(), await freePort()];
  const accessKeyId = `bench${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');
  const server = startProcess(
    'minio',
    goTool('minio'),
    [
      'server',
      '--quiet',
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--certs-dir',
      certs,
      join(dir, 'data'),
    ],
    join(dir, 'minio.log'),
    { MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey },
  );
  const endpoint = `https://localhost:${port}`;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestHandler: { httpsAgent: new Agent({ rejectUnauthorized: false }) },
  });
  await waitUntil(
    'MinIO accepts a bucket',
    async () => (await s3.send(new CreateBucketCommand({ Bucket: bucket })), true),
    server,
    60_000,
  );
  s3.destroy();
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
