/**
 * The integration harness: a real etcd and kube-apiserver on loopback, like controller-runtime's
 * envtest. No kubelet, scheduler or controller-manager: objects are stored and validated, but
 * nothing runs. Each call starts a fresh pair in a temporary directory; stop() removes it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { kubeBinaries } from './paths.js';
import { freePort } from './ports.js';
import { startProcess, waitUntil, type ManagedProcess } from './processes.js';

export interface TestApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** A kubeconfig file for kubectl, authenticated as a member of system:masters. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  binDir: string;
  stop(): Promise<void>;
}

function httpsGet(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function startApiServer(): Promise<TestApiServer> {
  const binDir = kubeBinaries('etcd', 'kube-apiserver', 'kubectl');
  const dir = mkdtempSync(join(tmpdir(), 'pgop-envtest-'));
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of started.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = startProcess(
      'etcd',
      join(binDir, 'etcd'),
      [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );
    started.push(etcd);
    await waitUntil('etcd health', async () => (await fetch(`${etcdUrl}/health`)).ok, etcd);

    // Service-account tokens need a signing key; the server generates its own serving cert in cert-dir.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},pgop-test-admin,pgop-test-admin,"system:masters"\n`);
    mkdirSync(join(dir, 'certs'));

    const apiserver = startProcess(
      'kube-apiserver',
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${join(dir, 'certs')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        // A /16: room for the 500 clusters (two Services each) of bench:scale.
        '--service-cluster-ip-range=10.96.0.0/16',
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        // Without a controller-manager nobody creates the default ServiceAccount this plugin waits for.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--v=1',
      ],
      join(dir, 'kube-apiserver.log'),
    );
    started.push(apiserver);
    const url = `https://127.0.0.1:${apiPort}`;
    await waitUntil(
      'kube-apiserver /readyz',
      async () => (await httpsGet(`${url}/readyz`, token)) === 200,
      apiserver,
      90_000,
    );

    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'envtest', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'admin', namespace: 'default' } }],
      'current-context': 'envtest',
    };
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return { url, kubeconfigPath, kubeConfig, binDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
