import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.js';
import { LIVEBOX_PREFIX } from '../livebox/routes.js';
import { LIVEMINUTES_METHODS } from '../liveminutes/routes.js';
import { ALLOW_HEADERS, MAX_AGE_SECONDS } from './cors.js';

const LIVEMINUTES_PATHS: ReadonlySet<string> = new Set(LIVEMINUTES_METHODS.map((m) => `/${m}`));

/** Which surface a path belongs to, for CORS: the operator's /api/v1/admin is none of them. */
export function corsSurfaceOf(path: string): 'native' | 'legacy' | undefined {
  if (path.startsWith('/api/v1/')) return path.startsWith('/api/v1/admin') ? undefined : 'native';
  if (path.startsWith(`${LIVEBOX_PREFIX}/`) || LIVEMINUTES_PATHS.has(path)) return 'legacy';
  return undefined;
}

/**
 * Preflights (OPTIONS with Access-Control-Request-Method) to the API surfaces: a preflight
 * carries no credentials, so it is answered for an origin the operator or any account allows;
 * another origin gets a 403 without CORS headers, which the browser takes as a refusal.
 */
export function registerPreflight(app: FastifyInstance, core: Core): void {
  app.options('*', async (request, reply) => {
    const surface = corsSurfaceOf(request.url.split('?')[0]);
    const origin = request.headers.origin;
    if (!surface || origin === undefined || request.headers['access-control-request-method'] === undefined) return reply.callNotFound();
    if (!(await core.cors.preflight(origin))) return reply.status(403).send();
    return reply.status(204)
      .header('Access-Control-Allow-Origin', origin)
      .header('Vary', 'Origin')
      .header('Access-Control-Allow-Methods', surface === 'native' ? 'GET, POST, PATCH, DELETE' : 'POST')
      .header('Access-Control-Allow-Headers', ALLOW_HEADERS)
      .header('Access-Control-Max-Age', MAX_AGE_SECONDS)
      .send();
  });
}
