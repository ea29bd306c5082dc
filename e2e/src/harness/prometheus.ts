/**
 * A real Prometheus (built from the Go module proxy) on the host, scraping the local cluster as
 * the chart's PodMonitors tell the prometheus-operator to (charts/pgop/templates/monitoring.yaml:
 * the same jobs and labels), plus the kubelets for volume usage, and evaluating pgop's alert
 * rules. The host reaches pod IPs directly (docs/development.md, "Two nodes on one machine").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { LocalCluster } from './local-cluster.js';
import { OPERATOR_NAMESPACE } from './operator.js';
import { REPO_ROOT, goTool } from './paths.js';
import { freePort } from './ports.js';
import { startProcess, waitUntil, type ManagedProcess } from './processes.js';

export const ALERT_RULES = join(REPO_ROOT, 'charts/pgop/files/prometheus-rules.yaml');
/** Short, so a test sees a change within seconds; the rules' own `for` durations are unchanged. */
const INTERVAL = '5s';

export interface Series {
  metric: Record<string, string>;
  value: [number, string];
}
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

export interface TestPrometheus {
  url: string;
  /** An instant query; throws on a PromQL error. */
  query(expr: string): Promise<Series[]>;
  alerts(): Promise<Alert[]>;
  /** Targets of a job that are up. */
  targetsUp(job: string): Promise<number>;
  stop(): Promise<void>;
}

/** The scrape jobs of the chart's PodMonitors, as a plain configuration, limited to `namespaces`. */
function scrapeConfigs(kubeconfig: string, namespaces: string[], clientCert: { cert: string; key: string }) {
  const pods = (names: string[]) => [{ role: 'pod', kubeconfig_file: kubeconfig, namespaces: { names } }];
  const keep = (labels: string[], regex: string) => ({ source_labels: labels, regex, action: 'keep' });
  const copy = (from: string, to: string) => ({ source_labels: [from], target_label: to });
  /** A job over pgop's pods whose label app.kubernetes.io/<label> is `value`, on the port named `port`. */
  const podJob = (
    job: string,
    [label, value]: ['component' | 'name', string],
    port: string,
    extra: object[] = [],
  ) => ({
    job_name: job,
    scheme: 'https',
    metrics_path: '/metrics',
    tls_config: { insecure_skip_verify: true },
    kubernetes_sd_configs: pods(namespaces),
    relabel_configs: [
      keep(
        [
          '__meta_kubernetes_pod_label_app_kubernetes_io_part_of',
          `__meta_kubernetes_pod_label_app_kubernetes_io_${label}`,
          '__meta_kubernetes_pod_label_app_kubernetes_io_managed_by',
          '__meta_kubernetes_pod_container_port_name',
        ],
        `pgop;${value};pgop;${port}`,
      ),
      copy('__meta_kubernetes_namespace', 'namespace'),
      copy('__meta_kubernetes_pod_name', 'pod'),
      copy('__meta_kubernetes_pod_label_postgres_example_com_cluster', 'cluster'),
      ...extra,
    ],
  });
  return [
    podJob('pgop-postgres', ['component', 'database'], 'metrics'),
    podJob('pgop-patroni', ['component', 'database'], 'patroni'),
    // Label `pooler`: the pooler's kind (pooler or pooler-ro).
    podJob('pgop-pgbouncer', ['name', 'pgbouncer'], 'metrics', [
      copy('__meta_kubernetes_pod_label_app_kubernetes_io_component', 'pooler'),
    ]),
    {
      job_name: 'pgop-controllers',
      honor_labels: true,
      kubernetes_sd_configs: pods([OPERATOR_NAMESPACE]),
      relabel_configs: [
        keep(
          ['__meta_kubernetes_pod_label_app_kubernetes_io_name', '__meta_kubernetes_pod_container_port_name'],
          'pgop;http',
        ),
        { ...copy('__meta_kubernetes_pod_label_app_kubernetes_io_component', 'job'), replacement: 'pgop-$1' },
        copy('__meta_kubernetes_namespace', 'namespace'),
        copy('__meta_kubernetes_pod_name', 'pod'),
      ],
    },
    {
      // The kubelets' own metrics: kubelet_volume_stats_* (volumes whose plugin reports usage).
      job_name: 'kubelet',
      scheme: 'https',
      tls_config: { insecure_skip_verify: true, cert_file: clientCert.cert, key_file: clientCert.key },
      kubernetes_sd_configs: [{ role: 'node', kubeconfig_file: kubeconfig }],
    },
  ];
}

/** The kubeconfig's client certificate and key as files (the kubelets accept the admin's). */
function writeClientCertificate(kubeconfig: string, dir: string) {
  const config = parse(readFileSync(kubeconfig, 'utf8')) as {
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const user = config.users[0]!.user;
  const cert = join(dir, 'client.crt');
  const key = join(dir, 'client.key');
  writeFileSync(cert, Buffer.from(user['client-certificate-data'], 'base64'));
  writeFileSync(key, Buffer.from(user['client-key-data'], 'base64'), { mode: 0o600 });
  return { cert, key };
}

export async function startPrometheus(cluster: LocalCluster, namespaces: string[]): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'pgop-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: INTERVAL, evaluation_interval: INTERVAL },
      rule_files: [ALERT_RULES],
      scrape_configs: scrapeConfigs(
        cluster.kubeconfigPath,
        namespaces,
        writeClientCertificate(cluster.kubeconfigPath, dir),
      ),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ManagedProcess = startProcess(
    'prometheus',
    goTool('prometheus'),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    join(dir, 'prometheus.log'),
  );
  await waitUntil('Prometheus ready', async () => (await fetch(`${url}/-/ready`)).ok, proc, 60_000);
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) =>
      (await api<{ result: Series[] }>(`query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: Alert[] }>('alerts')).alerts,
    targetsUp: async (job) => {
      const data = await api<{ activeTargets: { labels: Record<string, string>; health: string }[] }>(
        'targets?state=active',
      );
      return data.activeTargets.filter((t) => t.labels.job === job && t.health === 'up').length;
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
