/**
 * `npm start`: shows what pgop does today on a real API server. It starts the integration
 * harness's etcd + kube-apiserver, installs the CRDs, applies the example cluster, shows a bad
 * spec refused at apply time, and prints `kubectl get`. No controller runs yet, so nothing
 * creates pods: the cluster stays Pending (see README, "What works today").
 * With a terminal it keeps the API server up until Ctrl-C; `--once` (or no terminal) stops at once.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startApiServer } from './envtest.js';
import { kubectl, kubectlOk } from './kubectl.js';
import { REPO_ROOT } from './paths.js';

const step = (text: string) => console.log(`\n== ${text}`);

step(
  'Starting etcd and kube-apiserver (the pinned binaries are built on first use; that takes a few minutes)',
);
const server = await startApiServer();
const run = (args: string[], input?: string) => {
  console.log(`$ kubectl ${args.join(' ')}`);
  const res = kubectl(server, args, input);
  process.stdout.write(res.stdout + res.stderr);
  return res;
};

step('Installing the CRDs');
run(['apply', '--server-side', '-f', join(REPO_ROOT, 'crds')]);
kubectlOk(server, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);

step('Creating the example cluster');
run(['apply', '-f', join(REPO_ROOT, 'examples/basic-cluster.yaml')]);
run(['apply', '-f', join(REPO_ROOT, 'examples/backup-schedule.yaml')]);

step('A bad spec is refused at apply time, naming the field and the allowed values');
const bad = {
  apiVersion: 'postgres.example.com/v1',
  kind: 'PostgresCluster',
  metadata: { name: 'bad-cluster' },
  spec: { version: 13, replicas: 1, storage: { size: '10Gi' } },
};
console.log(stringify(bad).trimEnd());
run(['apply', '-f', '-'], stringify(bad));

step('What kubectl shows');
run(['get', 'postgrescluster']);
run(['get', 'postgresbackup']);

console.log(`
pgop today is its API: the CRDs above, validated by the API server. No controller creates
pods yet, so the cluster stays Pending.`);

if (process.stdin.isTTY && !process.argv.includes('--once')) {
  console.log(`Try it yourself while this runs (Ctrl-C stops it):
  export KUBECONFIG=${server.kubeconfigPath}
  ${join(server.binDir, 'kubectl')} explain pgc.spec`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
} else {
  console.log('(Run `npm start` in a terminal to keep the API server up and try kubectl yourself.)');
}
await server.stop();
