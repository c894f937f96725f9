import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import type { AccountRecord } from '../../store/index.js';

// What a page may send and read. No credentials mode: the APIs authenticate with headers and
// fields, never cookies, so `Access-Control-Allow-Credentials` is never sent.
export const ALLOW_HEADERS = 'Authorization, Content-Type, Idempotency-Key, X-Requested-With';
const EXPOSE_HEADERS = 'Retry-After, X-Parley-Pin, Idempotent-Replayed';
export const MAX_AGE_SECONDS = '600';

/**
 * Lets the page at the request's `Origin` read this answer when the policy allows it for
 * `account` (the authenticated account; undefined before or without authentication). Called by
 * each surface's auth hook once the account is known, and by its error handler.
 */
export function exposeTo(core: Core, request: FastifyRequest, reply: FastifyReply, account: AccountRecord | undefined): void {
  const origin = request.headers.origin;
  if (origin === undefined || !core.cors.allows(origin, account)) return;
  reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin').header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
}
