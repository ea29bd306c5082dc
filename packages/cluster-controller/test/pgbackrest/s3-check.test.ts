/** What a failed S3 check reports: a classified reason, never the text the endpoint sent. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyS3Error } from '../../src/pgbackrest/s3-check.js';

describe('classifyS3Error', () => {
  const classify = (error: Parameters<typeof classifyS3Error>[0]) => classifyS3Error(error, 'pg-backups');

  it('names a missing bucket', () => {
    assert.deepEqual(classify({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), {
      reason: 'S3BucketNotFound',
      message: 'bucket pg-backups does not exist',
    });
  });

  it('names refused credentials with the HTTP status', () => {
    assert.deepEqual(classify({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }), {
      reason: 'S3AccessDenied',
      message: 'the S3 service refused the credentials for bucket pg-backups (HTTP 403)',
    });
  });

  const unreachable: [Parameters<typeof classifyS3Error>[0], string][] = [
    [{ name: 'Error', code: 'ECONNREFUSED' }, 'the connection was refused'],
    [{ name: 'Error', code: 'ENOTFOUND' }, 'the host name does not resolve'],
    [{ name: 'TimeoutError' }, 'no answer in time'],
    [
      { name: 'Error', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      'its TLS certificate is not signed by a trusted CA',
    ],
    [
      { name: 'Error', code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
      "its TLS certificate does not name the endpoint's host",
    ],
    [{ name: 'Unknown', $metadata: { httpStatusCode: 502 } }, 'it answered HTTP 502'],
    [{ name: 'Error' }, 'the request failed'],
  ];
  for (const [error, cause] of unreachable) {
    it(`says "${cause}" for ${error.code ?? error.name}`, () => {
      const result = classify(error);
      assert.equal(result.reason, 'S3Unreachable');
      assert.ok(result.message.startsWith(`cannot reach the S3 service: ${cause}`), result.message);
    });
  }

  it('never repeats what the endpoint or the socket said', () => {
    const error = Object.assign(new Error('<html>internal admin page: secret=hunter2</html>'), {
      name: 'UnknownError',
      $metadata: { httpStatusCode: 500 },
    });
    const { message } = classify(error);
    assert.doesNotMatch(message, /hunter2|admin|html/);
  });
});
