/**
 * Storage on the local Kubernetes (docs/storage.md): expansion, the WAL volume and autoGrow. Its
 * local-path volumes cannot grow, and they are directories of the host's file system (no CSI
 * driver with expansion runs here: docs/storage.md says why), so these tests cover what pgop
 * does and says: on a StorageClass that allows expansion every claim is raised without
 * restarting PostgreSQL, and a new instance's claims are made at the new size; on one that does
 * not, nothing is touched and the condition names it.
 * pg_wal lives on its own volume on every instance. autoGrow measures the volumes in the pods
 * (here the host's file system, so the tests set a threshold of 1%), grows them, and reports
 * WAL held back by failing archiving or an inactive replication slot instead of growing for it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  TestNamespace,
  clusterStatus,
  condition,
  copyLocalS3Credentials,
  eventually,
  installOperator,
  instancePods,
  localCluster,
  psqlInPod,
  startArchivingCluster,
  waitRunning,
} from '../src/harness/index.js';

const EXPANDABLE = 'expands';
const FIXED = 'fixed';
const GROWS = 'grows';
const STORAGE_CLASS = 'local-path-expandable';
const WAL_DIR = '/var/lib/postgresql/wal/pg_wal';

describe('volume expansion', () => {
  let ns: TestNamespace;

  const cluster = (name: string, replicas: number, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresCluster',
    metadata: { name },
    spec: { version: 17, replicas, storage: { size: '1Gi' }, ...spec },
  });
  const patchSpec = (name: string, spec: object) =>
    ns.k('patch', 'pgc', name, '--type=merge', '-p', JSON.stringify({ spec }));
  const grow = (name: string, size: string) => patchSpec(name, { storage: { size } });
  const volumesHaveSpace = (name: string) => condition(clusterStatus(ns, name), 'VolumesHaveSpace');
  const events = (name: string) =>
    ns.k(
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${name}`,
      '-o',
      'jsonpath={.items[*].reason}',
    );
  const waitWalBacklog = (name: string, timeoutSeconds: number) =>
    eventually(
      `${name}: VolumesHaveSpace reason WalBacklog`,
      () => {
        const c = volumesHaveSpace(name);
        return c?.reason === 'WalBacklog' ? c : undefined;
      },
      timeoutSeconds,
      () => JSON.stringify({ condition: volumesHaveSpace(name), claims: requests(name) }),
    );
  const volumesResized = (name: string) => condition(clusterStatus(ns, name), 'VolumesResized');
  const requests = (name: string) =>
    ns.k(
      'get',
      'pvc',
      '-l',
      `postgres.example.com/cluster=${name}`,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.resources.requests.storage} {end}',
    );
  /** Each instance pod's uid and restarts: the same after an online expansion. */
  const podRuns = (name: string) =>
    instancePods(ns, name)
      .map((p) => `${p.name}:${p.uid}:${p.restarts}`)
      .join(' ');

  before(async () => {
    ns = new TestNamespace(localCluster(), 'storage');
    installOperator(localCluster());
    const volume = { size: '1Gi', storageClass: STORAGE_CLASS };
    ns.apply(cluster(EXPANDABLE, 2, { storage: volume, walStorage: volume }));
    ns.apply(cluster(FIXED, 1));
    await Promise.all([
      waitRunning(ns, EXPANDABLE, 2),
      waitRunning(ns, FIXED, 1),
      startArchivingCluster(ns, GROWS, 1, { storage: volume, walStorage: volume }),
    ]);
  });
  after(() => ns?.delete());

  it('keeps pg_wal on its own volume on every instance, the primary and the replica it cloned', () => {
    for (const pod of [`${EXPANDABLE}-0`, `${EXPANDABLE}-1`]) {
      const link = ns.k('exec', pod, '--', 'readlink', '/var/lib/postgresql/data/pgdata/pg_wal').trim();
      assert.equal(link, WAL_DIR, pod);
      const mount = ns.k('exec', pod, '--', 'findmnt', '-n', '-o', 'TARGET', '--target', WAL_DIR).trim();
      assert.equal(mount, '/var/lib/postgresql/wal', `${pod}: the WAL volume is a mount of its own`);
    }
    const primary = clusterStatus(ns, EXPANDABLE).primaryPod!;
    const segment = psqlInPod(ns, primary, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
    assert.equal(ns.k('exec', primary, '--', 'ls', `${WAL_DIR}/${segment}`).trim(), `${WAL_DIR}/${segment}`);
  });

  it('autoGrow: reports WAL held back by an inactive replication slot instead of growing for it, and grows once it is dropped', async () => {
    const primary = clusterStatus(ns, EXPANDABLE).primaryPod!;
    const walClaims = () =>
      requests(EXPANDABLE)
        .trim()
        .split(' ')
        .filter((r) => r.startsWith('pgwal-'))
        .join(' ');
    const before = walClaims();
    // A slot its consumer left behind (a change-data-capture tool taken away): PostgreSQL keeps
    // every WAL segment from its position on, however large the volume.
    psqlInPod(ns, primary, "SELECT pg_create_physical_replication_slot('left_behind', true)");
    patchSpec(EXPANDABLE, {
      walStorage: { autoGrow: { limit: '4Gi', thresholdPercent: 1, minIntervalMinutes: 1 } },
    });
    const backlog = await waitWalBacklog(EXPANDABLE, 120);
    assert.match(backlog.message, /WAL held back by inactive replication slot left_behind/);
    assert.equal(walClaims(), before, 'the WAL volumes were grown for the slot');
    assert.match(events(EXPANDABLE), /VolumeNotGrownWalBacklog/);
    psqlInPod(ns, primary, "SELECT pg_drop_replication_slot('left_behind')");
    await eventually(
      'the WAL volumes grown once the slot is gone',
      () => walClaims() === before.replaceAll('=1Gi', '=2Gi') || undefined,
      120,
      () => JSON.stringify({ condition: volumesHaveSpace(EXPANDABLE), claims: walClaims() }),
    );
    assert.match(events(EXPANDABLE), /VolumeAutoGrown/);
    // The next test raises the sizes through the spec alone.
    patchSpec(EXPANDABLE, { walStorage: { autoGrow: null } });
  });

  it('raises every claim, data and WAL, restarting nothing; a new instance gets the new sizes from its creation', async () => {
    const runs = podRuns(EXPANDABLE);
    patchSpec(EXPANDABLE, { storage: { size: '2Gi' }, walStorage: { size: '2Gi' } });
    const all = (ordinals: number[]) =>
      ordinals
        .flatMap((i) => [`pgdata-${EXPANDABLE}-${i}=2Gi`, `pgwal-${EXPANDABLE}-${i}=2Gi`])
        .sort()
        .join(' ');
    const raised = () => requests(EXPANDABLE).trim().split(' ').sort().join(' ');
    await eventually('every claim raised', () => raised() === all([0, 1]) || undefined, 60, raised);
    // local-path has no resizer: the claims ask for 2Gi, and their volumes stay at 1Gi.
    const expanding = await eventually(
      'Expanding',
      () => {
        const c = volumesResized(EXPANDABLE);
        return c?.reason === 'Expanding' && /1Gi → 2Gi/.test(c.message) ? c : undefined;
      },
      60,
      () => JSON.stringify(volumesResized(EXPANDABLE)),
    );
    assert.match(expanding.message, new RegExp(`pgdata-${EXPANDABLE}-0 1Gi → 2Gi`));
    assert.match(events(EXPANDABLE), /VolumeExpansionRequested/);
    // The StatefulSet's template is immutable and stays; the new instance's claims are pgop's.
    patchSpec(EXPANDABLE, { replicas: 3 });
    await eventually(
      'the new instance asks for 2Gi from its creation',
      () => raised() === all([0, 1, 2]) || undefined,
      120,
      raised,
    );
    await waitRunning(ns, EXPANDABLE, 3);
    assert.equal(
      ns.k(
        'get',
        'sts',
        EXPANDABLE,
        '-o',
        'jsonpath={.spec.volumeClaimTemplates[*].spec.resources.requests.storage}',
      ),
      '1Gi 1Gi',
    );
    // Nothing was restarted for any of it.
    assert.equal(
      instancePods(ns, EXPANDABLE)
        .filter((p) => p.name !== `${EXPANDABLE}-2`)
        .map((p) => `${p.name}:${p.uid}:${p.restarts}`)
        .join(' '),
      runs,
    );
  });

  it('leaves the volumes of a StorageClass that cannot expand as they are, and says so', async () => {
    const runs = podRuns(FIXED);
    grow(FIXED, '2Gi');
    const refused = await eventually(
      'StorageClassCannotExpand',
      () => {
        const c = volumesResized(FIXED);
        return c?.reason === 'StorageClassCannotExpand' ? c : undefined;
      },
      60,
      () => JSON.stringify(volumesResized(FIXED)),
    );
    assert.match(refused.message, new RegExp(`pgdata-${FIXED}-0 \\(StorageClass local-path\\)`));
    assert.equal(requests(FIXED), `pgdata-${FIXED}-0=1Gi `);
    assert.equal(podRuns(FIXED), runs);
    assert.doesNotMatch(events(FIXED), /VolumeExpansionRequested/);
  });

  it('autoGrow: grows the data volumes past the threshold, and reports WAL held back by failing archiving instead of growing for it', async () => {
    const autoGrow = { limit: '3Gi', thresholdPercent: 1, minIntervalMinutes: 1 };
    patchSpec(GROWS, { storage: { autoGrow } });
    await eventually(
      'the data volume grown',
      () => requests(GROWS).includes(`pgdata-${GROWS}-0=2Gi`) || undefined,
      120,
      () => JSON.stringify({ requests: requests(GROWS), condition: volumesHaveSpace(GROWS) }),
    );
    assert.match(events(GROWS), /VolumeAutoGrown/);
    const measured = clusterStatus(ns, GROWS).volumes?.find((v) => v.name === `pgdata-${GROWS}-0`);
    assert.ok((measured?.usedPercent ?? 0) > 1, JSON.stringify(measured));
    // Archiving breaks: the WAL volume fills with WAL that cannot leave. The Secret reaches the
    // pod within a kubelet sync; a segment is closed every 15 s until pgop sees a failure.
    copyLocalS3Credentials(ns.cluster, ns.name, 's3', { secretAccessKey: 'not-the-secret-key' });
    let switched = 0;
    await eventually(
      'archiving failing (status.backup.archiving)',
      () => {
        const a = clusterStatus(ns, GROWS).backup?.archiving;
        if (a?.lastFailedTime && Date.parse(a.lastFailedTime) > (Date.parse(a.lastArchivedTime ?? '') || 0))
          return true;
        if (Date.now() - switched > 15_000) {
          psqlInPod(
            ns,
            `${GROWS}-0`,
            'CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t VALUES (1); SELECT pg_switch_wal()',
          );
          switched = Date.now();
        }
        return undefined;
      },
      300,
      () => JSON.stringify(clusterStatus(ns, GROWS).backup),
    );
    patchSpec(GROWS, { walStorage: { autoGrow } });
    const backlog = await waitWalBacklog(GROWS, 300);
    assert.match(
      backlog.message,
      new RegExp(`pgwal-${GROWS}-0 is \\d+% full .*WAL held back by failing WAL archiving`),
    );
    assert.match(
      requests(GROWS),
      new RegExp(`pgwal-${GROWS}-0=1Gi`),
      'the WAL volume was grown for the backlog',
    );
    assert.match(events(GROWS), /VolumeNotGrownWalBacklog/);
    patchSpec(GROWS, { walStorage: { autoGrow: { ...autoGrow, growWithWalBacklog: true } } });
    await eventually(
      'the WAL volume grown when told to',
      () => requests(GROWS).includes(`pgwal-${GROWS}-0=2Gi`) || undefined,
      120,
      () => requests(GROWS),
    );
  });
});
