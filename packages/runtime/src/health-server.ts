/**
 * /healthz (the process answers), /readyz (every readiness check passes) and /metrics on one
 * port. /healthz deliberately does not ask the API server: a blip there must not make the
 * kubelet restart every controller replica.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => boolean | Promise<boolean>;

export class HealthServer {
  private readonly checks = new Map<string, ReadinessCheck>();
  private server?: Server;

  constructor(private readonly registry: Registry) {}

  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    this.server = createServer((req, res) => {
      void this.handle(req.url ?? '/').then(
        ({ status, type, body }) => res.writeHead(status, { 'Content-Type': type }).end(body),
        (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(url: string): Promise<{ status: number; type: string; body: string }> {
    const path = url.split('?')[0];
    if (path === '/healthz') return { status: 200, type: 'text/plain', body: 'ok' };
    if (path === '/readyz') {
      const failing: string[] = [];
      for (const [name, check] of this.checks) {
        if (!(await Promise.resolve(check()).catch(() => false))) failing.push(name);
      }
      return failing.length === 0
        ? { status: 200, type: 'text/plain', body: 'ok' }
        : { status: 503, type: 'text/plain', body: `not ready: ${failing.join(', ')}` };
    }
    if (path === '/metrics')
      return { status: 200, type: this.registry.contentType, body: await this.registry.metrics() };
    return { status: 404, type: 'text/plain', body: 'not found' };
  }
}
