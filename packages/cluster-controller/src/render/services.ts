/**
 * The Services of a cluster: <name>-primary (read-write) and <name>-replica (read-only) select
 * pods by the role label Patroni sets, so they follow failovers without pgop acting;
 * <name>-pods is the StatefulSet's headless Service (stable pod DNS names).
 */
import type { V1Service } from '@kubernetes/client-node';
import type { PostgresCluster } from '@pgop/api';
import { childMetadata, childNames, instanceSelector, roleSelector } from '../naming.js';
import { PATRONI_PORT, POSTGRES_PORT } from '../instance-paths.js';

const postgresPort = { name: 'postgresql', port: POSTGRES_PORT, targetPort: 'postgresql', protocol: 'TCP' };

export function renderServices(cluster: PostgresCluster): V1Service[] {
  const name = cluster.metadata.name!;
  const names = childNames(name);
  const service = (serviceName: string, component: string, spec: V1Service['spec']): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(cluster, serviceName, component),
    spec,
  });
  return [
    service(names.primaryService, 'primary', {
      type: 'ClusterIP',
      selector: roleSelector(name, 'primary'),
      ports: [postgresPort],
    }),
    service(names.replicaService, 'replica', {
      type: 'ClusterIP',
      selector: roleSelector(name, 'replica'),
      ports: [postgresPort],
    }),
    service(names.podsService, 'pods', {
      clusterIP: 'None',
      // Replicas must resolve and reach the primary before any pod is ready.
      publishNotReadyAddresses: true,
      selector: instanceSelector(name),
      ports: [postgresPort, { name: 'patroni', port: PATRONI_PORT, targetPort: 'patroni', protocol: 'TCP' }],
    }),
  ];
}
