/**
 * Volume expansion on the local Kubernetes (docs/storage.md). Its local-path volumes cannot grow
 * (no CSI driver with expansion runs here: docs/storage.md says why), so these tests cover what
 * pgop does and says: on a StorageClass that allows expansion every claim is raised and the
 * StatefulSet is recreated with the new size without restarting PostgreSQL, and a new instance
 * asks for the new size; on one that does not, nothing is touched and the condition names it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  localCluster,
  waitRunning,
} from '../src/harness/index.js';

const EXPANDABLE = 'expands';
const FIXED = 'fixed';

describe('volume expansion', () => {
  let ns: TestNamespace;

  const cluster = (name: string, replicas: number, storageClass?: string) => ({
    apiVersion: 'postgres.example.com/v1',
    kind: 'PostgresCluster',
    metadata: { name },
    spec: { version: 17, replicas, storage: { size: '1Gi', ...(storageClass ? { storageClass } : {}) } },
  });
  const grow = (name: string, size: string) =>
    ns.k('patch', 'pgc', name, '--type=merge', '-p', JSON.stringify({ spec: { storage: { size } } }));
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
    ns.k(
      'get',
      'pods',
      '-l',
      `postgres.example.com/cluster=${name},app.kubernetes.io/component=database`,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}:{.metadata.uid}:{.status.containerStatuses[0].restartCount} {end}',
    );

  before(async () => {
    ns = new TestNamespace(localCluster(), 'storage');
    installOperator(localCluster());
    ns.apply(cluster(EXPANDABLE, 2, 'local-path-expandable'));
    ns.apply(cluster(FIXED, 1));
    await Promise.all([waitRunning(ns, EXPANDABLE, 2), waitRunning(ns, FIXED, 1)]);
  });
  after(() => ns?.delete());

  it('raises every claim and recreates the StatefulSet with the new size, restarting nothing; a new instance asks for it', async () => {
    const runs = podRuns(EXPANDABLE);
    const statefulSet = ns.k('get', 'sts', EXPANDABLE, '-o', 'jsonpath={.metadata.uid}');
    grow(EXPANDABLE, '2Gi');
    await eventually(
      'both claims raised',
      () => requests(EXPANDABLE) === `pgdata-${EXPANDABLE}-0=2Gi pgdata-${EXPANDABLE}-1=2Gi ` || undefined,
      60,
      () => requests(EXPANDABLE),
    );
    await eventually(
      'the StatefulSet recreated asking for 2Gi',
      () => {
        const [uid, size] = ns
          .try(
            'get',
            'sts',
            EXPANDABLE,
            '-o',
            'jsonpath={.metadata.uid} {.spec.volumeClaimTemplates[0].spec.resources.requests.storage}',
          )
          .stdout.split(' ');
        return (uid && uid !== statefulSet && size === '2Gi') || undefined;
      },
      60,
    );
    // The recreated StatefulSet adopted the pods as they were: same pods, no restart.
    await eventually(
      'the cluster Running',
      () => clusterStatus(ns, EXPANDABLE).phase === 'Running' || undefined,
      60,
    );
    assert.equal(podRuns(EXPANDABLE), runs);
    // local-path has no resizer: the claims ask for 2Gi, and their volumes stay at 1Gi.
    const expanding = volumesResized(EXPANDABLE);
    assert.equal(expanding?.reason, 'Expanding', JSON.stringify(expanding));
    assert.match(expanding!.message, new RegExp(`pgdata-${EXPANDABLE}-0 1Gi → 2Gi`));
    ns.k('patch', 'pgc', EXPANDABLE, '--type=merge', '-p', '{"spec":{"replicas":3}}');
    await eventually(
      'the new instance asks for 2Gi from its creation',
      () => (requests(EXPANDABLE).includes(`pgdata-${EXPANDABLE}-2=2Gi`) ? true : undefined),
      120,
      () => requests(EXPANDABLE),
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
    const events = ns.k(
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${FIXED}`,
      '-o',
      'jsonpath={.items[*].reason}',
    );
    assert.doesNotMatch(events, /VolumeExpansionRequested/);
  });
});
