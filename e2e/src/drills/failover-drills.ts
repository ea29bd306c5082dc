/**
 * The faults of the HA drills, each done the way it happens in production, and the check that
 * a cluster is whole again. Used by the e2e drills (end-to-end/failover-drills.test.ts) and by
 * npm run bench:failover.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../harness/eventually.js';
import { kubectl, kubectlOk } from '../harness/kubectl.js';
import {
  CLUSTER_DIR,
  DRILL_NODE,
  DRILL_NODE_TOLERATION,
  localCluster,
  type LocalCluster,
  type TestNamespace,
} from '../harness/local-cluster.js';
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
import { clusterStatus, instancePods } from '../harness/operator.js';
import { REPO_ROOT } from '../harness/paths.js';

const CONTAINERD_SOCKET = '/run/pgop-cluster/containerd/containerd.sock';
const PGDATA = '/var/lib/postgresql/data/pgdata';

export interface Drill {
  name: string;
  /** The target (docs/architecture.md, "Targets"), for the report. */
  target: string;
  /** Does the primary role move to another pod? */
  movesPrimary: boolean;
  /** Instances of the drill's cluster (default 3). */
  instances?: number;
  /** Run the reconnecting writer beside the long-lived one (ProbeOptions.reconnectingWriter). */
  reconnectingWriter?: boolean;
  /**
   * bench:failover also writes through the cluster's pooler (spec.pooler), beside the writer
   * straight to the primary Service (ProbeOptions.pooler).
   */
  throughPooler?: boolean;
  /** Spec fields the drill's cluster needs beyond replicas and replication. */
  spec?: Record<string, unknown>;
  /** Before each fault: put the cluster where the fault will hit. */
  prepare?: (ns: TestNamespace, cluster: string) => Promise<void>;
  inject: (ns: TestNamespace, cluster: string, primary: string) => void | Promise<void>;
  /** Once the cluster is whole again: undo what the fault broke outside the cluster. */
  recover?: () => Promise<void>;
}

/**
 * Kills the drill node (kubelet, containers, containerd at once), or only its kubelet (the node
 * goes NotReady while its containers run on), or starts it and waits until it is Ready.
 */
export function drillNode(action: 'kill' | 'kill-kubelet' | 'start'): void {
  execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/node-power.sh'), action, '2'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PGOP_CLUSTER_DIR: CLUSTER_DIR },
  });
}

export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute';

/** Puts Kubernetes' out-of-service taint on the drill node (what an administrator does once it is off), or removes it. */
export function outOfService(action: 'taint' | 'untaint'): void {
  const cluster = localCluster();
  if (action === 'taint')
    kubectlOk(cluster, ['taint', 'node', DRILL_NODE, OUT_OF_SERVICE_TAINT, '--overwrite']);
  else kubectl(cluster, ['taint', 'node', DRILL_NODE, 'node.kubernetes.io/out-of-service-']); // absent is fine
}

/** Whether the drill node's Ready condition is True. */
export function nodeReady(cluster: LocalCluster): boolean {
  return (
    kubectlOk(cluster, [
      'get',
      'node',
      DRILL_NODE,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]) === 'True'
  );
}

export function nodeOf(ns: TestNamespace, pod: string): string {
  return ns.k('get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}');
}

/**
 * Puts the primary on the drill node. After a node loss both instances run on node 1: a replica
 * is deleted so the StatefulSet recreates it, and the scheduler (pod anti-affinity) puts it on
 * the drill node; then a switchover makes it the primary.
 */
export async function primaryOnDrillNode(
  ns: TestNamespace,
  cluster: string,
  instances: number,
): Promise<void> {
  const onDrillNode = () => instancePods(ns, cluster).filter((p) => nodeOf(ns, p.name) === DRILL_NODE);
  for (let attempt = 1; onDrillNode().length === 0; attempt++) {
    if (attempt > 3) throw new Error(`no instance of ${cluster} was scheduled on ${DRILL_NODE}`);
    const replica = instancePods(ns, cluster).find((p) => p.role === 'replica');
    if (!replica) throw new Error(`${cluster} has no replica to move to ${DRILL_NODE}`);
    ns.k('delete', 'pod', replica.name);
    await waitWhole(ns, cluster, instances);
  }
  const target = onDrillNode()[0]!;
  if (target.role === 'primary') return;
  await switchOverTo(ns, cluster, target.name);
  await waitWhole(ns, cluster, instances);
}

/**
 * Asks pgop for a switchover to `target` (the annotations a user sets) and waits for its
 * outcome in status.lastSwitchover; a refusal fails with pgop's message.
 */
export async function switchOverTo(ns: TestNamespace, cluster: string, target: string): Promise<void> {
  const request = randomBytes(4).toString('hex');
  ns.k(
    'annotate',
    'pgc',
    cluster,
    `postgres.example.com/switchover=${request}`,
    `postgres.example.com/switchover-target=${target}`,
    '--overwrite',
  );
  await eventually(
    `switchover ${request} to ${target}`,
    () => {
      const s = clusterStatus(ns, cluster).lastSwitchover;
      if (s?.request === request && s.phase === 'Failed') throw new Error(`switchover failed: ${s.message}`);
      return s?.request === request && s.phase === 'Succeeded' ? true : undefined;
    },
    120,
  );
}

/** The containerd ID of a pod's postgres container. */
export function containerId(ns: TestNamespace, pod: string): string {
  // By name: the pod's metrics container sorts first among the container statuses.
  const id = ns.k(
    'get',
    'pod',
    pod,
    '-o',
    'jsonpath={.status.containerStatuses[?(@.name=="postgres")].containerID}',
  );
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

/**
 * The host PID of a pod's Patroni: the child of the container's first process, pgop-fence
 * (images/postgres/pgop-fence).
 */
export function patroniPid(ns: TestNamespace, pod: string): number {
  const init = containerPid(ns, pod);
  const children = readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(/\s+/);
  const patroni = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('patroni'));
  if (!patroni) throw new Error(`no Patroni process under ${pod}'s pgop-fence (${init})`);
  return Number(patroni);
}

/**
 * Freezes the primary's Patroni (SIGSTOP from the node) while its PostgreSQL runs on, until
 * another pod leads, then lets it run again if it still runs: pgop-fence kills a Patroni that
 * stopped renewing the lock and starts a fresh one. The old primary must have stopped taking
 * commits before the new one was promoted, and rejoin as a replica.
 */
export async function freezePatroni(ns: TestNamespace, cluster: string, primary: string): Promise<void> {
  const pid = patroniPid(ns, primary);
  process.kill(pid, 'SIGSTOP');
  try {
    await eventually(
      'another pod labelled primary while Patroni is frozen',
      () => instancePods(ns, cluster).find((p) => p.role === 'primary' && p.name !== primary),
      120,
    );
  } finally {
    continueIfRunning(pid);
  }
}

/** SIGCONT, unless the process is gone (pgop-fence killed and replaced a Patroni it fenced). */
function continueIfRunning(pid: number) {
  try {
    process.kill(pid, 'SIGCONT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export const DRILLS: Record<string, Drill> = {
  switchover: {
    name: 'planned switchover (annotation)',
    target: '≤ 3 s',
    movesPrimary: true,
    throughPooler: true,
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
    throughPooler: true,
    inject: (ns, _cluster, primary) => void ns.k('delete', 'pod', primary, '--wait=false'),
  },
  'kill-postmaster': {
    name: 'PostgreSQL postmaster killed (Patroni alive)',
    target: '≤ 15 s',
    movesPrimary: false,
    inject: (ns, _cluster, primary) =>
      void ns.k('exec', primary, '--', 'sh', '-c', `kill -KILL $(head -1 ${PGDATA}/postmaster.pid)`),
  },
  'hang-patroni': {
    name: "primary's Patroni frozen (SIGSTOP), PostgreSQL running, a long-lived and a reconnecting writer",
    target: '≤ 30 s',
    movesPrimary: true,
    reconnectingWriter: true,
    inject: freezePatroni,
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
  'lose-node': {
    name: "primary's node lost (kubelet and containers killed)",
    target: '≤ 30 s',
    movesPrimary: true,
    // One instance per node. Once the node is NotReady, an administrator's out-of-service taint
    // (Kubernetes' non-graceful node shutdown) proves it gone.
    instances: 2,
    spec: { scheduling: { tolerations: [DRILL_NODE_TOLERATION] } },
    prepare: (ns, cluster) => primaryOnDrillNode(ns, cluster, 2),
    inject: async (ns) => {
      drillNode('kill');
      await eventually(`${DRILL_NODE} NotReady`, () => (nodeReady(ns.cluster) ? undefined : true), 180);
      outOfService('taint');
    },
    recover: async () => {
      outOfService('untaint');
      drillNode('start');
    },
  },
};

interface PodView {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * With synchronous replication, Patroni promotes only a standby its `<cluster>-sync` ConfigMap
 * names, and it names one a loop after the standby starts streaming: until then a failover would
 * have no candidate, so a cluster is not whole without one.
 */
function synchronousStandbyChosen(ns: TestNamespace, cluster: string, primary: string, instances: number) {
  const mode = ns.k('get', 'pgc', cluster, '-o', 'jsonpath={.spec.replication.mode}');
  if (instances < 2 || (mode !== 'Sync' && mode !== 'Quorum')) return true;
  const sync = ns.try('get', 'configmap', `${cluster}-sync`, '-o', 'json');
  if (sync.code !== 0) return false;
  const annotations = (JSON.parse(sync.stdout) as { metadata: { annotations?: Record<string, string> } })
    .metadata.annotations;
  return annotations?.leader === primary && Boolean(annotations.sync_standby);
}

/**
 * Whole again: phase Running with every instance ready, one primary, every other instance a
 * replica streaming on the primary's timeline (Patroni's status annotation on each pod), and with
 * synchronous replication a synchronous standby chosen.
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
      if (!replicasOk || !synchronousStandbyChosen(ns, cluster, primaries[0]!.name, instances))
        return undefined;
      return { primary: primaries[0]!.name, timeline: timeline!, status: s };
    },
    timeoutSeconds,
    () => {
      const pods = instancePods(ns, cluster);
      // What Patroni said last on every pod but a ready primary: CI shows only this message, so it
      // must say why the cluster is not whole.
      const stuck = pods
        .filter((p) => !p.ready || p.role !== 'primary')
        .map((p) => `--- ${p.name} (${p.role ?? 'no role'}):\n${ns.try('logs', p.name, '--tail=25').stdout}`);
      return [
        JSON.stringify(clusterStatus(ns, cluster)),
        ns.try('get', 'pods', '-o', 'wide', '--show-labels').stdout,
        ns.try('get', 'pods', '-o', 'custom-columns=NAME:.metadata.name,PATRONI:.metadata.annotations.status')
          .stdout,
        ...stuck,
      ].join('\n');
    },
  );
}

/**
 * The local cluster's API server, stopped and started as a host process. Started again, it
 * returns once every kubelet has renewed its node Lease after the restart: until then the node
 * controller may still mark the node's pods NotReady (the last heartbeat is from before the
 * outage). The Lease is the heartbeat (renewed every 10 s); the Ready condition's
 * lastHeartbeatTime is only rewritten every nodeStatusReportFrequency (5 min) when nothing
 * changes, so waiting for it timed out once in CI.
 */
export async function apiServer(cluster: LocalCluster, action: 'stop' | 'start'): Promise<void> {
  const startedAt = Date.now();
  execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/apiserver.sh'), action], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PGOP_CLUSTER_DIR: CLUSTER_DIR },
  });
  if (action === 'stop') return;
  await eventually(
    'every node Ready with its Lease renewed after the API server restarted',
    () => {
      const nodes = JSON.parse(kubectlOk(cluster, ['get', 'nodes', '-o', 'json'])) as {
        items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
      };
      const leases = JSON.parse(
        kubectlOk(cluster, ['-n', 'kube-node-lease', 'get', 'leases', '-o', 'json']),
      ) as { items: { metadata: { name: string }; spec?: { renewTime?: string } }[] };
      return nodes.items.every((n) => {
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        const lease = leases.items.find((l) => l.metadata.name === n.metadata.name);
        return ready?.status === 'True' && Date.parse(lease?.spec?.renewTime ?? '') > startedAt;
      })
        ? true
        : undefined;
    },
    180,
  );
}

/** What a drill needs to know of the operator running the cluster (src/peers: pgop or another). */
export interface DrillSubject {
  /** Waits until every instance is ready, replicas stream and a synchronous standby is named. */
  waitWhole(ns: TestNamespace, cluster: string, instances: number): Promise<{ primary: string }>;
  /** The pod the operator reports as primary. */
  primary(ns: TestNamespace, cluster: string): string | undefined;
  /** The instance pods with the operator's role label. */
  pods(ns: TestNamespace, cluster: string): { name: string; role?: string | undefined }[];
}

export const PGOP_SUBJECT: DrillSubject = {
  waitWhole: (ns, cluster, instances) => waitWhole(ns, cluster, instances),
  primary: (ns, cluster) => clusterStatus(ns, cluster).primaryPod,
  pods: instancePods,
};

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
  {
    movesPrimary,
    subject = PGOP_SUBJECT,
    primaryMoveTimeoutSeconds = 180,
  }: { movesPrimary: boolean; subject?: DrillSubject; primaryMoveTimeoutSeconds?: number },
): Promise<DrillRun> {
  await subject.waitWhole(ns, cluster, instances);
  await primaryQuery(options, CREATE_PROBE_TABLE);
  const before = subject.primary(ns, cluster)!;
  const probe = startProbe(options);
  await sleep(2000);
  const faultAt = Date.now();
  let whole: { primary: string };
  try {
    await inject(before);
    if (movesPrimary)
      await eventually(
        'another pod labelled primary',
        () => subject.pods(ns, cluster).find((p) => p.role === 'primary' && p.name !== before),
        primaryMoveTimeoutSeconds,
      );
    else await sleep(5000); // the fault shows before waitWhole could pass on the old state
    whole = await subject.waitWhole(ns, cluster, instances);
  } catch (err) {
    // The probe's worker thread would keep the test process alive: a failed drill must fail,
    // not hang the run.
    await probe.stop().catch(() => undefined);
    throw err;
  }
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
