/**
 * Carries out the cluster's TLS: checks a server certificate the user provides
 * (server-certificate.ts), issues Secret <cluster>-tls when it is missing, renews its leaves from
 * the kept CA when a third of their life is left (cluster-certificates.ts decides), and keeps the
 * CA in the credential Secrets clients read (key ca.crt) current. A renewed certificate reaches
 * the pods through their Secret volume; pgop-fence sees the files change and has Patroni reload,
 * which reloads PostgreSQL: no restart (images/postgres/pgop-fence).
 */
import type { V1Secret } from '@kubernetes/client-node';
import { secretData, type EventRecorder, type Informer, type ObjectClient } from '@pgop/runtime';
import type { Logger } from 'winston';
import { passwordSecretOf } from '../access/declared.js';
import { childNames, clusterEventTarget } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { renderClusterTlsSecret } from '../render/secrets.js';
import type { Blocker } from '../blocker.js';
import {
  CLUSTER_TLS_KEYS,
  clusterServerNames,
  clusterTlsData,
  decideClusterCertificates,
  issueClusterCertificates,
  keptCertificateAuthority,
  trustedCertificateAuthorities,
} from './cluster-certificates.js';
import {
  checkServerCertificate,
  requiredServerNames,
  type ServerCertificateCheck,
} from './server-certificate.js';

export interface CertificateRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  secrets: Informer<V1Secret>;
}

/** What the rest of the reconcile needs from the cluster's TLS. */
export interface TlsState {
  /** The CA clients verify the server with (the user's server certificate's, or the cluster's). */
  clientCa?: string;
  /** The user's server certificate is unusable: nothing changes until it is fixed. */
  blocker?: Blocker;
}

export class CertificateRunner {
  constructor(private readonly deps: CertificateRunnerDeps) {}

  /**
   * Checks the user's server certificate (if spec.tls names one), then issues or renews the
   * cluster's certificates as due and keeps the members' trusted CAs current.
   */
  async ensure(o: ClusterObservation): Promise<TlsState> {
    const server = await this.checkServerCertificate(o);
    if (server && !server.ok) return { blocker: server.blocker };
    const serverCa = server?.ca;
    const names = childNames(o.name);
    const secret = this.deps.secrets.get(names.tlsSecret, o.namespace);
    const data = secret ? secretData(secret) : undefined;
    const step = decideClusterCertificates(data, new Date());
    let ca = data?.[CLUSTER_TLS_KEYS.ca];
    if (step.type === 'issue') {
      const certificates = await issueClusterCertificates(
        `${o.namespace}/${o.name} PostgreSQL CA`,
        clusterServerNames(o.name, o.namespace),
        step.keepCa ? keptCertificateAuthority(data!) : undefined,
      );
      const rendered = renderClusterTlsSecret(
        o.cluster,
        clusterTlsData(certificates, serverCa, data?.[CLUSTER_TLS_KEYS.trustedCa]),
      );
      ca = certificates.ca.certificate;
      const saved = await saveCertificates(this.deps, o, secret, rendered, {
        what: 'TLS certificates',
        reason: step.reason,
        afterwards: 'the instances reload them without a restart',
      });
      if (!saved) return {};
    } else if (secret && ca) {
      const trusted = trustedCertificateAuthorities(ca, serverCa, data![CLUSTER_TLS_KEYS.trustedCa]);
      if (data![CLUSTER_TLS_KEYS.trustedCa] !== trusted)
        await patchAgainstVersion(this.deps.client, secret, { [CLUSTER_TLS_KEYS.trustedCa]: trusted });
    }
    return { clientCa: serverCa ?? ca };
  }

  /**
   * The user's Secret, read from the API (it carries no pgop label, so it is not in the cache)
   * at each reconcile: a renewed certificate reaches the pods through their volume, and a new CA
   * reaches the client Secrets at the next reconcile.
   */
  private async checkServerCertificate(o: ClusterObservation): Promise<ServerCertificateCheck | undefined> {
    const name = o.cluster.spec.tls?.serverCertificateSecret;
    if (!name) return undefined;
    const secret = await this.deps.client.read<V1Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      name,
      namespace: o.namespace,
    });
    return checkServerCertificate(
      name,
      secret ? secretData(secret) : undefined,
      requiredServerNames(o.name, o.namespace, o.cluster.spec.replicas),
      new Date(),
    );
  }

  /**
   * The CA a client verifies the server with, into the application's and the superuser's Secrets
   * that exist and hold another (Secrets created now have it already: render/secrets.ts).
   */
  async publishCertificateAuthority(o: ClusterObservation, ca: string | undefined): Promise<void> {
    if (!ca) return;
    const names = childNames(o.name);
    const roleSecrets = (o.cluster.spec.roles ?? [])
      .map((role) => passwordSecretOf(o.name, role))
      .filter((source) => source?.generated)
      .map((source) => source!.name);
    for (const name of [names.applicationSecret, names.superuserSecret, ...roleSecrets]) {
      const secret = this.deps.secrets.get(name, o.namespace);
      if (!secret || secretData(secret)[CLUSTER_TLS_KEYS.ca] === ca) continue;
      await this.deps.client.mergePatch(
        { apiVersion: 'v1', kind: 'Secret', name, namespace: o.namespace },
        { stringData: { [CLUSTER_TLS_KEYS.ca]: ca } },
      );
    }
  }
}

/**
 * Writes newly issued certificates: creates their Secret, or renews it in place (with a
 * CertificatesRenewed event). False when another writer created the Secret first (the next
 * reconcile reads theirs). Shared by the cluster's and the repository's certificates.
 */
export async function saveCertificates(
  deps: Pick<CertificateRunnerDeps, 'client' | 'events' | 'logger'>,
  o: ClusterObservation,
  existing: V1Secret | undefined,
  rendered: V1Secret,
  about: { what: string; reason: string; afterwards: string },
): Promise<boolean> {
  const name = rendered.metadata!.name!;
  if (!existing) {
    if ((await deps.client.createIfAbsent(rendered)) !== 'created') return false;
    deps.logger.info(`issued the ${about.what}`, { key: o.key, name });
    return true;
  }
  await patchAgainstVersion(deps.client, existing, rendered.stringData!);
  deps.logger.info(`renewed the ${about.what}`, { key: o.key, name });
  await deps.events.record(
    clusterEventTarget(o.cluster),
    'Normal',
    'CertificatesRenewed',
    'Reconcile',
    `the ${about.what} in Secret ${name} were ${about.reason}; ${about.afterwards}`,
  );
  return true;
}

/**
 * Against the version decided on: a reconcile reading a cache that lags behind an earlier
 * change gets a conflict (and looks again), instead of renewing twice.
 */
async function patchAgainstVersion(
  client: ObjectClient,
  secret: V1Secret,
  stringData: Record<string, string>,
): Promise<void> {
  await client.mergePatch(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      name: secret.metadata!.name!,
      namespace: secret.metadata!.namespace!,
    },
    { metadata: { resourceVersion: secret.metadata?.resourceVersion }, stringData },
  );
}
