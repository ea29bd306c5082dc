/**
 * The faults of the HA drills, each done the way it happens in production, and the check that
 * a cluster is whole again. Used by the e2e drills (end-to-end/failover-drills.test.ts) and by
 * npm run bench:failover.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './eventually.js';
import { kubectlOk } from './kubectl.js';
import { CLUSTER_DIR, type LocalCluster, type TestNamespace } from './local-cluster.js';
import {
  analyzeDrill,
  CREATE_PROBE_TABLE,
  primaryQuery,
  probeRows,
  startProbe,
  type DrillFigures,
  type ProbeOptions,
  type ProbeRecord,
} from './failover-probe.js';
import { clusterStatus, instancePods } from './operator.js';
import { REPO_ROOT } from './paths.js';

const CONTAINERD_SOCKET = '/run/pgop-cluster/containerd/containerd.sock';
const PGDATA = '/var/lib/postgresql/data/pgdata';

export interface Drill {
  name: string;
  /** The target from DESIGN.md §5, for the report. */
  target: string;
  /** Does the primary role move to another pod? */
  movesPrimary: boolean;
  inject: (ns: TestNamespace, cluster: string, primary: string) => void;
}

/** The containerd ID of a pod's postgres container. */
export function containerId(ns: TestNamespace, pod: string): string {
  const id = ns.k('get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].containerID}');
  return id.replace(/^containerd:\/\//, '');
}

/** The host PID of a pod's container init (Patroni): for nsenter into its network namespace. */
export function containerPid(ns: TestNamespace, pod: string): number {
  const id = containerId(ns, pod);
  const tasks = execFileSync('ctr', ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'tasks', 'ls'], {
    encoding: 'utf8',
  });
  const line = tasks.split('\n').find((l) => l.startsWith(id));
  if (!line) throw new Error(`no containerd task for ${pod} (${id})`);
  return Number(line.split(/\s+/)[1]);
}

export const DRILLS: Record<string, Drill> = {
  switchover: {
    name: 'planned switchover (annotation)',
    target: '≤ 3 s',
    movesPrimary: true,
    inject: (ns, cluster) =>
      void ns.k(
        'annotate',
        'pgc',
        cluster,
        `postgres.example.com/switchover=${randomBytes(4).toString('hex')}`,
        '--overwrite',
      ),
  },
  'delete-primary-pod': {
    name: 'primary pod deleted',
    target: '≤ 10 s',
    movesPrimary: true,
    inject: (ns, _cluster, primary) => void ns.k('delete', 'pod', primary, '--wait=false'),
  },
  'kill-postmaster': {
    name: 'PostgreSQL postmaster killed (Patroni alive)',
    target: '≤ 15 s',
    movesPrimary: false,
    inject: (ns, _cluster, primary) =>
      void ns.k('exec', primary, '--', 'sh', '-c', `kill -KILL $(head -1 ${PGDATA}/postmaster.pid)`),
  },
  'kill-container': {
    name: 'primary container SIGKILLed (Patroni and PostgreSQL)',
    target: '≤ 30 s',
    movesPrimary: false,
    inject: (ns, _cluster, primary) =>
      void execFileSync('ctr', [
        '--address',
        CONTAINERD_SOCKET,
        '-n',
        'k8s.io',
        'tasks',
        'kill',
        '--signal',
        'SIGKILL',
        containerId(ns, primary),
      ]),
  },
};

interface PodView {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * Whole again: phase Running with every instance ready, one primary, and every other instance a
 * replica streaming on the primary's timeline (Patroni's status annotation on each pod).
 */
export function waitWhole(ns: TestNamespace, cluster: string, instances: number, timeoutSeconds = 300) {
  return eventually(
    `${cluster} Running ${instances}/${instances} with every replica streaming on the primary's timeline`,
    () => {
      const s = clusterStatus(ns, cluster);
      if (s.phase !== 'Running' || s.readySummary !== `${instances}/${instances}`) return undefined;
      const pods = (
        JSON.parse(
          ns.k(
            'get',
            'pods',
            '-l',
            `postgres.example.com/cluster=${cluster},app.kubernetes.io/component=database`,
            '-o',
            'json',
          ),
        ) as { items: PodView[] }
      ).items.map((p) => ({
        name: p.metadata.name,
        // The pod's own Ready condition, not the operator's count: the Services route on it, and
        // it can lag the operator's status (e.g. pods marked NotReady after an API-server outage).
        ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        role: p.metadata.labels?.['postgres.example.com/role'],
        status: JSON.parse(p.metadata.annotations?.status ?? '{}') as {
          timeline?: number;
          replication_state?: string;
          state?: string;
        },
      }));
      const primaries = pods.filter((p) => p.role === 'primary');
      if (primaries.length !== 1 || pods.length !== instances || !pods.every((p) => p.ready))
        return undefined;
      const timeline = primaries[0]!.status.timeline;
      const replicasOk = pods
        .filter((p) => p.role !== 'primary')
        .every(
          (p) =>
            p.role === 'replica' &&
            p.status.replication_state === 'streaming' &&
            p.status.timeline === timeline,
        );
      return replicasOk ? { primary: primaries[0]!.name, timeline: timeline!, status: s } : undefined;
    },
    timeoutSeconds,
    () =>
      `${JSON.stringify(clusterStatus(ns, cluster))}\n${ns.try('get', 'pods', '-o', 'wide', '--show-labels').stdout}`,
  );
}

/**
 * The local cluster's API server, stopped and started as a host process. Started again, it
 * returns once the kubelet has reported the node again: until then the node controller may still
 * mark the node's pods NotReady (the node's last heartbeat is from before the outage).
 */
export async function apiServer(cluster: LocalCluster, action: 'stop' | 'start'): Promise<void> {
  const startedAt = Date.now();
  execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/apiserver.sh'), action], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PGOP_CLUSTER_DIR: CLUSTER_DIR },
  });
  if (action === 'stop') return;
  await eventually(
    'every node Ready with a heartbeat after the API server restarted',
    () => {
      const nodes = JSON.parse(kubectlOk(cluster, ['get', 'nodes', '-o', 'json'])) as {
        items: { status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] } }[];
      };
      return nodes.items.every((n) => {
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime ?? '') > startedAt;
      })
        ? true
        : undefined;
    },
    180,
  );
}

export interface DrillRun {
  figures: DrillFigures;
  record: ProbeRecord;
  /** pgop_writes ids after the drill. */
  rows: Set<number>;
  /** The primary before the fault and once the cluster is whole again. */
  before: string;
  after: string;
  faultAt: number;
  wholeAt: number;
}

/**
 * One drill: the probe runs while `inject` does the fault (it gets the primary's pod), then
 * until the cluster is whole again (and, for a drill that moves the role, another pod leads).
 */
export async function runDrill(
  ns: TestNamespace,
  cluster: string,
  instances: number,
  options: ProbeOptions,
  inject: (primary: string) => void | Promise<void>,
  { movesPrimary }: { movesPrimary: boolean },
): Promise<DrillRun> {
  await waitWhole(ns, cluster, instances);
  await primaryQuery(options, CREATE_PROBE_TABLE);
  const before = clusterStatus(ns, cluster).primaryPod!;
  const probe = startProbe(options);
  await sleep(2000);
  const faultAt = Date.now();
  await inject(before);
  if (movesPrimary)
    await eventually(
      'another pod labelled primary',
      () => instancePods(ns, cluster).find((p) => p.role === 'primary' && p.name !== before),
      180,
    );
  else await sleep(5000); // the fault shows before waitWhole could pass on the old state
  const whole = await waitWhole(ns, cluster, instances);
  const wholeAt = Date.now();
  await sleep(2000);
  const record = await probe.stop();
  const rows = await probeRows(options);
  return {
    figures: analyzeDrill(record, faultAt, rows),
    record,
    rows,
    before,
    after: whole.primary,
    faultAt,
    wholeAt,
  };
}
