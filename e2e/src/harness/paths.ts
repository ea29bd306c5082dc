/** Paths of the repository and of the cached Kubernetes binaries (see e2e/scripts/versions.sh). */
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is e2e/dist/src/harness/paths.js once built). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SCRIPTS_DIR = join(REPO_ROOT, 'e2e/scripts');

/** A setting of e2e/scripts/versions.sh (the one place that pins versions and cache paths). */
function versionsSetting(name: string): string {
  return execFileSync(
    'bash',
    ['-c', `source "${join(SCRIPTS_DIR, 'versions.sh')}" && printf %s "$${name}"`],
    {
      encoding: 'utf8',
    },
  );
}

/** Runs one of the build scripts in e2e/scripts; each skips what the cache already has. */
function build(script: string, names: string[]): void {
  execFileSync('bash', [join(SCRIPTS_DIR, script), ...names], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * Builds (or finds in the cache) the pinned binaries and returns their directory. The build
 * script is a no-op when they are cached, so every harness can call this.
 */
export function kubeBinaries(...names: string[]): string {
  build('build-kube-binaries.sh', names);
  return versionsSetting('KUBE_BIN_DIR');
}

/**
 * A tool built from the Go module proxy by build-go-tools.sh (helm, minio, ...), building it
 * first if the cache lacks it; returns the binary's path.
 */
export function goTool(name: string): string {
  build('build-go-tools.sh', [name]);
  return join(versionsSetting('TOOLS_BIN_DIR'), name);
}

/** The prometheus-operator's CRD files (PodMonitor, PrometheusRule, ...) of the pinned version. */
export function prometheusOperatorCrds(...kinds: string[]): string[] {
  const dir = execFileSync('bash', [join(SCRIPTS_DIR, 'prometheus-operator-crds.sh')], {
    encoding: 'utf8',
  }).trim();
  return kinds.map((kind) => join(dir, `monitoring.coreos.com_${kind}.yaml`));
}
