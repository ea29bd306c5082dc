/** pgBackRest in the instance pods: what the configuration holds and when archiving is on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupHealthCondition, dueSteps } from '../../src/backup/health.js';
import { dynamicConfigPatch } from '../../src/patroni/dynamic-config.js';
import { dynamicConfiguration } from '../../src/patroni/config.js';
import { pgbackrestConf, REPOSITORY_CLIENT_NAME, repositoryHostConf } from '../../src/pgbackrest/config.js';
import { archivingEnabled, repositoryUrl } from '../../src/pgbackrest/repository.js';
import { renderRepositoryHost } from '../../src/render/repo-host.js';
import { cluster, fullCluster, basicCluster } from '../fixtures.js';

/** The full example with status.backup.repository set: pgop checked the bucket. */
function verified() {
  const c = cluster(fullCluster());
  c.status = { backup: { repository: repositoryUrl(c) } };
  return c;
}

describe('pgBackRest configuration', () => {
  it('points at the S3 repository of spec.backup, with the CA and path style', () => {
    const conf = pgbackrestConf(cluster(fullCluster()))!;
    assert.match(conf, /^repo1-s3-bucket=pg-backups$/m);
    assert.match(conf, /^repo1-s3-endpoint=minio\.storage\.svc$/m);
    assert.match(conf, /^repo1-storage-port=9000$/m);
    assert.match(conf, /^repo1-s3-uri-style=path$/m);
    assert.match(conf, /^repo1-path=\/prod\/full-cluster$/m);
    assert.match(conf, /^repo1-storage-ca-file=\/etc\/pgbackrest\/ca\/ca\.crt$/m);
    assert.match(conf, /^archive-async=y$/m);
    assert.match(conf, /^spool-path=\/var\/lib\/postgresql\/data\/pgbackrest-spool$/m);
  });

  it('never holds a credential: those come from the Secret as files', () => {
    const conf = pgbackrestConf(cluster(fullCluster()))!;
    assert.doesNotMatch(conf, /s3-key/);
  });

  it('defaults the path to one per namespace and cluster', () => {
    const c = cluster(fullCluster());
    delete c.spec.backup!.s3!.path;
    assert.equal(repositoryUrl(c), 's3://pg-backups/pgbackrest/db/full-cluster');
  });

  it('reaches a PVC repository on the repository host over mutual TLS', () => {
    const c = cluster(basicCluster(), { backup: { pvc: { size: '10Gi' } } });
    const conf = pgbackrestConf(c)!;
    assert.match(conf, /^repo1-host=my-cluster-repo-host\.db\.svc$/m);
    assert.match(conf, /^repo1-host-type=tls$/m);
    assert.match(conf, /^repo1-host-cert-file=\/etc\/pgbackrest\/tls\/client\.crt$/m);
    assert.doesNotMatch(conf, /repo1-type=s3/);
    assert.equal(repositoryUrl(c), 'pvc://my-cluster-repository');
    // The server admits the client certificate's name and no other.
    assert.match(repositoryHostConf(), new RegExp(`^tls-server-auth=${REPOSITORY_CLIENT_NAME}=\\*$`, 'm'));
  });

  it('keeps the PVC repository when the cluster is deleted: the volume has no owner', () => {
    const c = cluster(basicCluster(), { backup: { pvc: { size: '10Gi' } } });
    const [volume, service, deployment] = renderRepositoryHost(c, 'img');
    assert.equal(volume!.metadata!.ownerReferences, undefined);
    assert.equal(service!.metadata!.ownerReferences?.length, 1);
    assert.equal(deployment!.metadata!.ownerReferences?.length, 1);
  });

  it('refuses a value with a line break instead of writing a second option', () => {
    const c = cluster(fullCluster());
    c.spec.backup!.s3!.bucket = 'pg-backups\nrepo1-path=/elsewhere';
    assert.throws(() => pgbackrestConf(c), /repo1-s3-bucket has a control character/);
  });

  it('is absent without spec.backup', () => {
    assert.equal(pgbackrestConf(cluster(basicCluster())), undefined);
  });
});

describe('WAL archiving', () => {
  it('stays off until pgop has checked the repository', () => {
    const c = cluster(fullCluster());
    assert.equal(archivingEnabled(c), false);
    const { parameters, recovery_conf } = dynamicConfiguration(c, archivingEnabled(c)).postgresql;
    assert.equal(parameters['archive_mode'], 'on');
    assert.equal(parameters['archive_command'], '/bin/true');
    assert.equal(recovery_conf, undefined);
  });

  it('archives with pgBackRest and restores from it once the repository is checked', () => {
    const config = dynamicConfiguration(verified(), archivingEnabled(verified())).postgresql;
    assert.equal(
      config.parameters['archive_command'],
      '/etc/pgbackrest/bin/pgbackrest --stanza=db archive-push "%p"',
    );
    assert.equal(
      config.recovery_conf?.restore_command,
      '/etc/pgbackrest/bin/pgbackrest --stanza=db archive-get %f "%p"',
    );
  });

  it('turns archiving off when the repository changes, until the new one is checked', () => {
    const c = verified();
    c.spec.backup!.s3!.bucket = 'other-bucket';
    assert.equal(archivingEnabled(c), false);
  });

  it("removes restore_command from Patroni's configuration when the repository goes", () => {
    const current = JSON.parse(JSON.stringify(dynamicConfiguration(verified(), true)));
    const patch = dynamicConfigPatch(dynamicConfiguration(cluster(basicCluster()), false), current);
    assert.equal((patch?.postgresql as Record<string, unknown>).recovery_conf, null);
  });
});

describe('repository monitor steps', () => {
  it('checks the bucket first, and creates the stanza only once archiving is on for it', () => {
    const c = cluster(fullCluster());
    const url = repositoryUrl(c)!;
    assert.deepEqual(dueSteps(c, { url }, 'full-cluster-0', 0), ['repositoryCheck']);
    const checked = { url, reachable: { ok: true as const, at: 0 } };
    assert.deepEqual(dueSteps(c, checked, 'full-cluster-0', 1), []);
    c.status = { backup: { repository: url } };
    assert.deepEqual(dueSteps(c, checked, 'full-cluster-0', 1), ['stanzaCreate']);
    assert.deepEqual(dueSteps(c, checked, undefined, 1), []);
  });

  it('reads the archiver once the stanza exists, and checks the bucket again while archiving fails', () => {
    const c = cluster(fullCluster());
    const url = repositoryUrl(c)!;
    c.status = { backup: { repository: url, stanzaCreated: true } };
    const failing = {
      url,
      reachable: { ok: true as const, at: 0 },
      archiver: { stats: { archivedCount: 1, lastArchivedAt: 1, failedCount: 3, lastFailedAt: 2 }, at: 0 },
    };
    assert.deepEqual(dueSteps(c, failing, 'full-cluster-0', 40_000), ['repositoryCheck', 'archiverStats']);
    const condition = backupHealthCondition(c, failing)!;
    assert.equal(condition.reason, 'ArchivingFailing');
    assert.equal(condition.status, 'False');
  });
});
