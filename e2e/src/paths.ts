/** Paths of the repository and of the cached Kubernetes binaries (see e2e/scripts/versions.sh). */
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is e2e/dist/src/paths.js once built). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCRIPTS_DIR = join(REPO_ROOT, 'e2e/scripts');

let binDir: string | undefined;

/**
 * Builds (or finds in the cache) the pinned binaries and returns their directory. The build
 * script is a no-op when they are cached, so every harness can call this.
 */
export function kubeBinaries(...names: string[]): string {
  execFileSync('bash', [join(SCRIPTS_DIR, 'build-kube-binaries.sh'), ...names], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  binDir ??= execFileSync(
    'bash',
    ['-c', `source "${join(SCRIPTS_DIR, 'versions.sh')}" && printf %s "$KUBE_BIN_DIR"`],
    {
      encoding: 'utf8',
    },
  );
  return binDir;
}

/**
 * A tool built from the Go module proxy by build-go-tools.sh (helm, minio, ...), building it
 * first if the cache lacks it; returns the binary's path.
 */
export function goTool(name: string): string {
  execFileSync('bash', [join(SCRIPTS_DIR, 'build-go-tools.sh'), name], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const dir = execFileSync(
    'bash',
    ['-c', `source "${join(SCRIPTS_DIR, 'versions.sh')}" && printf %s "$TOOLS_BIN_DIR"`],
    {
      encoding: 'utf8',
    },
  );
  return join(dir, name);
}
