/**
 * `npm run demo` (and `npm start`): the main job, end to end. Brings up the local Kubernetes
 * unless $KUBECONFIG names a cluster, installs the operator with Helm, creates the 3-instance
 * cluster of examples/basic-cluster.yaml in namespace pgop-demo, shows its progression until
 * Ready, writes and reads a row through <name>-primary, and prints how to connect. On the local
 * Kubernetes the cluster also archives to its S3 server (MinIO), so the backups demo
 * (examples/backup-schedule.yaml) works on it as written.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { kubectl, kubectlOk } from './harness/kubectl.js';
import { localCluster, RESTRICTED, type LocalCluster } from './harness/local-cluster.js';
import { copyLocalS3Credentials, localS3Backup } from './harness/local-s3.js';
import { installOperator, OPERATOR_NAMESPACE } from './harness/operator.js';
import { kubeBinaries, REPO_ROOT } from './harness/paths.js';

const NAMESPACE = 'pgop-demo';
const step = (text: string) => console.log(`\n== ${text}`);

function targetCluster(): LocalCluster {
  if (process.env.KUBECONFIG) {
    step(`Using the cluster of KUBECONFIG=${process.env.KUBECONFIG}`);
    return { binDir: kubeBinaries('kubectl'), kubeconfigPath: process.env.KUBECONFIG };
  }
  step('Bringing up the local Kubernetes (npm run cluster:up; the first run builds everything, ~15 minutes)');
  execFileSync('bash', [join(REPO_ROOT, 'e2e/cluster/up.sh')], { stdio: 'inherit' });
  return localCluster();
}

const cluster = targetCluster();
const k = (...args: string[]) => kubectlOk(cluster, ['-n', NAMESPACE, ...args]);
const kubectlPath = join(cluster.binDir, 'kubectl');

step(`Installing the operator with Helm into ${OPERATOR_NAMESPACE}`);
installOperator(cluster, { rollOnImageChange: !process.env.KUBECONFIG });
console.log(kubectlOk(cluster, ['-n', OPERATOR_NAMESPACE, 'get', 'deployments']));

step(
  `Creating the cluster of examples/basic-cluster.yaml in namespace ${NAMESPACE} (restricted Pod Security)`,
);
const manifest = parse(readFileSync(join(REPO_ROOT, 'examples/basic-cluster.yaml'), 'utf8')) as {
  metadata: { name: string };
};
const name = manifest.metadata.name;
kubectlOk(
  cluster,
  ['apply', '--server-side', '-f', '-'],
  JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: RESTRICTED } }),
);
const local = !process.env.KUBECONFIG;
if (local) {
  copyLocalS3Credentials(cluster, NAMESPACE, 's3-credentials');
  // A repository per demo namespace: a cluster made again under the same name must not meet the
  // stanza of the one before (pgBackRest refuses it: StanzaCreateFailed, docs/backup.md).
  const namespaceUid = kubectlOk(cluster, ['get', 'namespace', NAMESPACE, '-o', 'jsonpath={.metadata.uid}']);
  (manifest as { spec?: Record<string, unknown> }).spec!.backup = localS3Backup(
    cluster,
    NAMESPACE,
    's3-credentials',
    {
      path: `/pgbackrest/${NAMESPACE}-${namespaceUid.slice(0, 8)}/${name}`,
    },
  );
  console.log('with spec.backup: WAL archiving to the local S3 server (bucket pgop-test)');
}
console.log(kubectlOk(cluster, ['-n', NAMESPACE, 'apply', '-f', '-'], JSON.stringify(manifest)).trim());

step(`kubectl get pgc ${name} -w`);
const started = Date.now();
let last = '';
for (;;) {
  const line = k('get', 'pgc', name, '--no-headers').trim().replace(/\s+/g, '   ');
  if (line !== last) console.log(line);
  last = line;
  if (
    kubectl(cluster, ['-n', NAMESPACE, 'wait', '--for=condition=Ready', `pgc/${name}`, '--timeout=1s'])
      .code === 0
  )
    break;
  if (Date.now() - started > 600_000)
    throw new Error(`${name} not Ready after 10 minutes:\n${k('describe', 'pgc', name)}`);
  await sleep(1000);
}
console.log(k('get', 'pgc', name, '--no-headers').trim().replace(/\s+/g, '   '));
console.log(`Ready after ${Math.round((Date.now() - started) / 1000)} s`);

step(`Writing through ${name}-primary as the application role (Secret ${name}-app) and reading it back`);
const primary = k('get', 'pgc', name, '-o', 'jsonpath={.status.primaryPod}');
// pgop makes the role once the primary is ready; its Secret then records the applied password.
while (
  !k('get', 'secret', `${name}-app`, '-o', 'jsonpath={.metadata.annotations}').includes('password-applied')
)
  await sleep(1000);
const uri = Buffer.from(k('get', 'secret', `${name}-app`, '-o', 'jsonpath={.data.uri}'), 'base64').toString();
// A client pod of its own would do the same; the primary's pod has psql already, and the
// cluster's CA (the Secret's ca.crt) at /etc/pgop/tls/ca.crt, which verify-full needs.
const psql = (statement: string) =>
  k('exec', primary, '--', 'psql', `${uri}&sslrootcert=/etc/pgop/tls/ca.crt`, '-XAtc', statement).trim();
psql('CREATE TABLE IF NOT EXISTS demo (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
psql('INSERT INTO demo DEFAULT VALUES');
console.log(`rows in demo: ${psql('SELECT count(*) FROM demo')}; primary: ${primary}`);

console.log(`
${name} is running: one primary and two streaming replicas under Patroni.
Connect:
  export KUBECONFIG=${cluster.kubeconfigPath}
  ${kubectlPath} -n ${NAMESPACE} get pgc,pods
  ${kubectlPath} -n ${NAMESPACE} port-forward svc/${name}-primary 5432:5432 &
  ${kubectlPath} -n ${NAMESPACE} get secret ${name}-app -o jsonpath='{.data.ca\\.crt}' | base64 -d > ca.crt
  PGPASSWORD=$(${kubectlPath} -n ${NAMESPACE} get secret ${name}-app -o jsonpath='{.data.password}' | base64 -d) \\
    psql "host=localhost user=app dbname=app sslmode=verify-full sslrootcert=ca.crt"
Applications mount Secret ${name}-app (keys uri, jdbc-uri, host, port, dbname, username, password,
ca.crt); the server takes TLS connections only (docs/clusters.md, "The application role").
Read-only queries: service ${name}-replica. Inside the cluster: ${name}-primary.${NAMESPACE}.svc:5432.${
  local
    ? `
Backups (docs/backup.md):
  ${kubectlPath} -n ${NAMESPACE} apply -f examples/backup-schedule.yaml
  ${kubectlPath} -n ${NAMESPACE} annotate postgresbackup my-cluster-backup backup.postgres.example.com/trigger=now
  ${kubectlPath} -n ${NAMESPACE} get postgresbackup -w
  ${kubectlPath} -n ${NAMESPACE} exec ${name}-0 -- pgbackrest info
  ${kubectlPath} -n ${NAMESPACE} annotate postgresbackup my-cluster-backup backup.postgres.example.com/verify=now
Restore (docs/restore.md; set the target time in the file first):
  ${kubectlPath} -n ${NAMESPACE} apply -f examples/restore-pitr.yaml
  ${kubectlPath} -n ${NAMESPACE} get postgresrestore -w`
    : ''
}
Remove the demo: ${kubectlPath} delete namespace ${NAMESPACE}; the local Kubernetes: npm run cluster:down`);
