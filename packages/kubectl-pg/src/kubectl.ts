/**
 * The plugin talks to Kubernetes through kubectl, which runs it: the user's kubeconfig, context,
 * credentials plugins and namespace apply exactly as for kubectl itself, and `exec` and `logs`
 * stream to the terminal as kubectl's own do.
 */
import { spawnSync } from 'node:child_process';

export interface Target {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
}

/** A failure to report as it is (kubectl's own message), exit code 1. */
export class CommandError extends Error {}

export class Kubectl {
  constructor(private readonly target: Target) {}

  /** The global flags, for a kubectl run by hand (spawnSync). */
  baseArgs(): string[] {
    return this.args([]);
  }

  private args(args: string[], namespaced = true): string[] {
    const { namespace, context, kubeconfig } = this.target;
    return [
      ...(kubeconfig ? ['--kubeconfig', kubeconfig] : []),
      ...(context ? ['--context', context] : []),
      ...(namespaced && namespace ? ['--namespace', namespace] : []),
      ...args,
    ];
  }

  /** Output of a kubectl command; throws CommandError with kubectl's message when it fails. */
  run(args: string[], input?: string, namespaced = true): string {
    const res = spawnSync('kubectl', this.args(args, namespaced), {
      input,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    if (res.error) throw new CommandError(`cannot run kubectl: ${res.error.message}`);
    if (res.status !== 0) throw new CommandError(res.stderr.trim() || `kubectl ${args[0]} failed`);
    return res.stdout;
  }

  json<T>(args: string[], namespaced = true): T {
    return JSON.parse(this.run([...args, '-o', 'json'], undefined, namespaced)) as T;
  }

  /** Items of a list, or [] when the kind is not served (e.g. the CRDs are not installed). */
  list<T>(resource: string, options: { allNamespaces?: boolean; selector?: string } = {}): T[] {
    const args = ['get', resource];
    if (options.allNamespaces) args.push('--all-namespaces');
    if (options.selector) args.push('-l', options.selector);
    return this.json<{ items: T[] }>(args).items;
  }

  /** The namespace commands act in: --namespace, else the context's, else default. */
  namespace(): string {
    if (this.target.namespace) return this.target.namespace;
    const fromContext = this.run(
      ['config', 'view', '--minify', '-o', 'jsonpath={..namespace}'],
      undefined,
      false,
    ).trim();
    return fromContext || 'default';
  }

  /** kubectl with the terminal attached (exec -it, logs -f); returns its exit code. */
  interactive(args: string[]): number {
    const res = spawnSync('kubectl', this.args(args), { stdio: 'inherit' });
    return res.status ?? 1;
  }
}
