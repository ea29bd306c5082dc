/**
 * kubectl pg (packages/kubectl-pg, docs/kubectl-plugin.md) as a user runs it: found by kubectl on
 * PATH, against a two-instance cluster archiving to S3 on the local Kubernetes. Every command:
 * status (one cluster, the fleet, -o json), backup, psql (as the application role, the superuser,
 * on a replica), switchover, pause and resume, logs, restore, report (no secret value in it),
 * completion, and the exit codes of a mistake.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  REPO_ROOT,
  TestNamespace,
  clusterStatus,
  eventually,
  installOperator,
  instancePods,
  localCluster,
  secretValue,
  startArchivingCluster,
  waitForApplicationRole,
} from '../src/harness/index.js';

const CLUSTER = 'plug';
const BACKUP = 'plug-backup';

describe('kubectl pg', () => {
  let ns: TestNamespace;
  let pluginDir: string;

  /** `kubectl <args>` with the plugin on PATH, as a user's shell runs it. */
  const kubectl = (...args: string[]) => {
    const res = spawnSync('kubectl', args, {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${pluginDir}:${ns.cluster.binDir}:${process.env.PATH}`,
        KUBECONFIG: ns.cluster.kubeconfigPath,
      },
      timeout: 600_000,
    });
    return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
  };
  /** `kubectl pg ARGS -n <namespace> [-- psql arguments]`. */
  const pg = (...args: string[]) => {
    const end = args.indexOf('--') < 0 ? args.length : args.indexOf('--');
    return kubectl('pg', ...args.slice(0, end), '-n', ns.name, ...args.slice(end));
  };
  const ok = (...args: string[]) => {
    const res = pg(...args);
    assert.equal(res.code, 0, `kubectl pg ${args.join(' ')}: ${res.stderr}`);
    return res.stdout;
  };

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    pluginDir = mkdtempSync(join(tmpdir(), 'kubectl-pg-'));
    for (const bin of ['kubectl-pg', 'kubectl_complete-pg'])
      symlinkSync(join(REPO_ROOT, 'packages/kubectl-pg/bin', bin), join(pluginDir, bin));
    ns = new TestNamespace(cluster, 'plugin');
    await startArchivingCluster(ns, CLUSTER, 2);
    ns.apply({
      apiVersion: 'postgres.example.com/v1',
      kind: 'PostgresBackup',
      metadata: { name: BACKUP },
      spec: { clusterName: CLUSTER, schedule: '0 2 * * *' },
    });
    await waitForApplicationRole(ns, CLUSTER);
  });
  after(() => {
    ns?.delete();
    if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
  });

  it('shows one cluster (text and -o json) and the fleet with -A', () => {
    const primary = clusterStatus(ns, CLUSTER).primaryPod!;
    const text = ok('status', CLUSTER);
    assert.match(text, new RegExp(`Cluster: +${ns.name}/${CLUSTER}`));
    assert.match(text, new RegExp(`Primary: +${primary}`));
    assert.match(text, new RegExp(`${primary} +primary +running +yes`));
    assert.match(text, /Ready +True +AllInstancesReady/);
    const report = JSON.parse(ok('status', CLUSTER, '-o', 'json')) as {
      instances: { pod: string; role: string; timeline?: number; lagBytes?: number }[];
    };
    assert.deepEqual(report.instances.map((i) => i.role).sort(), ['primary', 'replica']);
    assert.ok(
      report.instances.every((i) => i.timeline === 1),
      JSON.stringify(report.instances),
    );
    const fleet = kubectl('pg', 'status', '-A');
    assert.equal(fleet.code, 0, fleet.stderr);
    assert.match(fleet.stdout, new RegExp(`${ns.name} +${CLUSTER} +17 +Running +2/2 +${primary}`));
  });

  it('says what went wrong, with exit code 1 for a failure and 2 for wrong usage', () => {
    const missing = pg('status', 'no-such-cluster');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no-such-cluster.*not found/);
    const typo = pg('stauts');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command "stauts"/);
  });

  it('takes a backup and waits for it', () => {
    assert.match(ok('backup', CLUSTER, '--wait'), /backup \d{8}-\d{6}F of plug done/);
    assert.match(
      ok('status', CLUSTER),
      /plug-backup: schedule 0 2 \* \* \*, last backup \d+s ago, 1 in the repository/,
    );
  });

  it('opens psql as the application role, as the superuser, and on a replica, leaving no password file', () => {
    assert.equal(ok('psql', CLUSTER, '--', '-XAtc', 'SELECT current_user').trim(), 'app');
    assert.equal(ok('psql', CLUSTER, '--superuser', '--', '-XAtc', 'SELECT current_user').trim(), 'postgres');
    assert.equal(ok('psql', CLUSTER, '--replica', '--', '-XAtc', 'SELECT pg_is_in_recovery()').trim(), 't');
    for (const pod of instancePods(ns, CLUSTER))
      assert.equal(
        ns
          .k('exec', pod.name, '-c', 'postgres', '--', 'sh', '-c', 'ls /tmp | grep -c pgop-psql || true')
          .trim(),
        '0',
      );
  });

  it('switches over and waits for it', () => {
    const before = clusterStatus(ns, CLUSTER).primaryPod!;
    assert.match(ok('switchover', CLUSTER, '--wait'), new RegExp(`switched over ${CLUSTER}: ${before} -> `));
    assert.notEqual(clusterStatus(ns, CLUSTER).primaryPod, before);
  });

  it('pauses and resumes the cluster', () => {
    ok('pause', CLUSTER);
    assert.match(ok('status', CLUSTER), /PAUSED/);
    ok('resume', CLUSTER);
    assert.doesNotMatch(ok('status', CLUSTER), /PAUSED/);
  });

  it("prints the instances' logs with their pod names", () => {
    const logs = ok('logs', CLUSTER, '--tail', '5');
    assert.match(logs, new RegExp(`\\[pod/${CLUSTER}-0/postgres\\]`));
    assert.match(logs, new RegExp(`\\[pod/${CLUSTER}-1/postgres\\]`));
  });

  it('writes a PostgresRestore from flags, which the backup controller takes up', async () => {
    const dry = ok(
      'restore',
      '--from',
      CLUSTER,
      '--to',
      'plug-copy',
      '--replicas',
      '1',
      '--name',
      'plug-copy',
      '--dry-run',
    );
    assert.match(dry, /kind: PostgresRestore/);
    assert.equal(ns.try('get', 'pgrestore', 'plug-copy').code, 1, 'the dry run created it');
    assert.match(
      ok('restore', '--from', CLUSTER, '--to', 'plug-copy', '--replicas', '1', '--name', 'plug-copy'),
      /PostgresRestore plug-copy created/,
    );
    await eventually('the restore taken up', () => {
      const phase = ns.try('get', 'pgrestore', 'plug-copy', '-o', 'jsonpath={.status.phase}').stdout;
      return ['Running', 'Succeeded'].includes(phase) ? phase : undefined;
    });
    ns.k('delete', 'pgrestore', 'plug-copy', '--wait=false');
    ns.k('delete', 'pgc', 'plug-copy', '--ignore-not-found', '--wait=false');
  });

  it('writes a support bundle of objects, events and logs with no secret value in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgop-report-'));
    try {
      const out = ok('report', CLUSTER, '--output-dir', dir);
      assert.match(out, /\.tar\.gz$/m);
      const [bundle] = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());
      const root = join(dir, bundle!);
      for (const file of [
        'postgrescluster.yaml',
        'postgresbackups.yaml',
        'statefulsets.yaml',
        'secrets.yaml',
        'events.txt',
      ])
        assert.ok(existsSync(join(root, file)), `${file} missing`);
      assert.ok(readdirSync(join(root, 'logs')).some((f) => f.startsWith(`${CLUSTER}-0_postgres`)));
      const everything = [root, join(root, 'logs')]
        .flatMap((d) =>
          readdirSync(d)
            .filter((f) => f.includes('.'))
            .map((f) => readFileSync(join(d, f), 'utf8')),
        )
        .join('\n');
      assert.match(everything, /<redacted>/);
      for (const secret of [`${CLUSTER}-app`, `${CLUSTER}-superuser`, `${CLUSTER}-replication`])
        assert.ok(
          !everything.includes(secretValue(ns, secret, 'password')),
          `the password of ${secret} is in the report`,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("completes commands and cluster names through kubectl's plugin completion", () => {
    const commands = kubectl('__complete', 'pg', 'sw');
    assert.match(commands.stdout, /^switchover$/m);
    const clusters = kubectl('__complete', 'pg', 'status', '-n', ns.name, '');
    assert.match(clusters.stdout, new RegExp(`^${CLUSTER}$`, 'm'));
  });
});
