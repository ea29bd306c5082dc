/**
 * The operator on the local Kubernetes, as a user installs it (helm upgrade --install of
 * charts/pgop), and helpers to look at PostgresClusters the way a user would: kubectl and psql.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { withFileLock } from './file-lock.js';
import { kubectl, kubectlOk } from './kubectl.js';
import { CLUSTER_DIR, RESTRICTED_CONTAINER, type LocalCluster, type TestNamespace } from './local-cluster.js';
import { REPO_ROOT, goTool } from './paths.js';

export const OPERATOR_NAMESPACE = 'pgop-system';
export const OPERATOR_RELEASE = 'pgop';
export const POSTGRES_IMAGE = 'localhost/pgop/postgres:17';

/**
 * Installs (or upgrades) the operator with Helm and waits for its Deployments. Helm installs
 * CRDs only on first install, so they are applied first, as docs/install.md tells users to do on
 * upgrades. On the local cluster, a fingerprint of the chart and of the operator image goes into
 * a pod annotation: a rebuilt :dev image or a changed chart rolls the pods, and an install that
 * is already current is skipped. Test files run side by side take turns (a lock), since Helm
 * refuses a second upgrade of a release while one is in progress.
 */
export function installOperator(cluster: LocalCluster, { rollOnImageChange = true } = {}): void {
  if (!rollOnImageChange) return helmInstall(cluster, []);
  withFileLock(join(CLUSTER_DIR, 'operator-install.lock'), () => {
    const fingerprint = installFingerprint();
    if (installedFingerprints(cluster).every((f) => f === fingerprint)) return;
    helmInstall(cluster, ['--set-string', `podAnnotations.pgop\\.dev/install=${fingerprint}`]);
  });
}

function helmInstall(cluster: LocalCluster, extra: string[]): void {
  kubectlOk(cluster, [
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(REPO_ROOT, 'charts/pgop/crds'),
  ]);
  const args = ['upgrade', '--install', OPERATOR_RELEASE, join(REPO_ROOT, 'charts/pgop')];
  args.push('--namespace', OPERATOR_NAMESPACE, '--create-namespace', '--kubeconfig', cluster.kubeconfigPath);
  execFileSync(goTool('helm'), [...args, ...extra, '--wait', '--timeout', '180s'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The operator image's ID and every file of the chart. */
function installFingerprint(): string {
  const hash = createHash('sha256');
  const inspect = ['image', 'inspect', 'localhost/pgop/operator:dev', '--format', '{{.Id}}'];
  hash.update(execFileSync('podman', inspect, { encoding: 'utf8' }).trim());
  const chart = join(REPO_ROOT, 'charts/pgop');
  for (const file of (readdirSync(chart, { recursive: true }) as string[]).sort()) {
    const path = join(chart, file);
    if (statSync(path).isFile()) hash.update(file).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The fingerprint each of the operator's available Deployments was installed with; one
 * undefined entry (none found, or one not available) means an install is needed.
 */
function installedFingerprints(cluster: LocalCluster): (string | undefined)[] {
  const res = kubectl(cluster, ['-n', OPERATOR_NAMESPACE, 'get', 'deployments', '-o', 'json']);
  if (res.code !== 0) return [undefined];
  const items = (
    JSON.parse(res.stdout) as {
      items: {
        spec: { replicas?: number; template: { metadata?: { annotations?: Record<string, string> } } };
        status?: { updatedReplicas?: number; availableReplicas?: number };
      }[];
    }
  ).items;
  if (items.length === 0) return [undefined];
  // A Deployment some test scaled to 0 is not current: the install puts the chart's replicas back.
  return items.map((d) =>
    (d.spec.replicas ?? 1) > 0 &&
    (d.status?.availableReplicas ?? 0) >= (d.spec.replicas ?? 1) &&
    d.status?.updatedReplicas === d.spec.replicas
      ? d.spec.template.metadata?.annotations?.['pgop.dev/install']
      : undefined,
  );
}

export interface ClusterStatus {
  phase?: string;
  replicas?: number;
  readyReplicas?: number;
  readySummary?: string;
  primaryPod?: string;
  selector?: string;
  observedGeneration?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
  lastFailover?: { from: string; to: string; reason: string };
  lastSwitchover?: { phase: string; from?: string; to?: string; request?: string; message?: string };
  primaryHistory?: { from: string; to: string; reason: string }[];
  backup?: {
    repository?: string;
    stanzaCreated?: boolean;
    archiving?: { lastArchivedTime?: string; lastFailedTime?: string };
  };
  pooler?: { readyInstances: number; readyReadOnlyInstances: number };
  volumes?: { name: string; requested: string; capacity?: string; usedPercent?: number }[];
}

export function postgresCluster(
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
) {
  return {
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresCluster',
    metadata: { name, annotations },
    spec: { version: 17, storage: { size: '1Gi' }, ...spec },
  };
}

export function clusterStatus(ns: TestNamespace, name: string): ClusterStatus {
  return (JSON.parse(ns.k('get', 'pgc', name, '-o', 'json')) as { status?: ClusterStatus }).status ?? {};
}

export function condition(status: ClusterStatus, type: string) {
  return status.conditions?.find((c) => c.type === type);
}

/** Waits for condition Ready=True, as `kubectl wait` does; fails with the status if it does not come. */
export function waitReady(ns: TestNamespace, name: string, timeoutSeconds = 240): ClusterStatus {
  const res = ns.try('wait', '--for=condition=Ready', `pgc/${name}`, `--timeout=${timeoutSeconds}s`);
  const status = clusterStatus(ns, name);
  if (res.code !== 0)
    throw new Error(
      `${name} not Ready after ${timeoutSeconds}s: ${JSON.stringify(status, null, 1)}\n${ns.try('get', 'pods', '-o', 'wide').stdout}`,
    );
  return status;
}

/** Waits for phase Running with every one of `instances` ready (REPLICAS n/n). */
export function waitRunning(
  ns: TestNamespace,
  name: string,
  instances: number,
  timeoutSeconds = 240,
): Promise<ClusterStatus> {
  return eventually(
    `${name} Running ${instances}/${instances}`,
    () => {
      const s = clusterStatus(ns, name);
      return s.phase === 'Running' && s.readySummary === `${instances}/${instances}` ? s : undefined;
    },
    timeoutSeconds,
    () => JSON.stringify(clusterStatus(ns, name)),
  );
}

export interface InstancePod {
  name: string;
  uid: string;
  role?: string;
  ready: boolean;
  ip?: string;
  /** Restarts of its containers, as the kubelet counts them. */
  restarts: number;
}

/** The instance pods of a cluster, with the role label Patroni set. */
export function instancePods(ns: TestNamespace, name: string): InstancePod[] {
  const list = JSON.parse(
    ns.k(
      'get',
      'pods',
      '-l',
      `postgres.example.com/cluster=${name},app.kubernetes.io/component=database`,
      '-o',
      'json',
    ),
  ) as {
    items: {
      metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
      status?: {
        conditions?: { type: string; status: string }[];
        podIP?: string;
        containerStatuses?: { restartCount: number }[];
      };
    }[];
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    role: p.metadata.labels?.['postgres.example.com/role'],
    ready:
      !p.metadata.deletionTimestamp &&
      (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    ip: p.status?.podIP,
    restarts: (p.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
  }));
}

/** One key of a Secret, decoded. */
export function secretValue(ns: TestNamespace, secret: string, key: string): string {
  const jsonPath = `{.data.${key.replaceAll('.', '\\.')}}`;
  return Buffer.from(ns.k('get', 'secret', secret, '-o', `jsonpath=${jsonPath}`), 'base64').toString();
}

/**
 * Waits until pgop has made the cluster's application role (access/roles.ts): its Secret records
 * the applied password. Before that, logging in as it fails.
 */
export async function waitForApplicationRole(ns: TestNamespace, clusterName: string): Promise<void> {
  await eventually(
    `${clusterName}'s application role`,
    () => {
      const res = ns.try('get', 'secret', `${clusterName}-app`, '-o', 'json');
      if (res.code !== 0) return undefined;
      const secret = JSON.parse(res.stdout) as { metadata: { annotations?: Record<string, string> } };
      return secret.metadata.annotations?.['postgres.example.com/password-applied'];
    },
    120,
  );
}

/** Where the SQL client pod finds the cluster's CA (ca.crt of the credentials Secret). */
export const CLIENT_CA_DIR = '/etc/postgres-ca';

/**
 * A pod with psql that logs in as an application would: the application role into its database,
 * the password and the CA coming from the cluster's Secret, over TLS with
 * sslmode=verify-full. `sql()` runs statements through a Service. As
 * the superuser (database postgres) only for a cluster with spec.superuserAccess.
 */
export async function startSqlClient(
  ns: TestNamespace,
  clusterName: string,
  as: 'app' | 'superuser' = 'app',
): Promise<string> {
  if (as === 'app') await waitForApplicationRole(ns, clusterName);
  const secret = `${clusterName}-${as}`;
  const pod = `${clusterName}-client`;
  ns.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod },
    spec: {
      containers: [
        {
          name: 'psql',
          image: POSTGRES_IMAGE,
          imagePullPolicy: 'Never',
          command: ['sleep', 'infinity'],
          env: [
            { name: 'PGUSER', valueFrom: { secretKeyRef: { name: secret, key: 'username' } } },
            { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } },
            { name: 'PGDATABASE', value: as === 'app' ? 'app' : 'postgres' },
            { name: 'PGCONNECT_TIMEOUT', value: '5' },
            // What an application should do: TLS, the server checked against the cluster's CA.
            { name: 'PGSSLMODE', value: 'verify-full' },
            { name: 'PGSSLROOTCERT', value: `${CLIENT_CA_DIR}/ca.crt` },
          ],
          securityContext: RESTRICTED_CONTAINER,
          volumeMounts: [{ name: 'ca', mountPath: CLIENT_CA_DIR, readOnly: true }],
        },
      ],
      volumes: [{ name: 'ca', secret: { secretName: secret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
      terminationGracePeriodSeconds: 0,
    },
  });
  await ns.waitForPhase(pod, ['Running'], 120);
  return pod;
}

/** Runs SQL through a Service (e.g. my-cluster-primary) from the client pod; psql's exit code and output. */
export function trySql(ns: TestNamespace, client: string, service: string, statement: string) {
  const psql = ['psql', '-h', service, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', statement];
  return ns.try('exec', client, '--', ...psql);
}

/** Like trySql, but must succeed; returns psql's unaligned output. */
export function sql(ns: TestNamespace, client: string, service: string, statement: string): string {
  const res = trySql(ns, client, service, statement);
  if (res.code !== 0) throw new Error(`psql via ${service} failed (${res.code}): ${res.stderr}`);
  return res.stdout.trim();
}

/**
 * psql inside an instance pod as the postgres user, over the local socket (kubectl exec goes
 * through the kubelet, not the pod's network); its unaligned output, or an error with psql's.
 */
export function psqlInPod(ns: TestNamespace, pod: string, statement: string, database = 'postgres'): string {
  const psql = ['psql', '-h', '/var/run/postgresql', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1'];
  const res = ns.try('exec', pod, '--', ...psql, '-c', statement);
  if (res.code !== 0) throw new Error(`psql in ${pod} failed (${res.code}): ${res.stderr}`);
  return res.stdout.trim();
}

/**
 * An instance's metrics as Prometheus scrapes them: its metrics container (port 9187) or Patroni
 * (8008), over HTTPS at the pod IP (the host reaches pod IPs; the certificate names no IP).
 */
export function instanceMetrics(ns: TestNamespace, pod: string, port = 9187): Promise<string> {
  const ip = ns.k('get', 'pod', pod, '-o', 'jsonpath={.status.podIP}');
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      { host: ip, port, path: '/metrics', rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${pod}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${pod}:${port} timed out`)));
    req.on('error', reject);
  });
}

/** Waits until every PgBouncer pod of spec.pooler is ready (condition PoolerReady). */
export function waitPoolerReady(ns: TestNamespace, name: string, timeoutSeconds = 180): Promise<unknown> {
  return eventually(
    'PoolerReady',
    () => condition(clusterStatus(ns, name), 'PoolerReady')?.status === 'True',
    timeoutSeconds,
    () => JSON.stringify(clusterStatus(ns, name).conditions),
  );
}
