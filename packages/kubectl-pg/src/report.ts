/**
 * `kubectl pg report`: a support bundle of one cluster, as a directory (and a .tar.gz of it):
 * its objects, the children pgop made, events, and every container's logs, current and previous.
 * Secrets are kept with their keys and every value redacted; text is swept for passwords that
 * slipped into it. What goes in, and how it is redacted, is pure; writing it is not.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLUSTER_LABEL } from '@pgop/api';
import type { Kubectl } from './kubectl.js';
import { instanceSelector, type Pod } from './status.js';

export const REDACTED = '<redacted>';

interface Secret {
  metadata: Record<string, unknown> & { annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** A Secret with its keys and metadata but no value (nor the last applied configuration, which repeats them). */
export function redactSecret<T extends Secret>(secret: T): T {
  const annotations = { ...secret.metadata.annotations };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  const blank = (data?: Record<string, string>) =>
    data && Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED]));
  const meta = { ...secret.metadata, annotations };
  delete (meta as { managedFields?: unknown }).managedFields;
  return {
    ...secret,
    metadata: meta,
    ...(secret.data ? { data: blank(secret.data) } : {}),
    ...(secret.stringData ? { stringData: blank(secret.stringData) } : {}),
  };
}

/**
 * Passwords in free text (logs, events): PASSWORD '...' in SQL, password=... in connection
 * strings and key=value lines, user:password@ in URIs, and the given Secret values verbatim.
 */
export function redactText(text: string, secretValues: string[] = []): string {
  let out = text
    .replace(/(PASSWORD\s+)'(?:[^']|'')*'/gi, `$1'${REDACTED}'`)
    .replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)/gi, `$1${REDACTED}`)
    .replace(/(\/\/[^:/@\s]+:)[^@\s]+@/g, `$1${REDACTED}@`);
  for (const value of secretValues.filter((v) => v.length >= 6).sort((a, b) => b.length - a.length))
    out = out.split(value).join(REDACTED);
  return out;
}

/** Keys whose values are credentials (not user names, hosts or ports, which logs are full of). */
const CREDENTIAL_KEY = /password|secret|token|key|uri|pgpass/i;

/** The credentials among the Secrets' values, decoded, to sweep out of logs and events. */
export function secretValues(secrets: Secret[]): string[] {
  return secrets.flatMap((s) =>
    Object.entries(s.data ?? {})
      .filter(([key]) => CREDENTIAL_KEY.test(key))
      .map(([, v]) => Buffer.from(v, 'base64').toString('utf8')),
  );
}

/** The kinds pgop makes for a cluster, found by its cluster label. */
const LABELLED_KINDS = [
  'statefulsets',
  'pods',
  'services',
  'configmaps',
  'persistentvolumeclaims',
  'jobs',
  'cronjobs',
  'poddisruptionbudgets',
  'networkpolicies',
  'deployments',
];

export function writeReport(
  kubectl: Kubectl,
  cluster: string,
  dir: string,
): { dir: string; archive?: string } {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const save = (name: string, content: unknown) =>
    writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
  const selector = `${CLUSTER_LABEL}=${cluster}`;

  save('postgrescluster.yaml', kubectl.json(['get', 'postgrescluster', cluster]));
  const backups = kubectl.list<{ spec: { clusterName: string } }>('postgresbackups');
  save(
    'postgresbackups.yaml',
    backups.filter((b) => b.spec.clusterName === cluster),
  );
  save('postgresrestores.yaml', kubectl.list('postgresrestores'));
  for (const kind of LABELLED_KINDS) save(`${kind}.yaml`, kubectl.list(kind, { selector }));
  const secrets = kubectl.list<Secret>('secrets', { selector });
  save('secrets.yaml', secrets.map(redactSecret));
  const values = secretValues(secrets);
  save('events.txt', redactText(kubectl.run(['get', 'events', '--sort-by=.lastTimestamp']), values));

  for (const pod of kubectl.list<Pod & { spec: { containers: { name: string }[] } }>('pods', { selector })) {
    for (const { name: container } of pod.spec.containers)
      for (const previous of [false, true]) {
        const res = spawnSync(
          'kubectl',
          [
            ...kubectl.baseArgs(),
            'logs',
            pod.metadata.name,
            '-c',
            container,
            ...(previous ? ['--previous'] : []),
          ],
          {
            encoding: 'utf8',
            maxBuffer: 256 << 20,
          },
        );
        if (res.status === 0 && res.stdout)
          save(
            `logs/${pod.metadata.name}_${container}${previous ? '_previous' : ''}.log`,
            redactText(res.stdout, values),
          );
      }
  }
  save(
    'README.txt',
    `pgop support bundle of PostgresCluster ${cluster} (instances: ${instanceSelector(cluster)}), written ${new Date().toISOString()}.\nSecret values are redacted (${REDACTED}); logs and events are swept for passwords.\n`,
  );
  const archive = `${dir}.tar.gz`;
  const tar = spawnSync('tar', ['-czf', archive, '-C', join(dir, '..'), dir.split('/').at(-1)!]);
  return tar.status === 0 ? { dir, archive } : { dir };
}
