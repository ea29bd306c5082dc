/** `npm run crds`: writes crds/*.yaml, the chart's copy and the field reference of docs/api.md. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../crd/generated-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../../..');
for (const [file, text] of generatedFiles(root)) {
  const path = join(root, file);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${file}`);
}
