/**
 * Smoke test of the local Kubernetes (npm run cluster:up): what the operator's end-to-end tests
 * rely on. Pods from our PostgreSQL image run under the `restricted` Pod Security Standard, get
 * IPs, resolve cluster names, reach the API server and each other through Services, are held to
 * NetworkPolicies, keep their volumes across restarts, and read and write the S3 bucket.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DRILL_NODE,
  DRILL_NODE_TOLERATION,
  MAIN_NODE,
  REPO_ROOT,
  RESTRICTED_CONTAINER,
  TestNamespace,
  goTool,
  kubectlOk,
  localCluster,
  copyLocalS3Credentials,
  LOCAL_S3,
} from '../src/harness/index.js';

/** The image of the utility pods below. */
const POSTGRES_IMAGE = 'localhost/pgop/postgres:17';
const OPERATOR_IMAGE = 'localhost/pgop/operator:dev';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A container of the PostgreSQL image running a bash script. */
function scriptContainer(script: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'main',
    image: POSTGRES_IMAGE,
    imagePullPolicy: 'Never',
    command: ['bash', '-euc', script],
    securityContext: RESTRICTED_CONTAINER,
    ...extra,
  };
}

/** A pod that runs one script to completion. */
function scriptPod(name: string, script: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: { restartPolicy: 'Never', containers: [scriptContainer(script, extra)] },
  };
}

describe('local cluster', () => {
  let ns: TestNamespace;

  before(() => {
    ns = new TestNamespace(localCluster(), 'smoke');
  });
  after(() => ns?.delete());

  it('has two Ready nodes, the second tainted so only the lost-node drill runs there', () => {
    const nodes = JSON.parse(kubectlOk(ns.cluster, ['get', 'nodes', '-o', 'json'])) as {
      items: {
        metadata: { name: string };
        spec: { taints?: { key: string; effect: string }[] };
        status: { conditions: { type: string; status: string }[] };
      }[];
    };
    assert.deepEqual(
      nodes.items.map((n) => [
        n.metadata.name,
        n.status.conditions.find((c) => c.type === 'Ready')?.status,
        (n.spec.taints ?? []).map((t) => `${t.key}:${t.effect}`).join(','),
      ]),
      [
        [MAIN_NODE, 'True', ''],
        [DRILL_NODE, 'True', `${DRILL_NODE_TOLERATION.key}:NoSchedule`],
      ],
    );
  });

  for (const major of [14, 15, 16, 17, 18]) {
    it(`runs our PostgreSQL ${major} image under the restricted Pod Security Standard`, async () => {
      const pod = `postgres-${major}-version`;
      const script = 'postgres --version; patroni --version; pgbackrest version; id -u';
      ns.apply(scriptPod(pod, script, { image: `localhost/pgop/postgres:${major}` }));
      const out = await ns.podOutput(pod);
      assert.match(out, new RegExp(`^postgres \\(PostgreSQL\\) ${major}\\.\\d+`, 'm'));
      assert.match(out, /^patroni 4\./m);
      // 2.55 or later: backups into a PVC repository (through its repository host) need it.
      assert.match(out, /^pgBackRest 2\.(5[5-9]|[6-9]\d)/m);
      assert.match(out, /^999$/m, 'runs as the non-root postgres uid');
    });
  }

  it('enforces the restricted Pod Security Standard in the test namespace', () => {
    const res = ns.tryApply(scriptPod('privileged', 'true', { securityContext: { privileged: true } }));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /violates PodSecurity "restricted:latest"/);
  });

  it('gives pods IPs, cluster DNS and the API server through the kubernetes Service', async () => {
    ns.apply(
      scriptPod(
        'dns-and-api',
        [
          'getent hosts kubernetes.default.svc.cluster.local',
          `curl -sS --cacert ${SERVICE_ACCOUNT_DIR}/ca.crt -o /dev/null -w 'pods %{http_code}\\n' ` +
            `-H "Authorization: Bearer $(cat ${SERVICE_ACCOUNT_DIR}/token)" ` +
            `https://kubernetes.default.svc.cluster.local/api/v1/namespaces/$(cat ${SERVICE_ACCOUNT_DIR}/namespace)/pods`,
          `curl -fsS --cacert ${SERVICE_ACCOUNT_DIR}/ca.crt https://kubernetes.default.svc.cluster.local/version`,
        ].join('\n'),
      ),
    );
    const out = await ns.podOutput('dns-and-api');
    assert.match(
      out,
      /^10\.96\.0\.1\s+kubernetes\.default\.svc\.cluster\.local/m,
      'the Service IP, from CoreDNS',
    );
    // The token was authenticated, and RBAC does not let the default ServiceAccount list pods.
    assert.match(out, /^pods 403$/m);
    assert.match(out, /"gitVersion": "v1\.36\.\d+"/);
    assert.match(ns.k('get', 'pod', 'dns-and-api', '-o', 'jsonpath={.status.podIP}'), /^10\.244\.\d+\.\d+$/);
  });

  /**
   * A pod serving a random token over HTTP behind Service <name>, and a client pod that fetches
   * it through the Service; returns the token and what the client got.
   */
  async function serveThroughService(name: string, podSpec: Record<string, unknown> = {}) {
    const token = randomBytes(8).toString('hex');
    ns.apply(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: name } },
        spec: {
          ...podSpec,
          containers: [
            scriptContainer(
              `mkdir -p /tmp/www && echo ${token} > /tmp/www/index.html && exec python3 -m http.server -d /tmp/www 8080`,
              {
                ports: [{ containerPort: 8080 }],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ),
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name },
        spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    );
    ns.k('wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s');
    ns.apply(
      scriptPod(
        `${name}-client`,
        `curl -fsS --retry 10 --retry-all-errors --retry-delay 1 http://${name}.${ns.name}.svc.cluster.local/`,
      ),
    );
    // kube-proxy programs the new endpoint a moment after the pod is Ready: curl retries, and
    // the log ends with the page.
    const fetched = (await ns.podOutput(`${name}-client`)).trim().split('\n').at(-1);
    return { token, fetched };
  }

  it('routes a Service to a pod on the same node, also back to the serving pod itself', async () => {
    const { token, fetched } = await serveThroughService('web');
    assert.equal(fetched, token);
    // Hairpin: the serving pod reaches itself through its own Service (the full name: in the pod
    // itself, `web` is its own hostname).
    assert.equal(
      ns.k('exec', 'web', '--', 'curl', '-fsS', `http://web.${ns.name}.svc.cluster.local/`).trim(),
      token,
    );
  });

  it('routes between pods on the two nodes, through a Service and without masquerading', async () => {
    const { token, fetched } = await serveThroughService('web2', {
      nodeSelector: { 'kubernetes.io/hostname': DRILL_NODE },
      tolerations: [DRILL_NODE_TOLERATION],
    });
    assert.equal(fetched, token);
    const [clientNode, clientIp] = ns
      .k('get', 'pod', 'web2-client', '-o', 'jsonpath={.spec.nodeName} {.status.podIP}')
      .split(' ');
    assert.equal(clientNode, MAIN_NODE, 'a pod without the toleration stays off the drill node');
    // http.server logs each request's source address: the client pod's own IP.
    assert.match(ns.k('logs', 'web2'), new RegExp(`^${clientIp!.replaceAll('.', '\\.')} .*GET / `, 'm'));
  });

  it('enforces NetworkPolicy on both nodes: a pod the policy lets in connects, any other does not', async () => {
    // web (node 1) and web2 (node 2) serve their tokens since the tests above.
    const tokens = Object.fromEntries(
      ['web', 'web2'].map((name) => [name, ns.k('exec', name, '--', 'cat', '/tmp/www/index.html').trim()]),
    );
    const client = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { containers: [scriptContainer('exec sleep infinity')], terminationGracePeriodSeconds: 0 },
    });
    ns.apply(client('let-in', { role: 'let-in' }), client('kept-out', { role: 'other' }));
    for (const pod of ['let-in', 'kept-out']) await ns.waitForPhase(pod, ['Running'], 120);
    const fetch = (from: string, service: string, retries = 0) =>
      ns.try(
        'exec',
        from,
        '--',
        'curl',
        '-fsS',
        '-m',
        '5',
        ...(retries > 0 ? ['--retry', String(retries), '--retry-all-errors', '--retry-delay', '1'] : []),
        `http://${service}.${ns.name}.svc.cluster.local/`,
      );
    ns.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web' },
      spec: {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'web2'] }] },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'let-in' } } }], ports: [{ port: 8080 }] }],
      },
    });
    try {
      for (const service of ['web', 'web2']) {
        // Retries: the enforcer learns a new pod's IP from the API server, a moment after it runs.
        assert.equal(fetch('let-in', service, 10).stdout.trim(), tokens[service], `let-in → ${service}`);
        const refused = fetch('kept-out', service);
        assert.notEqual(refused.code, 0, `kept-out → ${service} must be refused`);
        assert.match(refused.stderr, /timed out/, 'dropped, as a policy drops');
      }
    } finally {
      ns.k('delete', 'networkpolicy', 'web');
    }
    // Without the policy the same pod connects: it was the policy that kept it out.
    assert.equal(fetch('kept-out', 'web', 10).stdout.trim(), tokens.web);
  });

  it('keeps a StatefulSet pod’s volume across a pod restart', async () => {
    const token = randomBytes(8).toString('hex');
    ns.apply({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'store' },
      spec: {
        serviceName: 'store',
        replicas: 1,
        selector: { matchLabels: { app: 'store' } },
        template: {
          metadata: { labels: { app: 'store' } },
          spec: {
            securityContext: { fsGroup: 999 },
            terminationGracePeriodSeconds: 1,
            containers: [
              scriptContainer('[ -f /data/token ] || echo "$TOKEN" > /data/token; exec sleep infinity', {
                env: [{ name: 'TOKEN', value: token }],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              }),
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    });
    ns.k('rollout', 'status', 'statefulset/store', '--timeout=180s');
    const uid = ns.k('get', 'pod', 'store-0', '-o', 'jsonpath={.metadata.uid}');
    ns.k('delete', 'pod', 'store-0', '--wait=true');
    ns.k('rollout', 'status', 'statefulset/store', '--timeout=180s');
    ns.k('wait', '--for=condition=Ready', 'pod/store-0', '--timeout=120s');
    assert.notEqual(ns.k('get', 'pod', 'store-0', '-o', 'jsonpath={.metadata.uid}'), uid, 'a new pod');
    assert.equal(ns.k('exec', 'store-0', '--', 'cat', '/data/token').trim(), token);
    assert.equal(ns.k('get', 'pvc', 'data-store-0', '-o', 'jsonpath={.status.phase}'), 'Bound');
  });

  it('writes to and reads from the S3 bucket from a pod', async () => {
    // The tests' copy of the S3 credentials; the CA is the cluster's, published in every namespace.
    copyLocalS3Credentials(ns.cluster, ns.name, 's3-credentials');
    const key = `smoke/${ns.name}/object.txt`;
    const body = randomBytes(16).toString('hex');
    const url = `${LOCAL_S3.endpoint}/${LOCAL_S3.bucket}/${key}`;
    const curl = `curl -fsS --cacert ${SERVICE_ACCOUNT_DIR}/ca.crt --aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"`;
    ns.apply(
      scriptPod(
        's3-client',
        [
          `echo -n ${body} > /tmp/object`,
          `${curl} -T /tmp/object ${url}`,
          `${curl} ${url}`,
          'echo',
          `${curl} -X DELETE ${url}`,
        ].join('\n'),
        { envFrom: [{ secretRef: { name: 's3-credentials' } }] },
      ),
    );
    assert.equal((await ns.podOutput('s3-client')).trim(), body);
  });

  it('installs and uninstalls a chart with the Helm built from the Go module proxy', () => {
    const helm = (...args: string[]) =>
      execFileSync(goTool('helm'), ['--kubeconfig', ns.cluster.kubeconfigPath, '-n', ns.name, ...args], {
        encoding: 'utf8',
      });
    const message = randomBytes(8).toString('hex');
    helm(
      'install',
      'smoke',
      join(REPO_ROOT, 'e2e/end-to-end/fixtures/smoke-chart'),
      '--set',
      `message=${message}`,
      '--wait',
    );
    assert.equal(ns.k('get', 'configmap', 'smoke-message', '-o', 'jsonpath={.data.message}'), message);
    assert.match(helm('list', '-o', 'json'), /"name":"smoke".*"status":"deployed"/);
    helm('uninstall', 'smoke', '--wait');
    assert.notEqual(ns.try('get', 'configmap', 'smoke-message').code, 0, 'uninstall removed the ConfigMap');
  });

  it('runs both controllers from the operator image, non-root on Node.js 24', async () => {
    const probe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 };
    const controller = (name: string, main: string) => ({
      name,
      image: OPERATOR_IMAGE,
      imagePullPolicy: 'Never',
      args: [main],
      env: [
        { name: 'HEALTH_PORT', value: name === 'cluster' ? '8080' : '8081' },
        // What the Helm chart gives the backup controller for its Jobs.
        { name: 'PGOP_JOB_IMAGE', value: OPERATOR_IMAGE },
        { name: 'PGOP_BACKUP_JOB_CLUSTER_ROLE', value: 'pgop-backup-job' },
      ],
      securityContext: RESTRICTED_CONTAINER,
      readinessProbe: name === 'cluster' ? probe : { ...probe, httpGet: { ...probe.httpGet, port: 8081 } },
    });
    ns.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'operator' },
      spec: {
        containers: [
          controller('cluster', 'packages/cluster-controller/dist/src/main.js'),
          controller('backup', 'packages/backup-controller/dist/src/main.js'),
        ],
      },
    });
    ns.k('wait', '--for=condition=Ready', 'pod/operator', '--timeout=120s');
    const version = ns.k(
      'exec',
      'operator',
      '-c',
      'cluster',
      '--',
      'node',
      '-p',
      'process.version + " " + process.getuid()',
    );
    assert.match(version.trim(), /^v24\.\d+\.\d+ 65532$/);
    assert.match(ns.k('logs', 'operator', '-c', 'backup'), /"component":"backup-controller"/);
  });
});
