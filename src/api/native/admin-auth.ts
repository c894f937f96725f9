import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CoreError, type AdminSession, type Core } from '../../core/index.js';
import * as S from './schemas.js';
import { bearerToken } from './support.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `none`: the route authenticates by itself (the console's sign-in). */
    adminAuth?: 'none';
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/** The cookie's name: `__Host-` (Secure, Path=/, no Domain, enforced by browsers) when served over https. */
const cookieName = (secure: boolean) => (secure ? '__Host-parley_admin' : 'parley_admin');
const isHttps = (core: Core) => core.links.base.startsWith('https:');

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function setSessionCookie(core: Core, reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  const secure = isHttps(core);
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])];
  reply.header('Set-Cookie', `${cookieName(secure)}=${value}; ${attributes.join('; ')}`);
}

/**
 * A change through the console must come from the console's own pages: an `Origin` other than
 * the public URL's or the one the request was sent to (same host, same scheme) is refused.
 */
function assertSameOrigin(core: Core, request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return; // not a browser: the CSRF header still has to be right
  const own = new Set([new URL(core.links.base).origin, `${request.protocol}://${request.host}`]);
  if (!own.has(origin)) throw new CoreError('forbidden', `requests from ${origin.slice(0, 100)} may not change anything here`);
}

/** The console session the request's cookie names (throws `unauthenticated` without one). */
function sessionOf(core: Core, request: FastifyRequest): Promise<AdminSession> {
  return core.adminSessions.check(readCookie(request, cookieName(isHttps(core))) ?? '');
}

/**
 * The admin API's one authentication: the admin token as a Bearer token, or the console's
 * session cookie — then a change (any method but GET/HEAD/OPTIONS) also needs the session's
 * CSRF token in `X-CSRF-Token` and no foreign `Origin`.
 */
export async function authenticateAdmin(core: Core, request: FastifyRequest): Promise<void> {
  if (request.headers.authorization !== undefined) return core.admin.authenticate(bearerToken(request));
  const session = await sessionOf(core, request);
  if (SAFE_METHODS.has(request.method)) return;
  assertSameOrigin(core, request);
  const sent = request.headers[CSRF_HEADER];
  core.adminSessions.assertCsrf(session, Array.isArray(sent) ? sent[0] : sent);
}

const SessionState = Type.Object({
  csrfToken: Type.String({ description: `send it in the ${CSRF_HEADER} header with every change` }),
  expiresAt: Type.String({ format: 'date-time' }),
}, { title: 'AdminSession' });

const sessionView = (s: AdminSession) => ({ csrfToken: s.csrfToken, expiresAt: s.expiresAt.toISOString() });

/** Sign in, the session's state, sign out: the operator console's session (cookie + CSRF token). */
export function adminSessionRoutes(parent: FastifyInstance, core: Core): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];
  const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header('Cache-Control', 'no-store');
  };

  app.post('/session', {
    config: { adminAuth: 'none' },
    onRequest: noStore,
    schema: {
      tags, summary: 'Sign in to the operator console with the admin token',
      description: 'Sets an HttpOnly, SameSite=Strict session cookie and answers the CSRF token that changes made with it must carry. Wrong tokens are limited per address (429).',
      body: Type.Object({ token: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
      response: { 200: SessionState, ...S.BodyErrors },
    },
  }, async (request, reply) => {
    assertSameOrigin(core, request);
    const session = await core.adminSessions.open(request.body.token.trim(), request.ip);
    setSessionCookie(core, reply, session.id, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000));
    return sessionView(session);
  });

  app.get('/session', {
    config: { adminAuth: 'none' },
    onRequest: noStore,
    schema: { tags, summary: 'The console session of this cookie, with its CSRF token', response: { 200: SessionState, ...S.Errors } },
  }, async (request) => sessionView(await sessionOf(core, request)));

  app.delete('/session', {
    onRequest: noStore,
    schema: { tags, summary: 'Sign out of the operator console', response: { 204: Type.Null({ description: 'signed out' }), ...S.Errors } },
  }, async (request, reply) => {
    const id = readCookie(request, cookieName(isHttps(core)));
    if (id) core.adminSessions.close(id);
    setSessionCookie(core, reply, '', 0);
    return reply.status(204).send(null);
  });
}
