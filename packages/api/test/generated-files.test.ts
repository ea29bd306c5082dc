import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../src/crd/generated-files.js';

// This file runs as packages/api/dist/test/generated-files.test.js.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

it('the committed crds/, charts/pgop/crds/ and docs/api.md match packages/api', () => {
  const stale = [...generatedFiles(repoRoot)]
    .filter(
      ([file, text]) =>
        !existsSync(join(repoRoot, file)) || readFileSync(join(repoRoot, file), 'utf8') !== text,
    )
    .map(([file]) => file);
  assert.deepEqual(
    stale,
    [],
    'generated files are out of date: run `npm run build && npm run crds` and commit them',
  );
});
