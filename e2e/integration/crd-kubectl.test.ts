/**
 * What a user sees with kubectl once the CRDs are installed: the cluster demo, printer
 * columns, short names, and the status and scale subresources.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { restoreToNewCluster, backupSchedule, basicCluster } from '@pgop/api/testing';
import { REPO_ROOT, kubectl, kubectlOk, startApiServer, type TestApiServer } from '../src/harness/index.js';

/** The fields these tests read from `kubectl get -o json`. */
interface Fetched {
  metadata: { generation: number };
  spec: { replicas?: number; retention?: unknown; keepForever?: boolean };
  status: { phase?: string };
}

/** `kubectl get` output as rows of whitespace-separated cells (header first). */
function table(output: string): string[][] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('kubectl against the installed CRDs', () => {
  let server: TestApiServer;
  const k = (...args: string[]) => kubectlOk(server, args);
  const apply = (obj: Record<string, unknown>) =>
    kubectlOk(server, ['apply', '-f', '-'], stringify(obj)).trim();
  /** kubectl patch --type=merge of the object, or of its status subresource. */
  const mergePatch = (resource: string, body: object, subresource?: 'status') =>
    k(
      'patch',
      resource,
      ...(subresource ? [`--subresource=${subresource}`] : []),
      '--type=merge',
      '-p',
      JSON.stringify(body),
    );
  const getJson = (resource: string) => JSON.parse(k('get', resource, '-o', 'json')) as Fetched;

  before(async () => {
    server = await startApiServer();
  });
  after(() => server?.stop());

  it('installs the CRDs and reports them established (the cluster demo)', () => {
    k('apply', '--server-side', '-f', join(REPO_ROOT, 'crds'));
    k('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
    const names = k('get', 'crd', '-o', 'name').trim().split('\n').sort();
    assert.deepEqual(names, [
      'customresourcedefinition.apiextensions.k8s.io/postgresbackups.postgres.example.com',
      'customresourcedefinition.apiextensions.k8s.io/postgresclusters.postgres.example.com',
      'customresourcedefinition.apiextensions.k8s.io/postgresrestores.postgres.example.com',
    ]);
    assert.match(k('get', 'crd', 'postgresclusters.postgres.example.com'), /^NAME\s+CREATED AT\n/);
  });

  it("creates the demo's valid cluster and refuses version 13 naming the allowed values", () => {
    assert.equal(apply(basicCluster()), 'postgrescluster.postgres.example.com/my-cluster created');
    const bad = kubectl(
      server,
      ['apply', '-f', '-'],
      stringify({
        ...basicCluster('bad-cluster'),
        spec: { version: 13, replicas: 1, storage: { size: '10Gi' } },
      }),
    );
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /spec\.version: Unsupported value: 13: supported values: "14", "15", "16", "17", "18"/,
    );
    assert.match(kubectl(server, ['get', 'pgc', 'bad-cluster']).stderr, /NotFound/);
  });

  it('refuses a misspelled field instead of silently dropping it (kubectl validates strictly)', () => {
    const typo = {
      ...basicCluster('typo'),
      spec: { version: 16, replicas: 1, storage: { size: '10Gi', storageclass: 'fast' } },
    };
    const res = kubectl(server, ['apply', '-f', '-'], stringify(typo));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /unknown field "spec\.storage\.storageclass"/);
  });

  it('prints NAME VERSION REPLICAS STATUS AGE, Pending before any controller acted', () => {
    const [header, row] = table(k('get', 'postgrescluster'));
    assert.deepEqual(header, ['NAME', 'VERSION', 'REPLICAS', 'STATUS', 'AGE']);
    assert.deepEqual(row!.slice(0, 2), ['my-cluster', '16']);
    assert.equal(
      row![2],
      'Pending',
      'REPLICAS is empty and STATUS is Pending until the controller writes status',
    );
  });

  it('shows ready/desired in REPLICAS once status is written through the status subresource', () => {
    mergePatch(
      'pgc/my-cluster',
      {
        status: {
          phase: 'Creating',
          replicas: 1,
          readyReplicas: 0,
          readySummary: '0/3',
          selector: 'postgres.example.com/cluster=my-cluster',
        },
      },
      'status',
    );
    const [, row] = table(k('get', 'pgc'));
    assert.deepEqual(row!.slice(0, 4), ['my-cluster', '16', '0/3', 'Creating']);
    const [wideHeader] = table(k('get', 'pgc', '-o', 'wide'));
    assert.deepEqual(wideHeader, ['NAME', 'VERSION', 'REPLICAS', 'STATUS', 'PRIMARY', 'AGE']);
  });

  it('keeps spec and status apart: each write path ignores the other half', () => {
    const before = getJson('pgc/my-cluster');
    // A spec write that also carries status: the status part is dropped.
    mergePatch('pgc/my-cluster', { spec: { replicas: 4 }, status: { phase: 'Failed' } });
    const afterSpec = getJson('pgc/my-cluster');
    assert.equal(afterSpec.spec.replicas, 4);
    assert.equal(afterSpec.status.phase, 'Creating');
    assert.equal(afterSpec.metadata.generation, before.metadata.generation + 1);
    // A status write that also carries spec: the spec part is dropped and generation stays.
    mergePatch('pgc/my-cluster', { spec: { replicas: 9 }, status: { phase: 'Running' } }, 'status');
    const afterStatus = getJson('pgc/my-cluster');
    assert.equal(afterStatus.spec.replicas, 4);
    assert.equal(afterStatus.status.phase, 'Running');
    assert.equal(afterStatus.metadata.generation, afterSpec.metadata.generation);
  });

  it('scales through the scale subresource, within 1-10', () => {
    k('scale', 'pgc/my-cluster', '--replicas=5');
    assert.equal(getJson('pgc/my-cluster').spec.replicas, 5);
    const scale = JSON.parse(
      k('get', '--raw', '/apis/postgres.example.com/v1/namespaces/default/postgresclusters/my-cluster/scale'),
    );
    assert.deepEqual(scale.spec, { replicas: 5 });
    assert.equal(scale.status.selector, 'postgres.example.com/cluster=my-cluster');
    const tooMany = kubectl(server, ['scale', 'pgc/my-cluster', '--replicas=11']);
    assert.notEqual(tooMany.code, 0);
    assert.match(
      tooMany.stderr,
      /spec\.replicas: Invalid value: 11: spec\.replicas in body should be less than or equal to 10/,
    );
  });

  it('prints the backup columns of the backups demo and applies retention defaults', () => {
    apply(backupSchedule());
    apply({ ...backupSchedule('one-off'), spec: { clusterName: 'my-cluster' } });
    mergePatch(
      'pgbackup/my-cluster-backup',
      {
        status: {
          lastBackup: '2024-01-15T02:00:00Z',
          lastBackupSize: '1.2GB',
          backupCount: 5,
          nextScheduled: '2024-01-16T02:00:00Z',
        },
      },
      'status',
    );
    const rows = table(k('get', 'postgresbackup'));
    assert.deepEqual(rows[0], ['NAME', 'CLUSTER', 'LAST BACKUP', 'SIZE', 'COUNT', 'NEXT SCHEDULED']);
    assert.deepEqual(
      rows.find((r) => r[0] === 'my-cluster-backup'),
      ['my-cluster-backup', 'my-cluster', '2024-01-15T02:00:00Z', '1.2GB', '5', '2024-01-16T02:00:00Z'],
    );
    const oneOff = getJson('pgbackup/one-off');
    assert.deepEqual(oneOff.spec.retention, { days: 7, count: 5 });
    assert.equal(oneOff.spec.keepForever, false);
  });

  it('prints restores with their source, target and phase', () => {
    apply(restoreToNewCluster());
    const [header, row] = table(k('get', 'pgrestore'));
    assert.deepEqual(header, ['NAME', 'SOURCE', 'BACKUP', 'TARGET TIME', 'STATUS', 'AGE']);
    assert.deepEqual(
      [row![0], row![1], row![2], row![3]],
      ['restore-new', 'my-cluster', '2024-01-15T01:30:00Z', 'Pending'],
    );
  });

  it('answers to short names and to the pgop category', () => {
    const all = k('get', 'pgop', '-o', 'name').trim().split('\n').sort();
    assert.deepEqual(all, [
      'postgresbackup.postgres.example.com/my-cluster-backup',
      'postgresbackup.postgres.example.com/one-off',
      'postgrescluster.postgres.example.com/my-cluster',
      'postgresrestore.postgres.example.com/restore-new',
    ]);
    assert.equal(k('get', 'pgc,pgbackup,pgrestore', '-o', 'name').trim().split('\n').length, 4);
  });

  it('documents fields for kubectl explain', () => {
    assert.match(k('explain', 'pgc.spec.version'), /PostgreSQL major version/);
    assert.match(k('explain', 'pgbackup.spec.retention.days'), /Remove backups older than this many days/);
  });
});
