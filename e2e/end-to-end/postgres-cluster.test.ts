/**
 * The cluster controller on the local Kubernetes, installed with Helm: the cluster demo and every
 * change a user makes to a PostgresCluster, checked the way a user would see it (kubectl, psql).
 * The namespace enforces the `restricted` Pod Security Standard, so every pod pgop creates must
 * meet it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { issueCertificateAuthority, issueLeaf } from '@pgop/cluster-controller/tls';
import { execInPod, OUTPUT_LIMIT_BYTES } from '@pgop/runtime';
import { X509Certificate } from 'node:crypto';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  OPERATOR_NAMESPACE,
  POSTGRES_IMAGE,
  RESTRICTED_CONTAINER,
  TestNamespace,
  clusterStatus,
  condition,
  eventually,
  installOperator,
  instancePods,
  kubectlOk,
  localCluster,
  patroniApi,
  postgresCluster,
  psqlInPod,
  secretValue,
  servedCertificateSerial,
  sql,
  startSqlClient,
  trySql,
  waitReady,
  waitRunning,
  type InstancePod,
  REPO_ROOT,
} from '../src/harness/index.js';
import { switchOverTo, waitWhole } from '../src/drills/failover-drills.js';

const primaries = (pods: InstancePod[]) => pods.filter((p) => p.role === 'primary');

/** `patronictl list` as JSON, run in an instance pod. */
function patroniMembers(ns: TestNamespace, pod: string) {
  const list = ns.k('exec', pod, '--', 'patronictl', '-c', '/etc/patroni/patroni.yml', 'list', '-f', 'json');
  return JSON.parse(list) as { Member: string; Role: string; State: string }[];
}

describe('PostgresCluster', () => {
  let ns: TestNamespace;
  let client: string;
  /** A merge patch of spec, as `kubectl patch --type=merge` sends it. */
  const patchSpec = (name: string, spec: Record<string, unknown>) =>
    ns.k('patch', 'pgc', name, '--type=merge', '-p', JSON.stringify({ spec }));
  /** A rotation as a user does it: a new password in a credentials Secret. */
  const writePassword = (secret: string, password: string) =>
    ns.k('patch', 'secret', secret, '--type=merge', '-p', JSON.stringify({ stringData: { password } }));

  before(async () => {
    const cluster = localCluster();
    installOperator(cluster);
    ns = new TestNamespace(cluster, 'pgc');
  });
  after(() => ns?.delete());

  it("runs the cluster demo (examples/basic-cluster.yaml, the spec's PostgreSQL 16): 3 instances, Running 3/3, writes through -primary, reads through -replica", async () => {
    ns.apply(parseYaml(readFileSync(join(REPO_ROOT, 'examples/basic-cluster.yaml'), 'utf8')) as object);
    const seen: string[] = [];
    await eventually('my-cluster Running 3/3', () => {
      const s = clusterStatus(ns, 'my-cluster');
      const shown = `${s.readySummary ?? ''} ${s.phase ?? ''}`;
      if (seen.at(-1) !== shown) seen.push(shown);
      return s.phase === 'Running' && s.readySummary === '3/3' ? s : undefined;
    });
    assert.ok(
      seen.some((s) => s.endsWith('Creating')),
      `phases seen: ${seen.join(' → ')}`,
    );
    const status = waitReady(ns, 'my-cluster');
    assert.equal(status.readyReplicas, 3);
    assert.equal(status.observedGeneration, 1);
    assert.equal(
      status.selector,
      'postgres.example.com/cluster=my-cluster,app.kubernetes.io/component=database',
    );
    const pods = instancePods(ns, 'my-cluster');
    assert.equal(pods.length, 3);
    assert.deepEqual(
      primaries(pods).map((p) => p.name),
      [status.primaryPod],
      'primaryPod is the pod Patroni labelled primary',
    );
    await eventually(
      'both replicas streaming',
      () => {
        const members = patroniMembers(ns, status.primaryPod!);
        assert.equal(members.find((m) => m.Role === 'Leader')?.Member, status.primaryPod);
        return members.filter((m) => m.State === 'streaming').length === 2 ? true : undefined;
      },
      60,
    );

    client = await startSqlClient(ns, 'my-cluster');
    sql(
      ns,
      client,
      'my-cluster-primary',
      'CREATE TABLE demo (id int PRIMARY KEY, note text); INSERT INTO demo VALUES (1, $$hello$$)',
    );
    assert.equal(sql(ns, client, 'my-cluster-primary', 'SELECT pg_is_in_recovery()'), 'f');
    await eventually(
      'the row on a replica',
      () => {
        const res = trySql(ns, client, 'my-cluster-replica', 'SELECT note FROM demo WHERE id = 1');
        return res.code === 0 && res.stdout.trim() === 'hello' ? true : undefined;
      },
      60,
    );
    assert.equal(sql(ns, client, 'my-cluster-replica', 'SELECT pg_is_in_recovery()'), 't');
    const refused = trySql(ns, client, 'my-cluster-replica', 'INSERT INTO demo VALUES (2, $$x$$)');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /read-only transaction/);
  });

  it('hands applications an unprivileged role owning database app, with ready connection strings; a changed password applies without a restart', async () => {
    type AppSecret = { data: Record<string, string>; metadata: { annotations?: Record<string, string> } };
    const appSecret = () => {
      const secret = JSON.parse(ns.k('get', 'secret', 'my-cluster-app', '-o', 'json')) as AppSecret;
      const data = Object.fromEntries(
        Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
      return { data, applied: secret.metadata.annotations?.['postgres.example.com/password-applied'] };
    };
    const asApp = (uri: string, statement: string) =>
      ns.try('exec', client, '--', 'psql', uri, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', statement);
    const first = await eventually(
      'the application role',
      () => (appSecret().applied ? appSecret() : undefined),
      120,
    );
    const host = `my-cluster-primary.${ns.name}.svc`;
    assert.deepEqual(
      [first.data.username, first.data.dbname, first.data.host, first.data.port],
      ['app', 'app', host, '5432'],
    );
    assert.equal(
      first.data['jdbc-uri'],
      `jdbc:postgresql://${host}:5432/app?user=app&password=${first.data.password}&sslmode=verify-full`,
    );
    const who = asApp(
      first.data.uri!,
      'SELECT current_user, current_database(), rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user',
    );
    assert.equal(who.stdout.trim(), 'app|app|f|f|f', who.stderr);
    const owns = asApp(
      first.data.uri!,
      'CREATE TABLE orders (id int); INSERT INTO orders VALUES (1); SELECT count(*) FROM orders',
    );
    assert.equal(owns.stdout.trim(), '1', owns.stderr);
    const denied = asApp(first.data.uri!, "COPY (SELECT 1) TO PROGRAM 'true'");
    assert.match(denied.stderr, /permission denied|must be superuser|pg_execute_server_program/);

    // Rotation: a new password in the Secret reaches the role; the instances keep running.
    const instances = () =>
      ns.k(
        'get',
        'pods',
        '-l',
        'postgres.example.com/cluster=my-cluster,app.kubernetes.io/component=database',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}:{.metadata.uid}:{.status.containerStatuses[?(@.name=="postgres")].restartCount} {end}',
      );
    const podsBefore = instances();
    writePassword('my-cluster-app', 'rotated-by-the-e2e-test');
    const rotated = await eventually(
      'the new password applied',
      () => {
        const s = appSecret();
        return s.applied !== first.applied && s.data.uri!.includes('rotated-by-the-e2e-test') ? s : undefined;
      },
      60,
    );
    assert.equal(asApp(rotated.data.uri!, 'SELECT count(*) FROM orders').stdout.trim(), '1');
    assert.match(asApp(first.data.uri!, 'SELECT 1').stderr, /password authentication failed for user "app"/);
    assert.match(ns.k('get', 'events', '--field-selector', 'reason=PasswordRotated', '-o', 'name'), /event/);
    assert.equal(instances(), podsBefore, 'no instance restarted');

    // Back to the first password: the client pod of the next tests has it in its environment.
    writePassword('my-cluster-app', first.data.password!);
    await eventually(
      'the first password applied again',
      () => (appSecret().applied === first.applied ? true : undefined),
      60,
    );
  });

  it('lets the superuser log in over the network only with spec.superuserAccess, applied without a restart; its password rotates from the Secret', async () => {
    const superuserPassword = () =>
      Buffer.from(
        ns.k('get', 'secret', 'my-cluster-superuser', '-o', 'jsonpath={.data.password}'),
        'base64',
      ).toString();
    const generated = superuserPassword();
    const asSuperuser = (password: string) =>
      ns.try(
        'exec',
        client,
        '--',
        'env',
        `PGPASSWORD=${password}`,
        'psql',
        '-h',
        'my-cluster-primary',
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-XAtc',
        'SELECT 1',
      );
    assert.match(asSuperuser(generated).stderr, /pg_hba.conf rejects connection .* user "postgres"/);
    ns.k('patch', 'pgc', 'my-cluster', '--type=merge', '-p', '{"spec":{"superuserAccess":true}}');
    await eventually(
      'the superuser let in',
      () => (asSuperuser(generated).code === 0 ? true : undefined),
      60,
    );

    // A new password in the Secret reaches the role; the old one stops working.
    const setPassword = async (password: string) => {
      writePassword('my-cluster-superuser', password);
      await eventually(
        'the password applied',
        () => (asSuperuser(password).code === 0 ? true : undefined),
        60,
      );
    };
    await setPassword('a-rotated-superuser-password-of-the-e2e-test');
    assert.match(asSuperuser(generated).stderr, /password authentication failed for user "postgres"/);
    await setPassword(generated);

    ns.k('patch', 'pgc', 'my-cluster', '--type=merge', '-p', '{"spec":{"superuserAccess":false}}');
    await eventually(
      'the superuser refused again',
      () => (asSuperuser(generated).code !== 0 ? true : undefined),
      60,
    );
    assert.equal(
      sql(ns, client, 'my-cluster-primary', 'SELECT current_user'),
      'app',
      'the application keeps working',
    );
  });

  it('speaks TLS only: plaintext refused, verify-full through -primary and -replica, replication by client certificate, Patroni over HTTPS', async () => {
    const viaService = (service: string, env: string[] = []) =>
      ns.try(
        'exec',
        client,
        '--',
        'env',
        ...env,
        'psql',
        '-h',
        service,
        '-XAtc',
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
    assert.match(
      viaService('my-cluster-primary', ['PGSSLMODE=disable']).stderr,
      /no pg_hba.conf entry for host .* no encryption/,
    );
    // The client pod verifies the server (PGSSLMODE=verify-full, the CA from the Secret).
    for (const service of ['my-cluster-primary', 'my-cluster-replica', `my-cluster-primary.${ns.name}.svc`])
      assert.equal(viaService(service).stdout.trim(), 't', service);
    // ... and verify-full is checked: a pod IP is in no certificate.
    const primary = clusterStatus(ns, 'my-cluster').primaryPod!;
    const primaryIp = instancePods(ns, 'my-cluster').find((p) => p.name === primary)!.ip!;
    assert.match(viaService(primaryIp).stderr, /does not match host name/);

    const replication = psqlInPod(
      ns,
      primary,
      "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl AND s.client_dn = '/CN=replicator'",
    );
    assert.equal(replication, '2', 'both replicas stream over TLS, authenticated by their certificate');
    const asReplicator = ns.try(
      'exec',
      client,
      '--',
      'env',
      `PGPASSWORD=${secretValue(ns, 'my-cluster-replication', 'password')}`,
      'psql',
      '-h',
      'my-cluster-primary',
      '-U',
      'replicator',
      '-d',
      'app',
      '-XAtc',
      'SELECT 1',
    );
    assert.match(
      asReplicator.stderr,
      /pg_hba.conf rejects connection .* user "replicator"/,
      'the replication role replicates, and logs in nowhere else',
    );

    const ca = secretValue(ns, 'my-cluster-app', 'ca.crt');
    const read = await patroniApi(primaryIp, 'GET', '/patroni', { ca });
    assert.equal(read.status, 200);
    assert.equal((JSON.parse(read.body) as { role: string }).role, 'primary');
    const restart = await patroniApi(primaryIp, 'POST', '/restart', { ca });
    assert.equal(restart.status, 403, 'a change needs a client certificate from the cluster CA');
    await assert.rejects(
      fetch(`http://${primaryIp}:8008/patroni`, { signal: AbortSignal.timeout(5000) }),
      'no plain HTTP',
    );
  });

  it('lets in to PostgreSQL the pods spec.networkPolicy.clients selects (by default its namespace), no one else', async () => {
    // An application in another namespace; pg_isready needs no credentials: 0 accepting, 2 no
    // answer (a policy drops the packets).
    const apps = new TestNamespace(ns.cluster, 'pgc-apps');
    try {
      apps.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'app' },
        spec: {
          containers: [
            {
              name: 'main',
              image: POSTGRES_IMAGE,
              imagePullPolicy: 'Never',
              command: ['sleep', 'infinity'],
              securityContext: RESTRICTED_CONTAINER,
            },
          ],
          terminationGracePeriodSeconds: 0,
        },
      });
      await apps.waitForPhase('app', ['Running'], 120);
      const ready = () =>
        apps.try('exec', 'app', '--', 'pg_isready', '-t', '5', '-h', `my-cluster-primary.${ns.name}.svc`)
          .code;
      const sameNamespace = () => trySql(ns, client, 'my-cluster-primary', 'SELECT 1');
      const admitted = (check: () => boolean) =>
        eventually('the policy applied', () => (check() ? true : undefined), 60);

      // The default: the cluster's namespace only.
      assert.equal(sameNamespace().code, 0);
      assert.equal(ready(), 2, 'another namespace is kept out by default');

      patchSpec('my-cluster', {
        networkPolicy: {
          clients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': apps.name } } }],
        },
      });
      // Retried: the enforcer reads policies (and a new pod's IP) from the API server.
      await admitted(() => ready() === 0);
      const refused = await eventually(
        'the namespace kept out',
        () => {
          const res = sameNamespace();
          return res.code !== 0 ? res : undefined;
        },
        60,
      );
      assert.match(refused.stderr, /timeout expired/, 'dropped, not refused by PostgreSQL');

      // The members still replicate, and pgop still reaches Patroni (the switchovers of later
      // tests run under the default policy).
      assert.equal(
        psqlInPod(
          ns,
          clusterStatus(ns, 'my-cluster').primaryPod!,
          "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
        ),
        '2',
      );

      ns.k(
        'patch',
        'pgc',
        'my-cluster',
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/spec/networkPolicy"}]',
      );
      await admitted(() => sameNamespace().code === 0);
      await admitted(() => ready() === 2);
    } finally {
      apps.delete();
    }
  });

  it('renews its certificates and serves them without a restart while a client keeps working', async () => {
    const primary = clusterStatus(ns, 'my-cluster').primaryPod!;
    const primaryService = ns.k('get', 'service', 'my-cluster-primary', '-o', 'jsonpath={.spec.clusterIP}');
    const serverName = `my-cluster-primary.${ns.name}.svc`;
    const tlsData = () => ({
      ca: secretValue(ns, 'my-cluster-tls', 'ca.crt'),
      caKey: secretValue(ns, 'my-cluster-tls', 'ca.key'),
      serial: new X509Certificate(secretValue(ns, 'my-cluster-tls', 'tls.crt')).serialNumber,
    });
    const before = tlsData();
    assert.equal(await servedCertificateSerial(primaryService, serverName, before.ca), before.serial);
    const restarts = () =>
      instancePods(ns, 'my-cluster')
        .map((p) => `${p.name}:${p.restarts}`)
        .join(' ');
    const restartsBefore = restarts();
    const startedAt = psqlInPod(ns, primary, 'SELECT pg_postmaster_start_time()');

    // A client connected across the renewal.
    const app = (key: string) => secretValue(ns, 'my-cluster-app', key);
    const connection = new pg.Client({
      host: primaryService,
      user: app('username'),
      password: app('password'),
      database: 'app',
      ssl: { ca: before.ca, servername: serverName },
    });
    await connection.connect();
    try {
      const pid = (await connection.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      // A certificate close to its end (short validity, as the test needs), signed by the cluster's
      // CA: pgop sees it due and renews it.
      const expiring = await issueLeaf(
        { certificate: before.ca, key: before.caKey },
        {
          commonName: serverName,
          dnsNames: [serverName],
          usages: ['server', 'client'],
          validityDays: 1 / 1440,
        },
      );
      ns.k(
        'patch',
        'secret',
        'my-cluster-tls',
        '--type=merge',
        '-p',
        JSON.stringify({ stringData: { 'tls.crt': expiring.certificate, 'tls.key': expiring.key } }),
      );
      const renewed = await eventually(
        'pgop renews the certificate',
        () => {
          const now = tlsData();
          return now.serial !== before.serial &&
            now.serial !== new X509Certificate(expiring.certificate).serialNumber
            ? now
            : undefined;
        },
        60,
      );
      assert.equal(renewed.ca, before.ca, 'renewed from the same CA: clients keep trusting it');
      await eventually(
        'every instance serves the renewed certificate',
        async () => {
          for (const pod of instancePods(ns, 'my-cluster')) {
            const name = `${pod.name}.my-cluster-pods.${ns.name}.svc`;
            if ((await servedCertificateSerial(pod.ip!, name, before.ca)) !== renewed.serial)
              return undefined;
          }
          return true;
        },
        240,
      );
      assert.equal(await servedCertificateSerial(primaryService, serverName, before.ca), renewed.serial);
      const after = await connection.query('SELECT pg_backend_pid() AS pid, 1 AS ok');
      assert.deepEqual(after.rows[0], { pid, ok: 1 }, 'the connection made before the renewal keeps working');
    } finally {
      await connection.end();
    }
    assert.equal(restarts(), restartsBefore, 'no container restarted');
    assert.equal(
      psqlInPod(ns, primary, 'SELECT pg_postmaster_start_time()'),
      startedAt,
      'PostgreSQL was not restarted',
    );
    assert.match(
      ns.k(
        'get',
        'events.events.k8s.io',
        '--field-selector',
        'reason=CertificatesRenewed',
        '-o',
        'jsonpath={.items[*].note}',
      ),
      /Secret my-cluster-tls were renewed/,
    );
  });

  it("serves the user's own server certificate from a Secret (as cert-manager writes it), refused until usable, renewed without a restart", async () => {
    const userCa = await issueCertificateAuthority('a CA of the user');
    const leaf = (dnsNames: string[]) =>
      issueLeaf(userCa, { commonName: dnsNames[0]!, dnsNames, usages: ['server'] });
    const writeSecret = (cert: { certificate: string; key: string }) =>
      ns.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'certs-server' },
        type: 'kubernetes.io/tls',
        stringData: { 'tls.crt': cert.certificate, 'tls.key': cert.key, 'ca.crt': userCa.certificate },
      });
    const refusal = () => condition(clusterStatus(ns, 'certs'), 'Progressing');
    ns.apply(postgresCluster('certs', { replicas: 2, tls: { serverCertificateSecret: 'certs-server' } }));
    await eventually('refused: no Secret', () =>
      /certs-server does not exist/.test(refusal()?.message ?? '') ? true : undefined,
    );
    // Short of the pods' names, which replicas verify the primary by.
    writeSecret(await leaf([`certs-primary.${ns.name}.svc`, `certs-replica.${ns.name}.svc`]));
    await eventually('refused: names missing', () =>
      /does not name certs-0\.certs-pods/.test(refusal()?.message ?? '') ? true : undefined,
    );
    assert.equal(ns.try('get', 'statefulset', 'certs').code, 1, 'nothing made while refused');

    const names = [
      `certs-primary.${ns.name}.svc`,
      `certs-replica.${ns.name}.svc`,
      `*.certs-pods.${ns.name}.svc`,
    ];
    const first = await leaf(names);
    writeSecret(first);
    await waitRunning(ns, 'certs', 2, 240);
    assert.equal(secretValue(ns, 'certs-app', 'ca.crt'), userCa.certificate, 'applications get the user CA');
    const certsClient = await startSqlClient(ns, 'certs');
    assert.equal(
      sql(
        ns,
        certsClient,
        `certs-primary.${ns.name}.svc`,
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      ),
      't',
      'verify-full with the user CA',
    );
    const pods = () => instancePods(ns, 'certs');
    const served = async (serial: string) => {
      for (const pod of pods())
        if (
          (await servedCertificateSerial(
            pod.ip!,
            `${pod.name}.certs-pods.${ns.name}.svc`,
            userCa.certificate,
          )) !== serial
        )
          return undefined;
      return true;
    };
    await eventually('every instance serves the user certificate', () =>
      served(new X509Certificate(first.certificate).serialNumber),
    );
    const primary = clusterStatus(ns, 'certs').primaryPod!;
    await eventually('the replica streams, verifying the primary with the user CA', () =>
      psqlInPod(
        ns,
        primary,
        'SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl',
      ) === '1'
        ? true
        : undefined,
    );

    // The issuer renews it (cert-manager writes the same Secret): served without a restart.
    const restartsBefore = pods().map((p) => p.restarts);
    const renewed = await leaf(names);
    writeSecret(renewed);
    await eventually(
      'every instance serves the renewed user certificate',
      () => served(new X509Certificate(renewed.certificate).serialNumber),
      240,
    );
    assert.deepEqual(
      pods().map((p) => p.restarts),
      restartsBefore,
      'no container restarted',
    );
    assert.equal(sql(ns, certsClient, `certs-replica.${ns.name}.svc`, 'SELECT pg_is_in_recovery()'), 't');
  });

  it('serves the certificate a real cert-manager issues from a Certificate, and its reissue, without a restart', async () => {
    // cert-manager's way to a private CA: a self-signed root, and an Issuer signing with it.
    const issuerRef = (name: string) => ({ name, kind: 'Issuer', group: 'cert-manager.io' });
    const certificate = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name },
      spec: {
        secretName: name,
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        ...spec,
      },
    });
    const issuer = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name },
      spec,
    });
    const dnsNames = [
      `certs-primary.${ns.name}.svc`,
      `certs-replica.${ns.name}.svc`,
      `*.certs-pods.${ns.name}.svc`,
    ];
    ns.apply(
      issuer('self-signed', { selfSigned: {} }),
      certificate('certs-root', {
        isCA: true,
        commonName: 'certs root CA',
        issuerRef: issuerRef('self-signed'),
      }),
      issuer('certs-root', { ca: { secretName: 'certs-root' } }),
      certificate('certs-cm', { dnsNames, usages: ['server auth'], issuerRef: issuerRef('certs-root') }),
    );
    const issued = () => {
      const res = ns.try('get', 'secret', 'certs-cm', '-o', 'json');
      if (res.code !== 0) return undefined;
      const data = (JSON.parse(res.stdout) as { data?: Record<string, string> }).data ?? {};
      if (!data['tls.crt'] || !data['ca.crt']) return undefined;
      return {
        serial: new X509Certificate(Buffer.from(data['tls.crt'], 'base64')).serialNumber,
        ca: Buffer.from(data['ca.crt'], 'base64').toString(),
      };
    };
    const first = await eventually('cert-manager issued certs-cm', issued, 120);
    assert.equal(
      ns.k(
        'get',
        'certificate',
        'certs-cm',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ),
      'True',
    );

    patchSpec('certs', { tls: { serverCertificateSecret: 'certs-cm' } });
    const pods = () => instancePods(ns, 'certs');
    // Until an instance reloads, it serves the previous certificate, which this CA does not verify.
    const servedBy = async (serial: string, ca: string) => {
      for (const pod of pods()) {
        const name = `${pod.name}.certs-pods.${ns.name}.svc`;
        const served = await servedCertificateSerial(pod.ip!, name, ca).catch(() => undefined);
        if (served !== serial) return undefined;
      }
      return true;
    };
    await eventually(
      'every instance serves the certificate cert-manager issued',
      () => servedBy(first.serial, first.ca),
      240,
    );
    await eventually("applications get cert-manager's CA", () =>
      secretValue(ns, 'certs-app', 'ca.crt') === first.ca ? true : undefined,
    );

    // A changed Certificate is issued again (with a new key): served without a restart.
    const restartsBefore = pods().map((p) => p.restarts);
    ns.apply(
      certificate('certs-cm', {
        dnsNames: [...dnsNames, `certs.${ns.name}.svc`],
        usages: ['server auth'],
        issuerRef: issuerRef('certs-root'),
      }),
    );
    const reissued = await eventually(
      'cert-manager issued certs-cm again',
      () => {
        const now = issued();
        return now && now.serial !== first.serial ? now : undefined;
      },
      120,
    );
    await eventually(
      'every instance serves the reissued certificate',
      () => servedBy(reissued.serial, reissued.ca),
      240,
    );
    assert.deepEqual(
      pods().map((p) => p.restarts),
      restartsBefore,
      'no container restarted',
    );
    // The client's CA file comes from Secret certs-app through a volume, which the kubelet
    // refreshes within about a minute of the Secret.
    const certsClient = await startSqlClient(ns, 'certs');
    await eventually(
      "verify-full with cert-manager's CA",
      () => {
        const res = trySql(
          ns,
          certsClient,
          `certs-primary.${ns.name}.svc`,
          'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
        );
        return res.code === 0 && res.stdout.trim() === 't' ? true : undefined;
      },
      120,
    );
    ns.k('delete', 'pgc', 'certs', '--wait=false');
  });

  it('owns its children, labels them, and meets the restricted Pod Security Standard', () => {
    const uid = ns.k('get', 'pgc', 'my-cluster', '-o', 'jsonpath={.metadata.uid}');
    const kinds = 'statefulset,service,configmap,secret,serviceaccount,role,rolebinding,poddisruptionbudget';
    const children = JSON.parse(
      ns.k(
        'get',
        kinds,
        '-l',
        'postgres.example.com/cluster=my-cluster,app.kubernetes.io/managed-by=pgop',
        '-o',
        'json',
      ),
    ) as {
      items: {
        kind: string;
        metadata: { name: string; ownerReferences?: { uid: string; controller?: boolean }[] };
      }[];
    };
    const names = children.items.map((c) => `${c.kind}/${c.metadata.name}`).sort();
    assert.deepEqual(names, [
      'ConfigMap/my-cluster-patroni',
      'PodDisruptionBudget/my-cluster',
      'Role/my-cluster-instance',
      'RoleBinding/my-cluster-instance',
      'Secret/my-cluster-app',
      'Secret/my-cluster-replication',
      'Secret/my-cluster-rewind',
      'Secret/my-cluster-superuser',
      'Secret/my-cluster-tls',
      'Service/my-cluster-pods',
      'Service/my-cluster-primary',
      'Service/my-cluster-replica',
      'ServiceAccount/my-cluster-instance',
      'StatefulSet/my-cluster',
    ]);
    for (const child of children.items)
      assert.ok(
        child.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller),
        `${child.kind}/${child.metadata.name} is owned`,
      );
    const sts = JSON.parse(ns.k('get', 'statefulset', 'my-cluster', '-o', 'json')) as {
      spec: {
        updateStrategy: { type: string };
        volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[];
        template: { spec: { affinity: unknown } };
      };
    };
    assert.equal(sts.spec.updateStrategy.type, 'OnDelete');
    assert.equal(
      sts.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage,
      '10Gi',
      'spec.storage.size of examples/basic-cluster.yaml',
    );
    assert.match(
      JSON.stringify(sts.spec.template.spec.affinity),
      /preferredDuringScheduling.*kubernetes.io\/hostname/,
    );
    const password = ns.k('get', 'secret', 'my-cluster-superuser', '-o', 'jsonpath={.data.password}');
    assert.ok(Buffer.from(password, 'base64').length >= 40, 'a generated password of 32 random bytes');
    assert.equal(
      ns.k(
        'get',
        'namespace',
        ns.name,
        '-o',
        "jsonpath={.metadata.labels['pod-security\\.kubernetes\\.io/enforce']}",
      ),
      'restricted',
    );
  });

  it('stops a command it runs in a pod when its time is up, in the pod too, and keeps only the end of long output', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(ns.cluster.kubeconfigPath);
    const target = { namespace: ns.name, pod: 'my-cluster-0', container: 'postgres' };
    await assert.rejects(
      execInPod(kubeConfig, target, ['sleep', '313'], { timeoutMs: 2_000 }),
      /sleep in my-cluster-0 did not finish within 2000 ms/,
    );
    const commandLines = ns.k(
      'exec',
      'my-cluster-0',
      '-c',
      'postgres',
      '--',
      'sh',
      '-c',
      'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done',
    );
    assert.doesNotMatch(commandLines, /sleep 313/);

    const long = await execInPod(
      kubeConfig,
      target,
      ['sh', '-c', 'head -c 10000000 /dev/zero | tr "\\0" x; echo END'],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(long.exitCode, 0);
    assert.ok(long.stdout.length < OUTPUT_LIMIT_BYTES + 100, `kept ${long.stdout.length} bytes`);
    assert.match(long.stdout, /^\[first \d+ bytes dropped\]\nx+END\n$/);
  });

  it('rolls a resources change: replicas one by one, then a switchover, the old primary last; never two primaries; data intact', async () => {
    const before = instancePods(ns, 'my-cluster');
    const oldPrimary = primaries(before)[0]!.name;
    const replaced: string[] = [];
    let maxPrimaries = 0;
    const sample = () => {
      const pods = instancePods(ns, 'my-cluster');
      maxPrimaries = Math.max(maxPrimaries, primaries(pods).length);
      for (const p of pods) {
        const old = before.find((b) => b.name === p.name);
        if (old && old.uid !== p.uid && !replaced.includes(p.name)) replaced.push(p.name);
      }
      return pods;
    };
    patchSpec('my-cluster', { resources: { requests: { cpu: '50m', memory: '64Mi' } } });
    const generation = Number(ns.k('get', 'pgc', 'my-cluster', '-o', 'jsonpath={.metadata.generation}'));
    await eventually(
      'every pod replaced and the cluster Running',
      () => {
        const pods = sample();
        const s = clusterStatus(ns, 'my-cluster');
        return replaced.length === 3 &&
          pods.every((p) => p.ready) &&
          s.phase === 'Running' &&
          s.observedGeneration === generation
          ? true
          : undefined;
      },
      300,
      () => JSON.stringify({ replaced, status: clusterStatus(ns, 'my-cluster') }),
    );
    assert.equal(maxPrimaries, 1, 'at most one pod labelled primary at every sample');
    assert.equal(
      replaced.at(-1),
      oldPrimary,
      `replacement order ${replaced.join(', ')}: the old primary last`,
    );
    assert.notEqual(
      clusterStatus(ns, 'my-cluster').primaryPod,
      oldPrimary,
      'the primary role moved by switchover',
    );
    const requests = ns.k(
      'get',
      'pod',
      oldPrimary,
      '-o',
      'jsonpath={.spec.containers[0].resources.requests.cpu}',
    );
    assert.equal(requests, '50m');
    assert.equal(sql(ns, client, 'my-cluster-primary', 'SELECT note FROM demo WHERE id = 1'), 'hello');
    sql(ns, client, 'my-cluster-primary', 'INSERT INTO demo VALUES (2, $$after the update$$)');
  });

  it('recovers from the deletion of the primary pod: a new primary, Running again, no data lost', async () => {
    const oldPrimary = clusterStatus(ns, 'my-cluster').primaryPod!;
    ns.k('delete', 'pod', oldPrimary, '--wait=false');
    const status = await eventually(
      'a new primary and Running 3/3',
      () => {
        const s = clusterStatus(ns, 'my-cluster');
        return s.primaryPod &&
          s.primaryPod !== oldPrimary &&
          s.phase === 'Running' &&
          s.readySummary === '3/3'
          ? s
          : undefined;
      },
      180,
    );
    assert.equal(primaries(instancePods(ns, 'my-cluster')).length, 1);
    assert.equal(sql(ns, client, 'my-cluster-primary', 'SELECT count(*) FROM demo'), '2');
    assert.equal(condition(status, 'Ready')?.status, 'True');
  });

  it('refuses a change of major version with a condition, leaving the instances alone', async () => {
    const image = () =>
      ns.k('get', 'statefulset', 'my-cluster', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    patchSpec('my-cluster', { version: 18 });
    const progressing = await eventually(
      'the refusal',
      () => {
        const c = condition(clusterStatus(ns, 'my-cluster'), 'Progressing');
        return c?.reason === 'MajorVersionChangeRefused' ? c : undefined;
      },
      60,
    );
    assert.equal(progressing.status, 'False');
    assert.match(progressing.message, /spec.version 18 differs from the major version of the data \(16\)/);
    assert.equal(image(), 'localhost/pgop/postgres:16');
    patchSpec('my-cluster', { version: 16 });
    await eventually(
      'back to UpToDate',
      () =>
        condition(clusterStatus(ns, 'my-cluster'), 'Progressing')?.reason === 'UpToDate' ? true : undefined,
      60,
    );
  });

  it('does nothing while paused, and catches up when unpaused', async () => {
    ns.k('annotate', 'pgc', 'my-cluster', 'postgres.example.com/paused=true');
    patchSpec('my-cluster', { replicas: 2 });
    await eventually(
      'the Paused condition',
      () =>
        condition(clusterStatus(ns, 'my-cluster'), 'Progressing')?.reason === 'Paused' ? true : undefined,
      60,
    );
    await sleep(10_000); // a reconcile that ignored the pause would have scaled by now
    assert.equal(ns.k('get', 'statefulset', 'my-cluster', '-o', 'jsonpath={.spec.replicas}'), '3');
    assert.equal(instancePods(ns, 'my-cluster').length, 3);
    ns.k('annotate', 'pgc', 'my-cluster', 'postgres.example.com/paused-');
    await eventually(
      '2 instances',
      () => {
        const s = clusterStatus(ns, 'my-cluster');
        return s.phase === 'Running' &&
          s.readySummary === '2/2' &&
          instancePods(ns, 'my-cluster').length === 2
          ? true
          : undefined;
      },
      120,
    );
  });

  it('applies parameter changes through Patroni: reloadable ones at once, restart-only ones by a rolling restart', async () => {
    const parameters = { work_mem: '8MB', max_connections: 150 };
    patchSpec('my-cluster', { postgresql: { parameters } });
    await eventually(
      'work_mem 8MB on the primary',
      () => (sql(ns, client, 'my-cluster-primary', 'SHOW work_mem') === '8MB' ? true : undefined),
      60,
    );
    await eventually(
      'max_connections 150 on the primary and the replica, Running',
      () => {
        const s = clusterStatus(ns, 'my-cluster');
        // Mid-roll, an instance restarting for the new value refuses connections for a moment.
        const show = (service: string) => {
          try {
            return sql(ns, client, service, 'SHOW max_connections');
          } catch {
            return undefined;
          }
        };
        const ok =
          s.phase === 'Running' &&
          show('my-cluster-primary') === '150' &&
          show('my-cluster-replica') === '150';
        return ok ? true : undefined;
      },
      300,
      () => JSON.stringify(clusterStatus(ns, 'my-cluster')),
    );
    assert.match(
      ns.k('get', 'events.events.k8s.io', '-o', 'jsonpath={.items[*].reason}'),
      /ConfigurationApplied/,
    );
    assert.equal(sql(ns, client, 'my-cluster-primary', 'SELECT count(*) FROM demo'), '2');
  });

  it('scales 1 → 5 → 2 without ever removing the primary, keeping the data', async () => {
    ns.apply(postgresCluster('scaled', { replicas: 1 }));
    waitReady(ns, 'scaled');
    const scaledClient = await startSqlClient(ns, 'scaled');
    sql(ns, scaledClient, 'scaled-primary', 'CREATE TABLE t AS SELECT generate_series(1, 1000) AS n');
    ns.k('scale', 'pgc', 'scaled', '--replicas=5');
    // Every replica streaming first: Patroni hands the primary role only to a streaming one.
    await waitWhole(ns, 'scaled', 5);
    // Put the primary on an ordinal the scale-down removes.
    await switchOverTo(ns, 'scaled', 'scaled-4');
    await eventually('scaled-4 primary in status', () =>
      clusterStatus(ns, 'scaled').primaryPod === 'scaled-4' ? true : undefined,
    );
    let maxPrimaries = 0;
    ns.k('scale', 'pgc', 'scaled', '--replicas=2');
    const status = await eventually(
      'Running 2/2',
      () => {
        const pods = instancePods(ns, 'scaled');
        maxPrimaries = Math.max(maxPrimaries, primaries(pods).length);
        const s = clusterStatus(ns, 'scaled');
        return s.phase === 'Running' && s.readySummary === '2/2' && pods.length === 2 ? s : undefined;
      },
      240,
    );
    assert.ok(['scaled-0', 'scaled-1'].includes(status.primaryPod!), `primary ${status.primaryPod} survives`);
    assert.equal(maxPrimaries, 1);
    assert.equal(sql(ns, scaledClient, 'scaled-primary', 'SELECT count(*) FROM t'), '1000');
    const pvcs = ns
      .k('get', 'pvc', '-l', 'postgres.example.com/cluster=scaled', '-o', 'name')
      .trim()
      .split('\n');
    assert.equal(pvcs.length, 5, 'whenScaled: Retain keeps the volumes of removed instances');
  });

  it('hands the controller lease over when the leader is killed, and keeps reconciling', async () => {
    const cluster = localCluster();
    const holder = () =>
      kubectlOk(cluster, [
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'lease',
        'pgop-cluster-controller',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]);
    const first = holder();
    kubectlOk(cluster, [
      '-n',
      OPERATOR_NAMESPACE,
      'delete',
      'pod',
      first,
      '--grace-period=1',
      '--wait=false',
    ]);
    const second = await eventually(
      'a new lease holder',
      () => {
        const h = holder();
        return h && h !== first ? h : undefined;
      },
      60,
    );
    assert.notEqual(second, first);
    ns.k('scale', 'pgc', 'scaled', '--replicas=3');
    await waitRunning(ns, 'scaled', 3, 180); // under the new leader
  });

  it('deletes a cluster: children and Patroni state go; volumes follow whenDeleted', async () => {
    ns.apply(
      postgresCluster('kept', { replicas: 1 }),
      postgresCluster('dropped', {
        replicas: 1,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
      }),
    );
    waitReady(ns, 'kept');
    waitReady(ns, 'dropped');
    ns.k('delete', 'pgc', 'kept', 'dropped', '--timeout=120s');
    // Retained volumes keep the credentials their roles have; everything else goes.
    const kept = ['kept-app', 'kept-replication', 'kept-rewind', 'kept-superuser']
      .map((s) => `secret/${s}`)
      .join('\n');
    for (const [name, left] of [
      ['kept', kept],
      ['dropped', ''],
    ] as const) {
      await eventually(
        `${name}'s pods and objects gone`,
        () =>
          ns
            .k(
              'get',
              'statefulset,pod,service,configmap,secret,role,poddisruptionbudget',
              '-l',
              `postgres.example.com/cluster=${name}`,
              '-o',
              'name',
            )
            .trim() === left
            ? true
            : undefined,
        120,
      );
    }
    const pvcs = (name: string) =>
      ns.k('get', 'pvc', '-l', `postgres.example.com/cluster=${name}`, '-o', 'name').trim();
    assert.equal(
      pvcs('kept'),
      'persistentvolumeclaim/pgdata-kept-0',
      'whenDeleted: Retain (the default) keeps the data',
    );
    await eventually("dropped's volume deleted", () => (pvcs('dropped') === '' ? true : undefined), 60);
  });
});
