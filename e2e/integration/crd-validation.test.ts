/**
 * The CRDs on a real kube-apiserver: every invalid object is rejected with the expected field
 * and message, and every valid example is accepted.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, KINDS, VALIDATORS, VERSION } from '@pgop/api';
import { INVALID_CASES, VALID_EXAMPLES } from '@pgop/api/testing';
import { parse } from 'yaml';
import { REPO_ROOT, kubectl, kubectlOk, startApiServer, type TestApiServer } from '../src/harness/index.js';

interface StatusCause {
  field?: string;
  message?: string;
}

/** The causes of a rejected request, from the Status the API server returns. */
function causesOf(err: unknown): { code: number; causes: StatusCause[]; message: string } {
  if (!(err instanceof ApiException)) throw err;
  const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as {
    message: string;
    details?: { causes?: StatusCause[] };
  };
  return { code: err.code, causes: body.details?.causes ?? [], message: body.message };
}

describe('CRD validation on a real API server', () => {
  let server: TestApiServer;
  let objects: CustomObjectsApi;
  const namespace = 'validation';

  before(async () => {
    server = await startApiServer();
    kubectlOk(server, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
    kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await server.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
    objects = server.kubeConfig.makeApiClient(CustomObjectsApi);
  });
  after(() => server?.stop());

  const pluralOf = (kind: string) => KINDS[kind as keyof typeof KINDS].plural;
  const create = (body: Record<string, unknown>) =>
    objects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: pluralOf(body.kind as string),
      body,
    });

  it('accepts every valid example', async () => {
    for (const example of VALID_EXAMPLES) {
      await assert.doesNotReject(create(example.object), example.name);
    }
  });

  it('accepts every file in examples/, on the server and in ajv', () => {
    const dir = join(REPO_ROOT, 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 5);
    for (const file of files) {
      const object = parse(readFileSync(join(dir, file), 'utf8')) as { kind: keyof typeof VALIDATORS };
      const local = VALIDATORS[object.kind](object);
      assert.ok(local.valid, `${file}: ${JSON.stringify(!local.valid && local.issues)}`);
      const res = kubectl(server, ['apply', '--dry-run=server', '-n', namespace, '-f', join(dir, file)]);
      assert.equal(res.code, 0, `${file}: ${res.stderr}`);
    }
  });

  it(`rejects ${INVALID_CASES.length} invalid objects, naming the field and what is allowed`, async () => {
    const failures: string[] = [];
    for (const [i, c] of INVALID_CASES.entries()) {
      const plural = pluralOf(c.kind);
      let attempt: Promise<unknown>;
      if (c.update) {
        // Update cases: the original is valid and created under a unique name; the change is refused.
        const name = `update-${i}`;
        const original = { ...c.object, metadata: { name } };
        await create(original);
        const current = (await objects.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural,
          name,
        })) as {
          metadata: Record<string, unknown>;
        };
        attempt = objects.replaceNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural,
          name,
          body: { ...c.update, metadata: { ...current.metadata } },
        });
      } else {
        attempt = create(c.object);
      }
      try {
        await attempt;
        failures.push(`${c.kind} "${c.name}": accepted`);
        continue;
      } catch (err) {
        const { code, causes, message } = causesOf(err);
        const match = causes.find((cause) => cause.field === c.field && cause.message?.includes(c.message));
        if (code !== 422 || !match) {
          failures.push(
            `${c.kind} "${c.name}": expected ${c.field}: …${c.message}…, got ${code}: ${message}`,
          );
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
