/**
 * The local Kubernetes of `npm run cluster:up`, as the end-to-end tests see it: a kubeconfig,
 * the pinned kubectl, and throw-away namespaces for each test file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { kubectl, kubectlOk } from './kubectl.js';
import { kubeBinaries } from './paths.js';

/** Where cluster:up keeps its state (see e2e/cluster/lib/common.sh). */
export const CLUSTER_DIR = process.env.PGOP_CLUSTER_DIR ?? '/var/lib/pgop-cluster';

/**
 * The local cluster's nodes (e2e/cluster/lib/common.sh). Node 1 runs everything; node 2 is tainted, so
 * only pods that tolerate it run there: the lost-node drill's cluster.
 */
export const MAIN_NODE = 'pgop-node-1';
export const DRILL_NODE = 'pgop-node-2';
export const DRILL_NODE_TOLERATION = {
  key: 'e2e.pgop.example.com/node-loss-drill',
  operator: 'Exists',
  effect: 'NoSchedule',
};

export interface LocalCluster {
  binDir: string;
  kubeconfigPath: string;
}

export function localCluster(): LocalCluster {
  const kubeconfigPath = join(CLUSTER_DIR, 'kubeconfig');
  if (!existsSync(kubeconfigPath)) {
    throw new Error(`no local cluster (${kubeconfigPath} is missing): run npm run cluster:up`);
  }
  return { binDir: kubeBinaries('kubectl'), kubeconfigPath };
}

/** The Pod Security Standard every test namespace enforces unless a test asks otherwise. */
export const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };

/** Container security settings that satisfy the `restricted` Pod Security Standard. */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

export class TestNamespace {
  readonly name: string;

  constructor(
    readonly cluster: LocalCluster,
    prefix: string,
    labels: Record<string, string> = RESTRICTED,
  ) {
    this.name = `${prefix}-${randomBytes(3).toString('hex')}`;
    this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.name, labels } });
  }

  /** kubectl in this namespace; throws with stderr on failure. */
  k(...args: string[]): string {
    return kubectlOk(this.cluster, ['-n', this.name, ...args]);
  }

  /** kubectl in this namespace, returning the exit code and output. */
  try(...args: string[]) {
    return kubectl(this.cluster, ['-n', this.name, ...args]);
  }

  /** Server-side apply of the objects; throws with kubectl's error on failure. */
  apply(...objects: object[]): void {
    const res = this.tryApply(...objects);
    if (res.code !== 0) throw new Error(`kubectl apply failed (${res.code}):\n${res.stderr}`);
  }

  tryApply(...objects: object[]) {
    const docs = objects.map((o) => stringify(o)).join('---\n');
    return kubectl(this.cluster, ['-n', this.name, 'apply', '--server-side', '-f', '-'], docs);
  }

  /** Waits until a pod has run to completion and returns its log; fails with the log if it failed. */
  async podOutput(pod: string, timeoutSeconds = 120): Promise<string> {
    const phase = await this.waitForPhase(pod, ['Succeeded', 'Failed'], timeoutSeconds);
    const log = this.k('logs', pod);
    if (phase !== 'Succeeded') throw new Error(`pod ${pod} failed:\n${log}`);
    return log;
  }

  async waitForPhase(pod: string, phases: string[], timeoutSeconds: number): Promise<string> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const phase = this.try('get', 'pod', pod, '-o', 'jsonpath={.status.phase}').stdout;
      if (phases.includes(phase)) return phase;
      if (Date.now() > deadline) {
        throw new Error(
          `pod ${pod} is ${phase || 'missing'} after ${timeoutSeconds}s:\n${this.describe(pod)}`,
        );
      }
      await sleep(500);
    }
  }

  describe(pod: string): string {
    return this.try('describe', 'pod', pod).stdout;
  }

  delete(): void {
    kubectl(this.cluster, ['delete', 'namespace', this.name, '--wait=false']);
  }
}
