/**
 * The Helm chart: it lints, renders what an install needs, refuses bad values naming the field,
 * and gives each controller's ServiceAccount only what that controller needs (checked by the
 * API server's RBAC authorizer with `kubectl auth can-i --as`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  REPO_ROOT,
  eventually,
  goTool,
  kubectl,
  prometheusOperatorCrds,
  kubectlOk,
  startApiServer,
  type TestApiServer,
} from '../src/harness/index.js';

const CHART = join(REPO_ROOT, 'charts/pgop');
const NS = 'pgop-system';

function helm(...args: string[]) {
  const res = spawnSync(goTool('helm'), args, { encoding: 'utf8' });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

function render(...set: string[]) {
  const res = helm('template', 'pgop', CHART, '--namespace', NS, ...set.flatMap((s) => ['--set', s]));
  assert.equal(res.code, 0, res.stderr);
  return parseAllDocuments(res.stdout)
    .map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> } | null,
    )
    .filter((d) => d !== null);
}

describe('Helm chart', () => {
  let server: TestApiServer;

  before(async () => {
    server = await startApiServer();
    kubectlOk(server, ['create', 'namespace', NS]);
    kubectlOk(server, ['apply', '--server-side', '-f', join(CHART, 'crds')]);
    const rendered = helm('template', 'pgop', CHART, '--namespace', NS);
    kubectlOk(server, ['apply', '--server-side', '-f', '-'], rendered.stdout);
  });
  after(async () => server?.stop());

  it('passes helm lint', () => {
    const res = helm('lint', CHART, '--strict');
    assert.equal(res.code, 0, res.stdout + res.stderr);
  });

  it('renders the two controllers as separate Deployments with their own ServiceAccounts', () => {
    const docs = render();
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [
      'pgop-backup-controller',
      'pgop-cluster-controller',
    ]);
    for (const d of deployments) {
      const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      assert.equal(pod.serviceAccountName, d.metadata.name);
      const [container] = pod.containers as {
        args: string[];
        env: { name: string; value?: string }[];
        securityContext: Record<string, unknown>;
      }[];
      assert.match(
        container!.args[0]!,
        new RegExp(`packages/${d.metadata.name.replace('pgop-', '')}/dist/src/main.js`),
      );
      assert.equal(container!.securityContext.allowPrivilegeEscalation, false);
      assert.equal(
        container!.env.find((e) => e.name === 'PGOP_POSTGRES_IMAGES')?.value,
        '14=localhost/pgop/postgres:14,15=localhost/pgop/postgres:15,16=localhost/pgop/postgres:16,17=localhost/pgop/postgres:17,18=localhost/pgop/postgres:18',
      );
    }
    assert.equal(docs.filter((d) => d.kind === 'ServiceAccount').length, 2);
  });

  it('takes image and resource settings', () => {
    const docs = render(
      'image.repository=registry.example/pgop',
      'image.tag=1.2.3',
      'clusterController.resources.limits.memory=1Gi',
      'clusterController.deletionWaitSeconds=600',
    );
    const cluster = docs.find(
      (d) => d.metadata.name === 'pgop-cluster-controller' && d.kind === 'Deployment',
    )!;
    const container = (
      cluster.spec as {
        template: {
          spec: {
            containers: {
              image: string;
              resources: { limits: { memory: string } };
              env: { name: string; value?: string }[];
            }[];
          };
        };
      }
    ).template.spec.containers[0]!;
    assert.equal(container.image, 'registry.example/pgop:1.2.3');
    assert.equal(container.resources.limits.memory, '1Gi');
    assert.equal(container.env.find((e) => e.name === 'PGOP_DELETION_WAIT_SECONDS')?.value, '600');
  });

  it('renders PodMonitors, a PrometheusRule and the dashboard that the real CRDs and API server accept', () => {
    for (const crd of prometheusOperatorCrds('podmonitors', 'prometheusrules'))
      kubectlOk(server, ['apply', '--server-side', '-f', crd]);
    kubectlOk(server, [
      'wait',
      '--for=condition=Established',
      'crd/podmonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
    ]);
    const values = [
      'monitoring.podMonitors.enabled=true',
      'monitoring.prometheusRule.enabled=true',
      'monitoring.grafanaDashboard.enabled=true',
      'monitoring.runbookBaseURL=https://wiki.example/pgop/runbooks/',
      'monitoring.labels.release=prometheus',
    ];
    const res = helm('template', 'pgop', CHART, '--namespace', NS, ...values.flatMap((v) => ['--set', v]));
    assert.equal(res.code, 0, res.stderr);
    const monitoring = parseAllDocuments(res.stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string; labels: Record<string, string> } })
      .filter(
        (d) => ['PodMonitor', 'PrometheusRule'].includes(d?.kind) || d?.metadata.name.endsWith('dashboard'),
      );
    assert.deepEqual(monitoring.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      'ConfigMap/pgop-grafana-dashboard',
      'PodMonitor/pgop-controllers',
      'PodMonitor/pgop-pgbouncer',
      'PodMonitor/pgop-postgresql',
      'PrometheusRule/pgop-alerts',
    ]);
    for (const d of monitoring.filter((d) => d.kind !== 'ConfigMap'))
      assert.equal(d.metadata.labels.release, 'prometheus');
    const rule = JSON.stringify(monitoring.find((d) => d.kind === 'PrometheusRule'));
    assert.match(rule, /"runbook_url":"https:\/\/wiki.example\/pgop\/runbooks\/PgopClusterNoPrimary.md"/);
    // The API server checks them against the CRDs' schemas (a dry run: nothing is created).
    const applied = kubectl(
      server,
      ['apply', '--server-side', '--dry-run=server', '-n', NS, '-f', '-'],
      res.stdout,
    );
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /podmonitor.monitoring.coreos.com\/pgop-postgresql serverside-applied/);
    assert.match(applied.stdout, /prometheusrule.monitoring.coreos.com\/pgop-alerts serverside-applied/);
  });

  it('refuses bad values, naming the field', () => {
    const res = helm('template', 'pgop', CHART, '--set', 'clusterController.replicas=-1');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /clusterController\/replicas|clusterController\.replicas/);
    const tooShort = helm('template', 'pgop', CHART, '--set', 'clusterController.deletionWaitSeconds=5');
    assert.match(tooShort.stderr, /clusterController\/deletionWaitSeconds': minimum: got 5, want 10/);
    const unknown = helm('template', 'pgop', CHART, '--set', 'clusterControler.replicas=2');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /clusterControler/);
  });

  const can = (sa: string, ...args: string[]) => {
    const res = kubectl(server, ['auth', 'can-i', `--as=system:serviceaccount:${NS}:pgop-${sa}`, ...args]);
    return res.stdout.trim();
  };

  it('lets the cluster controller do its job', () => {
    for (const check of [
      ['watch', 'postgresclusters.postgres.example.com', '-A'],
      ['patch', 'postgresclusters.postgres.example.com', '--subresource=status', '-n', 'db'],
      ['create', 'statefulsets.apps', '-n', 'db'],
      ['delete', 'pods', '-n', 'db'],
      ['watch', 'nodes'],
      ['create', 'secrets', '-n', 'db'],
      // the credentials' owner reference, kept with retained volumes (docs/clusters.md)
      ['patch', 'secrets', '-n', 'db'],
      ['create', 'roles.rbac.authorization.k8s.io', '-n', 'db'],
      ['create', 'events.events.k8s.io', '-n', 'db'],
      ['update', 'leases.coordination.k8s.io', '-n', NS],
      // pgbackrest stanza-create and check, pg_stat_archiver (docs/backup.md)
      ['create', 'pods', '--subresource=exec', '-n', 'db'],
      ['get', 'pods', '--subresource=exec', '-n', 'db'],
      // a PVC repository: its volume and repository host
      ['create', 'persistentvolumeclaims', '-n', 'db'],
      // volume expansion (docs/storage.md)
      ['watch', 'persistentvolumeclaims', '-A'],
      ['patch', 'persistentvolumeclaims', '-n', 'db'],
      ['watch', 'storageclasses.storage.k8s.io'],
      ['patch', 'deployments.apps', '-n', 'db'],
      ['delete', 'services', '-n', 'db'],
      // a cluster created from a backup: the restore Job, and the PostgresBackup naming the source
      ['create', 'jobs.batch', '-n', 'db'],
      ['delete', 'jobs.batch', '-n', 'db'],
      ['get', 'postgresbackups.postgres.example.com', '-n', 'db'],
      // spec.networkPolicy, deleted when turned off
      ['watch', 'networkpolicies.networking.k8s.io', '-A'],
      ['patch', 'networkpolicies.networking.k8s.io', '-n', 'db'],
      ['delete', 'networkpolicies.networking.k8s.io', '-n', 'db'],
      // spec.pooler, removed with it
      ['delete', 'deployments.apps', '-n', 'db'],
      ['delete', 'poddisruptionbudgets.policy', '-n', 'db'],
    ])
      assert.equal(can('cluster-controller', ...check), 'yes', check.join(' '));
  });

  it('refuses the cluster controller what it does not need', () => {
    for (const check of [
      ['update', 'secrets', '-n', 'db'],
      ['delete', 'secrets', '-n', 'db'],
      ['create', 'pods', '-n', 'db'],
      ['create', 'cronjobs.batch', '-n', 'db'],
      ['patch', 'postgresbackups.postgres.example.com', '-n', 'db'],
      ['delete', 'namespaces'],
      ['patch', 'nodes'],
      ['create', 'clusterroles.rbac.authorization.k8s.io'],
      ['update', 'leases.coordination.k8s.io', '-n', 'db'],
      // the repository volume holds the backups
      ['delete', 'persistentvolumeclaims', '-n', 'db'],
    ])
      assert.equal(can('cluster-controller', ...check), 'no', check.join(' '));
  });

  it('lets the backup controller read clusters, own backups and restores, and hand restores to clusters', () => {
    for (const check of [
      ['watch', 'postgresclusters.postgres.example.com', '-A'],
      ['patch', 'postgresbackups.postgres.example.com/status', '-n', 'db'],
      ['patch', 'postgresrestores.postgres.example.com', '-n', 'db'],
      ['update', 'leases.coordination.k8s.io', '-n', NS],
      ['create', 'cronjobs.batch', '-n', 'db'],
      ['delete', 'jobs.batch', '-n', 'db'],
      ['list', 'pods', '-n', 'db'],
      ['create', 'rolebindings.rbac.authorization.k8s.io', '-n', 'db'],
      ['bind', 'clusterroles.rbac.authorization.k8s.io/pgop-backup-job'],
      // a PostgresRestore: the new cluster, spec.inPlaceRestore, a failed attempt's cluster
      ['create', 'postgresclusters.postgres.example.com', '-n', 'db'],
      ['patch', 'postgresclusters.postgres.example.com', '-n', 'db'],
      ['delete', 'postgresclusters.postgres.example.com', '-n', 'db'],
    ])
      assert.equal(can('backup-controller', ...check), 'yes', check.join(' '));
  });

  it('refuses the backup controller what it does not need', () => {
    for (const check of [
      ['patch', 'postgresclusters.postgres.example.com', '--subresource=status', '-n', 'db'],
      ['get', 'secrets', '-n', 'db'],
      ['create', 'pods', '--subresource=exec', '-n', 'db'],
      ['get', 'pods', '--subresource=exec', '-n', 'db'],
      ['bind', 'clusterroles.rbac.authorization.k8s.io/cluster-admin'],
      ['delete', 'statefulsets.apps', '-n', 'db'],
      ['delete', 'pods', '-n', 'db'],
    ])
      assert.equal(can('backup-controller', ...check), 'no', check.join(' '));
  });

  it('refuses to delete a PostgresCluster with spec.deletionProtection, saying why, until it is turned off', async () => {
    kubectlOk(server, ['create', 'namespace', 'protected']);
    const cluster = (name: string, deletionProtection: boolean) =>
      JSON.stringify({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresCluster',
        metadata: { name, namespace: 'protected' },
        spec: { version: 17, replicas: 1, storage: { size: '1Gi' }, deletionProtection },
      });
    kubectlOk(server, ['apply', '-f', '-'], cluster('kept', true));
    kubectlOk(server, ['apply', '-f', '-'], cluster('plain', false));
    const del = (name: string, ...as: string[]) =>
      kubectl(server, [...as, '-n', 'protected', 'delete', 'pgc', name, '--wait=false']);
    // The API server enforces a new policy once its informer has it: the first refusal is awaited
    // (a deletion that went through before is undone by creating the cluster again).
    const refused = await eventually('the delete refused', () => {
      const res = del('kept');
      if (res.code === 0) kubectlOk(server, ['apply', '-f', '-'], cluster('kept', true));
      return res.code !== 0 ? res : undefined;
    });
    assert.match(
      refused.stderr,
      /PostgresCluster kept has spec\.deletionProtection: true; set it to false first to delete it/,
    );
    assert.match(kubectlOk(server, ['-n', 'protected', 'get', 'pgc', '-o', 'name']), /kept/);
    assert.equal(del('plain').code, 0, 'an unprotected cluster is deleted as before');

    kubectlOk(server, [
      '-n',
      'protected',
      'patch',
      'pgc',
      'kept',
      '--type=merge',
      '-p',
      '{"spec":{"deletionProtection":false}}',
    ]);
    assert.equal(del('kept').code, 0, 'deleted once protection is off');

    // pgop's own deletions of the clusters it made (the backup controller's) are exempt.
    kubectlOk(server, ['apply', '-f', '-'], cluster('made-by-pgop', true));
    const asBackupController = `--as=system:serviceaccount:${NS}:pgop-backup-controller`;
    assert.equal(del('made-by-pgop', asBackupController).code, 0);
  });

  it('with allowedImageRegistries, refuses at apply time a spec.image from any other registry, naming it', async () => {
    const policy = helm(
      'template',
      'pgop',
      CHART,
      '--namespace',
      NS,
      '--set',
      'allowedImageRegistries={registry.example.com,localhost/pgop}',
      '--show-only',
      'templates/image-registries.yaml',
    );
    assert.equal(policy.code, 0, policy.stderr);
    kubectlOk(server, ['apply', '--server-side', '-f', '-'], policy.stdout);
    kubectlOk(server, ['create', 'namespace', 'images']);
    const cluster = (name: string, image?: string) =>
      JSON.stringify({
        apiVersion: 'postgres.example.com/v1',
        kind: 'PostgresCluster',
        metadata: { name, namespace: 'images' },
        spec: { version: 17, replicas: 1, storage: { size: '1Gi' }, ...(image ? { image } : {}) },
      });
    // Until the API server has loaded the policy, the create goes through: undo it and try again
    // (applying an unchanged object would not be admitted again).
    const refused = await eventually('the foreign image refused', () => {
      const res = kubectl(server, ['apply', '-f', '-'], cluster('hub', 'postgres:17'));
      if (res.code === 0) kubectlOk(server, ['-n', 'images', 'delete', 'pgc', 'hub', '--wait=false']);
      return res.code !== 0 ? res : undefined;
    });
    assert.match(
      refused.stderr,
      /spec\.image postgres:17 is not from a registry this operator allows \(registry\.example\.com, localhost\/pgop\)/,
    );
    for (const image of ['registry.example.com.evil.io/pg:17', 'localhost/pgopx/postgres:17'])
      assert.notEqual(kubectl(server, ['apply', '-f', '-'], cluster('lookalike', image)).code, 0, image);
    kubectlOk(server, ['apply', '-f', '-'], cluster('allowed', 'registry.example.com/pg/postgres:17'));
    kubectlOk(server, ['apply', '-f', '-'], cluster('local', 'localhost/pgop/postgres:17'));
    kubectlOk(server, ['apply', '-f', '-'], cluster('catalog'));
  });

  it("lets in to the controllers only their metrics and health port, from metricsFrom when given, and tells the cluster controller its pods' labels", () => {
    type Policy = { spec: { podSelector: unknown; ingress: { from?: unknown[]; ports: unknown[] }[] } };
    const policyOf = (docs: ReturnType<typeof render>) =>
      docs.find((d) => d.kind === 'NetworkPolicy') as unknown as Policy | undefined;
    const open = policyOf(render());
    assert.ok(open, 'a NetworkPolicy by default');
    assert.deepEqual(open.spec.podSelector, {
      matchLabels: { 'app.kubernetes.io/name': 'pgop', 'app.kubernetes.io/instance': 'pgop' },
    });
    assert.deepEqual(open.spec.ingress, [{ ports: [{ protocol: 'TCP', port: 8080 }] }]);
    const monitoring = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    };
    const res = helm(
      'template',
      'pgop',
      CHART,
      '--set-json',
      `networkPolicy.metricsFrom=${JSON.stringify([monitoring])}`,
    );
    assert.equal(res.code, 0, res.stderr);
    const narrowed = parseAllDocuments(res.stdout).map((d) => d.toJS() as { kind?: string } | null);
    assert.deepEqual((narrowed.find((d) => d?.kind === 'NetworkPolicy') as unknown as Policy).spec.ingress, [
      { ports: [{ protocol: 'TCP', port: 8080 }], from: [monitoring] },
    ]);
    assert.equal(policyOf(render('networkPolicy.enabled=false')), undefined);

    const env = (
      render().find((d) => d.metadata.name === 'pgop-cluster-controller' && d.kind === 'Deployment')!
        .spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }
    ).template.spec.containers[0]!.env;
    assert.equal(
      env.find((e) => e.name === 'PGOP_POD_SELECTOR')?.value,
      'app.kubernetes.io/component=cluster-controller,app.kubernetes.io/instance=pgop,app.kubernetes.io/name=pgop',
    );
  });

  it('renders no image policy when allowedImageRegistries is empty (the default)', () => {
    assert.ok(!render().some((d) => d.metadata.name.endsWith('image-registries')));
  });

  it('with watchNamespaces, binds each controller only in those namespaces (and Nodes read-only)', () => {
    const scoped = helm(
      'template',
      'scoped',
      CHART,
      '--namespace',
      'scoped-system',
      '--set',
      'watchNamespaces={team-a}',
    );
    assert.equal(scoped.code, 0, scoped.stderr);
    for (const ns of ['scoped-system', 'team-a', 'team-b']) kubectlOk(server, ['create', 'namespace', ns]);
    // The cluster-scoped admission policies are the first release's: apply only the rest.
    const objects = parseAllDocuments(scoped.stdout)
      .map((d) => d.toJS() as { kind: string } | null)
      .filter((d) => d !== null && !d.kind.startsWith('ValidatingAdmissionPolicy'));
    kubectlOk(
      server,
      ['apply', '--server-side', '-f', '-'],
      objects.map((o) => JSON.stringify(o)).join('\n'),
    );
    const canScoped = (sa: string, ...args: string[]) =>
      kubectl(server, [
        'auth',
        'can-i',
        `--as=system:serviceaccount:scoped-system:scoped-${sa}`,
        ...args,
      ]).stdout.trim();
    for (const check of [
      ['create', 'statefulsets.apps', '-n', 'team-a'],
      ['watch', 'secrets', '-n', 'team-a'],
      ['create', 'pods', '--subresource=exec', '-n', 'team-a'],
      ['watch', 'nodes'],
      ['update', 'leases.coordination.k8s.io', '-n', 'scoped-system'],
    ])
      assert.equal(canScoped('cluster-controller', ...check), 'yes', check.join(' '));
    for (const check of [
      ['watch', 'secrets', '-A'],
      ['get', 'secrets', '-n', 'team-b'],
      ['create', 'statefulsets.apps', '-n', 'team-b'],
      ['create', 'pods', '--subresource=exec', '-n', 'team-b'],
      ['watch', 'postgresclusters.postgres.example.com', '-A'],
      ['patch', 'nodes'],
    ])
      assert.equal(canScoped('cluster-controller', ...check), 'no', check.join(' '));
    const bindJobRole = ['bind', 'clusterroles.rbac.authorization.k8s.io/scoped-backup-job'];
    assert.equal(canScoped('backup-controller', ...bindJobRole, '-n', 'team-a'), 'yes');
    assert.equal(canScoped('backup-controller', ...bindJobRole, '-n', 'team-b'), 'no');
    assert.equal(
      canScoped('backup-controller', 'create', 'postgresclusters.postgres.example.com', '-n', 'team-a'),
      'yes',
    );
    assert.equal(canScoped('backup-controller', 'create', 'jobs.batch', '-n', 'team-b'), 'no');
  });
});
