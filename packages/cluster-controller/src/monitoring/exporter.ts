/**
 * Each instance pod's metrics container: prometheus-community's postgres_exporter from the
 * PostgreSQL image, reaching PostgreSQL over the pod's local socket as MONITOR_ROLE (a member of
 * pg_monitor: it reads statistics and settings, never table data) and serving /metrics over
 * HTTPS with the instance's certificate. Patroni's own metrics are on its API port (/metrics).
 * What each metric means and which alerts use it: docs/monitoring.md. Pure.
 */
import type { V1Container } from '@kubernetes/client-node';
import { METRICS_CONTAINER, METRICS_PORT, MONITOR_ROLE } from '@pgop/api';
import { stringify } from 'yaml';
import { SOCKET_DIR } from '../instance-paths.js';
import { PATRONI_CONFIG_DIR } from '../patroni/config.js';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../render/security-context.js';
import { CLUSTER_TLS_DIR, clusterTlsFile } from '../tls/cluster-certificates.js';

/** The exporter's web configuration (exporter-toolkit's format), a key of the Patroni ConfigMap. */
export const EXPORTER_WEB_CONFIG_KEY = 'exporter-web.yml';

/** TLS with the instance certificate, which the toolkit reads again on each handshake (renewals). */
export function exporterWebConfig(): string {
  return stringify({
    tls_server_config: { cert_file: clusterTlsFile('certificate'), key_file: clusterTlsFile('key') },
  });
}

/**
 * Collectors beyond the exporter's defaults: transaction-ID age per database (wraparound),
 * long-running transactions, the WAL receiver of replicas, and the postmaster's start time.
 */
const EXTRA_COLLECTORS = [
  'database_wraparound',
  'long_running_transactions',
  'stat_wal_receiver',
  'postmaster',
];

export function metricsContainer(image: string): V1Container {
  return {
    name: METRICS_CONTAINER,
    image,
    command: [
      'postgres_exporter',
      `--web.listen-address=:${METRICS_PORT}`,
      `--web.config.file=${PATRONI_CONFIG_DIR}/${EXPORTER_WEB_CONFIG_KEY}`,
      ...EXTRA_COLLECTORS.map((c) => `--collector.${c}`),
      '--log.format=json',
    ],
    env: [
      {
        name: 'DATA_SOURCE_NAME',
        value: `host=${SOCKET_DIR} user=${MONITOR_ROLE} dbname=postgres sslmode=disable application_name=pgop-metrics`,
      },
    ],
    ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
    // Small and bounded: a misbehaving exporter must not take memory from PostgreSQL.
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
    securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    volumeMounts: [
      { name: 'patroni-config', mountPath: PATRONI_CONFIG_DIR, readOnly: true },
      { name: 'tls', mountPath: CLUSTER_TLS_DIR, readOnly: true },
      { name: 'run', mountPath: SOCKET_DIR },
    ],
  };
}
