import type { FastifyReply, FastifyRequest } from 'fastify';
import { CoreError, type Core } from '../../core/index.js';
import type { PageQuery } from '../../store/index.js';

/** Opaque cursors: the last id of the previous page. */
export function pageQuery(query: { limit?: number; cursor?: string }): PageQuery {
  const limit = query.limit ?? 20;
  if (!query.cursor) return { limit: limit + 1 };
  const after = Buffer.from(query.cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{3}_[0-9a-z]{26}$/.test(after)) throw new CoreError('invalid', 'is not a cursor this API returned', { field: 'cursor' });
  return { limit: limit + 1, after };
}

/** One page: asks for one more than `limit` to know whether another page follows. */
export function toPage<R, V>(records: R[], query: PageQuery, view: (r: R) => V, idOf: (r: R) => string = (r) => (r as { id: string }).id) {
  const more = records.length >= query.limit;
  const shown = more ? records.slice(0, query.limit - 1) : records;
  return {
    data: shown.map(view),
    nextCursor: more ? Buffer.from(idOf(shown[shown.length - 1]), 'utf8').toString('base64url') : null,
  };
}

/**
 * Runs a creation once per Idempotency-Key: a retry with the same key and body gets the first
 * answer again (marked `Idempotent-Replayed: true`).
 */
export async function idempotentCreate(
  core: Core,
  accountId: string,
  request: FastifyRequest,
  reply: FastifyReply,
  produce: () => Promise<{ statusCode: number; payload: unknown }>,
): Promise<FastifyReply> {
  const header = request.headers['idempotency-key'];
  if (header === undefined) {
    const { statusCode, payload } = await produce();
    return reply.status(statusCode).send(payload);
  }
  const key = Array.isArray(header) ? header.join(',') : header;
  const fingerprint = `${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`;
  const result = await core.idempotency.run(accountId, key, fingerprint, async () => {
    const { statusCode, payload } = await produce();
    return { statusCode, body: JSON.stringify(payload) };
  });
  if (result.replayed) reply.header('Idempotent-Replayed', 'true');
  return reply.status(result.statusCode).type('application/json; charset=utf-8').send(result.body);
}

export function bearerToken(request: FastifyRequest): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!m) throw new CoreError('unauthenticated', 'send the API token as "Authorization: Bearer <token>"');
  return m[1];
}
