/**
 * Every request of the API clients made from a KubeConfig passes its
 * applySecurityAuthentication (client-node adds the credentials there). boundApiRequests hooks
 * into it so that:
 * - every request has a deadline (watches excepted: they are long by design and the informer's
 *   watchdog restarts a silent one): a half-open connection cannot hang a worker, or a lease
 *   renewal, for minutes;
 * - no write leaves a process that may not act now (leadership.ts), except the Lease itself,
 *   through which leadership is won and kept;
 * - each request is counted (pgop_api_requests_total): what a controller costs the API server.
 *   Watches are opened elsewhere (client-node's Watch) and not counted; their re-lists are.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { assertMayWrite } from './leadership.js';

export const API_REQUEST_TIMEOUT_MS = 30_000;

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

export interface ApiRequestBounds {
  timeoutMs?: number;
  /** Called once per request, e.g. to count it. */
  onRequest?: (method: string, resource: string) => void;
}

export function boundApiRequests(
  kubeConfig: KubeConfig,
  { timeoutMs = API_REQUEST_TIMEOUT_MS, onRequest }: ApiRequestBounds = {},
): KubeConfig {
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  kubeConfig.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    const url = new URL(context.getUrl());
    const method = String(context.getHttpMethod());
    onRequest?.(method, requestResource(url.pathname));
    if (method !== 'GET' && !url.pathname.startsWith('/apis/coordination.k8s.io/'))
      assertMayWrite(`${method} ${url.pathname}`);
    if (url.searchParams.get('watch') !== 'true' && url.searchParams.get('watch') !== '1')
      context.setSignal(AbortSignal.timeout(timeoutMs));
  };
  return kubeConfig;
}

/**
 * The resource a request path addresses, with its subresource: "pods", "pods/exec",
 * "postgresclusters/status". /api/v1/namespaces/x is "namespaces"; anything else as it is.
 */
export function requestResource(pathname: string): string {
  const parts = pathname.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest?.length) return pathname;
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return scoped.length > 2 ? `${scoped[0]}/${scoped[2]}` : scoped[0]!;
}
