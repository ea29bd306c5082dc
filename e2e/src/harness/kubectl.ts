/** Runs the pinned kubectl against a kubeconfig, as a user would. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(
  env: { binDir: string; kubeconfigPath: string },
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): KubectlResult {
  const res = spawnSync(join(env.binDir, 'kubectl'), ['--kubeconfig', env.kubeconfigPath, ...args], {
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (res.error) throw res.error;
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** kubectl that must succeed; returns stdout. */
export function kubectlOk(
  env: { binDir: string; kubeconfigPath: string },
  args: string[],
  input?: string,
  timeoutMs?: number,
): string {
  const res = kubectl(env, args, input, timeoutMs);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${res.code}):\n${res.stderr}`);
  return res.stdout;
}
