/**
 * Every request of the API clients made from a KubeConfig passes its
 * applySecurityAuthentication (client-node adds the credentials there). boundApiRequests hooks
 * into it so that:
 * - every request has a deadline (watches excepted: they are long by design and the informer's
 *   watchdog restarts a silent one): a half-open connection cannot hang a worker, or a lease
 *   renewal, for minutes;
 * - no write leaves a process that may not act now (leadership.ts), except the Lease itself,
 *   through which leadership is won and kept.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { assertMayWrite } from './leadership.js';

export const API_REQUEST_TIMEOUT_MS = 30_000;

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

export function boundApiRequests(kubeConfig: KubeConfig, timeoutMs = API_REQUEST_TIMEOUT_MS): KubeConfig {
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  kubeConfig.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    const url = new URL(context.getUrl());
    const method = String(context.getHttpMethod());
    if (method !== 'GET' && !url.pathname.startsWith('/apis/coordination.k8s.io/'))
      assertMayWrite(`${method} ${url.pathname}`);
    if (url.searchParams.get('watch') !== 'true' && url.searchParams.get('watch') !== '1')
      context.setSignal(AbortSignal.timeout(timeoutMs));
  };
  return kubeConfig;
}
