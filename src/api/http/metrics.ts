import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from '../../metrics/registry.js';
import { LIVEMINUTES_METHODS } from '../liveminutes/routes.js';

const LIVEMINUTES_PATHS = new Set<string>(LIVEMINUTES_METHODS.map((m) => `/${m}`));

/** Which API a route pattern belongs to (a label of the latency histogram). */
export function surfaceOf(route: string): string {
  if (route.startsWith('/api/v1/admin')) return 'admin';
  if (route.startsWith('/api/v1')) return 'native';
  if (route.startsWith('/livebox/')) return 'livebox';
  if (LIVEMINUTES_PATHS.has(route)) return 'liveminutes';
  return 'other';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Loopback peer, and no proxy in between (a proxy on the same host would make everyone local). */
function fromThisHost(request: FastifyRequest): boolean {
  const address = request.socket.remoteAddress ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  return loopback && request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined;
}

/**
 * GET /metrics in Prometheus' text format, and the API latency histogram. With METRICS_TOKEN set,
 * a scrape needs `Authorization: Bearer <token>` (compared in constant time) from anywhere;
 * without it, only this host may scrape (loopback, not through a proxy).
 */
export function metricsRoutes(app: FastifyInstance, metrics: Metrics, token: string | undefined): void {
  // The route pattern (`/api/v1/meetings/:id`), never the URL: URLs hold link tokens and ids.
  // One histogram child per (method, route, status), kept: labelling an observation from an
  // object hashes its labels each time (measured: most of the hook's cost on getMeetingStatus).
  const children = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = children.get(key);
    if (!child) {
      child = metrics.httpDuration.labels({ method: request.method, route, status_code: reply.statusCode, surface: surfaceOf(route) });
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });

  const expected = token ? digest(`Bearer ${token}`) : undefined;
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
        return reply.status(401).header('WWW-Authenticate', 'Bearer realm="metrics"').send({ error: 'send the METRICS_TOKEN as "Authorization: Bearer <token>"' });
      }
    } else if (!fromThisHost(request)) {
      return reply.status(403).send({ error: 'metrics are served to this host only; set METRICS_TOKEN to scrape from elsewhere' });
    }
    const { contentType, body } = await metrics.text();
    return reply.type(contentType).send(body);
  });
}
