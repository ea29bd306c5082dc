/**
 * Carries out the cluster's TLS: issues Secret <cluster>-tls when it is missing, renews its
 * leaves from the kept CA when a third of their life is left (cluster-certificates.ts decides),
 * and keeps the CA in the credential Secrets clients read (key ca.crt) current. A renewed
 * certificate reaches the pods through their projected volume; pgop-fence sees the files change
 * and has Patroni reload, which reloads PostgreSQL: no restart (images/postgres/pgop-fence).
 */
import type { V1Secret } from '@kubernetes/client-node';
import { secretData, type EventRecorder, type Informer, type ObjectClient } from '@pgop/runtime';
import type { Logger } from 'winston';
import { childNames, clusterEventTarget } from '../naming.js';
import type { ClusterObservation } from '../observe.js';
import { renderClusterTlsSecret } from '../render/secrets.js';
import {
  CLUSTER_TLS_KEYS,
  clusterServerNames,
  clusterTlsData,
  decideClusterCertificates,
  issueClusterCertificates,
  keptCertificateAuthority,
} from './cluster-certificates.js';

export interface CertificateRunnerDeps {
  client: ObjectClient;
  events: EventRecorder;
  logger: Logger;
  secrets: Informer<V1Secret>;
}

export class CertificateRunner {
  constructor(private readonly deps: CertificateRunnerDeps) {}

  /** Issues or renews the certificates as due; returns the cluster's CA certificate. */
  async ensure(o: ClusterObservation): Promise<string | undefined> {
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
      const rendered = renderClusterTlsSecret(o.cluster, clusterTlsData(certificates));
      ca = certificates.ca.certificate;
      if (!secret) {
        if ((await this.deps.client.createIfAbsent(rendered)) !== 'created') return undefined;
        this.deps.logger.info('issued the TLS certificates', { key: o.key, name: names.tlsSecret });
      } else {
        await this.deps.client.mergePatch(
          { apiVersion: 'v1', kind: 'Secret', name: names.tlsSecret, namespace: o.namespace },
          { stringData: rendered.stringData },
        );
        this.deps.logger.info('renewed the TLS certificates', { key: o.key, name: names.tlsSecret });
        await this.deps.events.record(
          clusterEventTarget(o.cluster),
          'Normal',
          'CertificatesRenewed',
          'Reconcile',
          `the TLS certificates in Secret ${names.tlsSecret} were ${step.reason}; the instances reload them without a restart`,
        );
      }
    }
    return ca;
  }

  /**
   * The CA a client verifies the server with, into the application's and the superuser's Secrets
   * that exist and hold another (Secrets created now have it already: render/secrets.ts).
   */
  async publishCertificateAuthority(o: ClusterObservation, ca: string | undefined): Promise<void> {
    if (!ca) return;
    const names = childNames(o.name);
    for (const name of [names.applicationSecret, names.superuserSecret]) {
      const secret = this.deps.secrets.get(name, o.namespace);
      if (!secret || secretData(secret)[CLUSTER_TLS_KEYS.ca] === ca) continue;
      await this.deps.client.mergePatch(
        { apiVersion: 'v1', kind: 'Secret', name, namespace: o.namespace },
        { stringData: { [CLUSTER_TLS_KEYS.ca]: ca } },
      );
    }
  }
}
