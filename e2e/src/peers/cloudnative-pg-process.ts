/**
 * CloudNativePG's operator as a process against a test API server (bench:scale), as its release
 * manifest runs it (`controller --max-concurrent-reconciles=10`, its 200 MiB memory limit, its
 * namespace), built here like the peers benchmark's (e2e/tools/cloudnative-pg). Two differences,
 * because this API server cannot reach a Service: no leader election is needed for one process,
 * and its admission webhooks are not registered (its webhook server still runs, on a self-signed
 * certificate); without them it writes a cluster's defaults itself, as it does when an install
 * has webhooks off.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { TestApiServer } from '../harness/envtest.js';
import { kubectlOk } from '../harness/kubectl.js';
import { goTool, REPO_ROOT } from '../harness/paths.js';
import { freePort } from '../harness/ports.js';
import { startProcess, waitUntil, type ManagedProcess } from '../harness/processes.js';
import { writeLoopbackCertificate } from '../harness/tls.js';

export const CNPG_NAMESPACE = 'cnpg-system';
/** The manager's memory limit in upstream's release manifest, in MiB (its CPU limit: 0.1 core). */
export const CNPG_MEMORY_LIMIT_MIB = 200;

export interface CloudNativePgProcess {
  process: ManagedProcess;
  metricsUrl: string;
  stop(): Promise<void>;
}

/** Upstream's CRDs (from the release manifest of the pinned module) into the API server. */
export function applyCloudNativePgCrds(server: TestApiServer): void {
  const manifest = execFileSync(
    'bash',
    [join(REPO_ROOT, 'e2e/tools/cloudnative-pg/install.sh'), 'manifest'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  const crds = parseAllDocuments(manifest)
    .map((d) => d.toJSON() as { kind?: string })
    .filter((d) => d?.kind === 'CustomResourceDefinition');
  kubectlOk(server, ['apply', '--server-side', '-f', '-'], crds.map((d) => stringify(d)).join('---\n'));
  kubectlOk(server, ['create', 'namespace', CNPG_NAMESPACE]);
}

/** Starts the operator; `launcher` runs it in a memory cgroup (bench/memory-cgroup.ts). */
export async function startCloudNativePg(
  server: TestApiServer,
  launcher: string[] = [],
): Promise<CloudNativePgProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'pgop-cnpg-'));
  // It hashes the instance manager it injects into pods from ./operator/manager_<arch>.
  mkdirSync(join(dir, 'operator'));
  const binary = goTool('cloudnative-pg');
  symlinkSync(binary, join(dir, 'operator', 'manager_amd64'));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  await writeLoopbackCertificate(certs, 'apiserver.crt', 'apiserver.key');
  const [metricsPort, webhookPort] = [await freePort(), await freePort()];
  const argv = [
    ...launcher,
    binary,
    'controller',
    '--max-concurrent-reconciles=10',
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--webhook-port=${webhookPort}`,
  ];
  const process = startProcess(
    'cloudnative-pg',
    argv[0]!,
    argv.slice(1),
    join(dir, 'operator.log'),
    {
      KUBECONFIG: server.kubeconfigPath,
      OPERATOR_NAMESPACE: CNPG_NAMESPACE,
      OPERATOR_IMAGE_NAME: 'localhost/pgop-peers/cloudnative-pg:1.30.0',
      WEBHOOK_CERT_DIR: certs,
    },
    dir,
  );
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  await waitUntil('its metrics answer', async () => (await fetch(metricsUrl)).ok, process, 120_000);
  return {
    process,
    metricsUrl,
    stop: async () => {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
