/**
 * The operators the peers benchmark compares (npm run bench:peers), each behind the same
 * interface: how its cluster is written with 3 instances and synchronous replication, when it
 * is whole, which pod is its primary, how a planned switchover is asked for, and where the
 * write probe connects. The drills and the probe (src/drills) are the same for both.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  nodeOf,
  PGOP_SUBJECT,
  primaryOnDrillNode,
  switchOverTo,
  type DrillSubject,
} from '../drills/failover-drills.js';
import { probeOptions, type ProbeOptions } from '../drills/failover-probe.js';
import { eventually } from '../harness/eventually.js';
import {
  DRILL_NODE,
  DRILL_NODE_TOLERATION,
  type LocalCluster,
  type TestNamespace,
} from '../harness/local-cluster.js';
import { installOperator, POSTGRES_IMAGE, postgresCluster, secretValue } from '../harness/operator.js';
import { REPO_ROOT } from '../harness/paths.js';

export interface PeerOperator extends DrillSubject {
  name: string;
  install(cluster: LocalCluster): void;
  remove(cluster: LocalCluster): void;
  /** `instances` instances, one synchronous standby; `drillNode`: may run on the drill node. */
  manifest(name: string, instances: number, drillNode: boolean): object;
  /** Asks for a planned switchover to `target` (default: the operator's choice). */
  switchover(ns: TestNamespace, cluster: string, target?: string): Promise<void>;
  probeOptions(ns: TestNamespace, cluster: string): Promise<ProbeOptions>;
  /**
   * Makes the primary an instance on the drill node (the lost-node row; 2 instances, one per
   * node), moving a replica there first when the last run left none on it.
   */
  primaryOnDrillNode(ns: TestNamespace, cluster: string): Promise<void>;
}

export const PGOP: PeerOperator = {
  name: 'pgop',
  install: (cluster) => installOperator(cluster),
  remove: () => undefined, // the tests' operator: it stays
  manifest: (name, instances, drillNode) =>
    postgresCluster(name, {
      replicas: instances,
      replication: { mode: 'Sync', synchronousReplicas: 1 },
      ...(drillNode ? { scheduling: { tolerations: [DRILL_NODE_TOLERATION] } } : {}),
    }),
  ...PGOP_SUBJECT,
  switchover: async (ns, cluster, target) => {
    if (target) return switchOverTo(ns, cluster, target);
    ns.k(
      'annotate',
      'pgc',
      cluster,
      `postgres.example.com/switchover=${randomBytes(4).toString('hex')}`,
      '--overwrite',
    );
  },
  probeOptions: (ns, cluster) => probeOptions(ns, cluster),
  // pgop's lost instance comes back on the other node; the drills know how to move one back.
  primaryOnDrillNode: (ns, cluster) => primaryOnDrillNode(ns, cluster, 2),
};

const CNPG = 'postgresql.cnpg.io';
/** The image's postgres user (Debian's packages); CloudNativePG's default is 26. */
const POSTGRES_UID = 999;

interface CnpgStatus {
  phase?: string;
  readyInstances?: number;
  currentPrimary?: string;
  targetPrimary?: string;
  timelineID?: number;
}

const cnpgStatus = (ns: TestNamespace, cluster: string): CnpgStatus =>
  (JSON.parse(ns.k('get', `clusters.${CNPG}`, cluster, '-o', 'json')) as { status?: CnpgStatus }).status ??
  {};

/** SQL as the superuser over the instance's local socket (CloudNativePG's peer authentication). */
function localSql(ns: TestNamespace, pod: string, sql: string): string {
  return ns.k(
    'exec',
    pod,
    '-c',
    'postgres',
    '--',
    'psql',
    '-h',
    '/controller/run',
    '-U',
    'postgres',
    '-Atc',
    sql,
  );
}

export const CLOUDNATIVE_PG: PeerOperator = {
  name: 'CloudNativePG',
  install: () =>
    void execFileSync('bash', [join(REPO_ROOT, 'e2e/tools/cloudnative-pg/install.sh'), 'install'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  remove: () =>
    void execFileSync('bash', [join(REPO_ROOT, 'e2e/tools/cloudnative-pg/install.sh'), 'remove'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  manifest: (name, instances, drillNode) => ({
    apiVersion: `${CNPG}/v1`,
    kind: 'Cluster',
    metadata: { name },
    spec: {
      instances,
      imageName: POSTGRES_IMAGE,
      imagePullPolicy: 'Never',
      postgresUID: POSTGRES_UID,
      postgresGID: POSTGRES_UID,
      storage: { size: '1Gi' },
      // pgop's Sync without strict: one named standby confirms each commit; with none left,
      // the primary goes on alone.
      postgresql: { synchronous: { method: 'first', number: 1, dataDurability: 'preferred' } },
      ...(drillNode ? { affinity: { tolerations: [DRILL_NODE_TOLERATION] } } : {}),
    },
  }),
  waitWhole: (ns, cluster, instances) =>
    eventually(
      `${cluster} healthy with ${instances} instances, every replica streaming, one synchronous`,
      () => {
        const s = cnpgStatus(ns, cluster);
        if (s.readyInstances !== instances || !s.currentPrimary || s.currentPrimary !== s.targetPrimary)
          return undefined;
        if (s.phase !== 'Cluster in healthy state') return undefined;
        const [streaming, sync] = localSql(
          ns,
          s.currentPrimary,
          "select count(*) filter (where state = 'streaming'), count(*) filter (where sync_state = 'sync') from pg_stat_replication",
        ).split('|');
        return Number(streaming) === instances - 1 && (instances < 2 || Number(sync) >= 1)
          ? { primary: s.currentPrimary }
          : undefined;
      },
      300,
      () => JSON.stringify(cnpgStatus(ns, cluster)) + '\n' + ns.try('get', 'pods', '-o', 'wide').stdout,
    ),
  primary: (ns, cluster) => cnpgStatus(ns, cluster).currentPrimary,
  pods: (ns, cluster) =>
    (
      JSON.parse(
        ns.k('get', 'pods', '-l', `cnpg.io/cluster=${cluster},cnpg.io/podRole=instance`, '-o', 'json'),
      ) as {
        items: { metadata: { name: string; labels?: Record<string, string> } }[];
      }
    ).items.map((p) => ({ name: p.metadata.name, role: p.metadata.labels?.['cnpg.io/instanceRole'] })),
  // What `kubectl cnpg promote` does: the target in status, and the operator carries it out.
  switchover: async (ns, cluster, target) => {
    const s = cnpgStatus(ns, cluster);
    const to =
      target ??
      CLOUDNATIVE_PG.pods(ns, cluster)
        .map((p) => p.name)
        .find((p) => p !== s.currentPrimary);
    if (!to) throw new Error(`${cluster}: no replica to switch over to`);
    ns.k(
      'patch',
      `clusters.${CNPG}`,
      cluster,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          targetPrimary: to,
          targetPrimaryTimestamp: new Date().toISOString(),
          phase: 'Switchover in progress',
          phaseReason: `Switching over to ${to}`,
        },
      }),
    );
    await eventually(
      `${cluster}: ${to} primary`,
      () => (cnpgStatus(ns, cluster).currentPrimary === to ? true : undefined),
      120,
    );
  },
  probeOptions: async (ns, cluster) => {
    const app = (key: string) => secretValue(ns, `${cluster}-app`, key);
    return {
      namespace: ns.name,
      podSelector: `cnpg.io/cluster=${cluster},cnpg.io/podRole=instance`,
      primaryHost: ns.k('get', 'service', `${cluster}-rw`, '-o', 'jsonpath={.spec.clusterIP}'),
      user: app('username'),
      password: app('password'),
      kubeconfigPath: ns.cluster.kubeconfigPath,
      ratePerSecond: 20,
      ca: secretValue(ns, `${cluster}-ca`, 'ca.crt'),
      // Its server certificate names its Services, not its pods.
      primaryServerName: `${cluster}-rw.${ns.name}.svc`,
      roleLabel: 'cnpg.io/instanceRole',
    };
  },
  // Its lost instance's pod comes back where its volume is once the node is back; when none is
  // on the drill node, a replica made anew (pod and volume deleted) is scheduled there.
  primaryOnDrillNode: async (ns, cluster) => {
    const onDrillNode = () => CLOUDNATIVE_PG.pods(ns, cluster).find((p) => nodeOf(ns, p.name) === DRILL_NODE);
    await CLOUDNATIVE_PG.waitWhole(ns, cluster, 2);
    for (let attempt = 1; !onDrillNode(); attempt++) {
      if (attempt > 3) throw new Error(`no instance of ${cluster} was scheduled on ${DRILL_NODE}`);
      const replica = CLOUDNATIVE_PG.pods(ns, cluster).find((p) => p.role === 'replica');
      if (!replica) throw new Error(`${cluster} has no replica to move to ${DRILL_NODE}`);
      ns.k('delete', 'pvc', replica.name, '--wait=false');
      ns.k('delete', 'pod', replica.name);
      await CLOUDNATIVE_PG.waitWhole(ns, cluster, 2);
    }
    const target = onDrillNode()!;
    if (target.role !== 'primary') await CLOUDNATIVE_PG.switchover(ns, cluster, target.name);
    await CLOUDNATIVE_PG.waitWhole(ns, cluster, 2);
  },
};
