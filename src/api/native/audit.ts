import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { AuditFilter, Core } from '../../core/index.js';
import type { AuditRecord } from '../../store/index.js';
import type { SurfaceAudit } from '../http/audit.js';
import * as S from './schemas.js';
import { pageQuery, toPage } from './support.js';


const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  accountId: S.Nullable(Type.String({ description: 'the account the change belongs to; null for the operator’s server-wide changes' })),
  actor: Type.Object({
    surface: Type.Union([Type.Literal('liveminutes'), Type.Literal('livebox'), Type.Literal('native'), Type.Literal('admin')]),
    credential: Type.Union([Type.Literal('auth-token'), Type.Literal('server-key'), Type.Literal('native-app-key'), Type.Literal('api-token'), Type.Literal('admin-token'), Type.Literal('console-session')], {
      description: 'what the caller proved: LiveMinutes AuthToken, Livebox Serverkey or Nativeappkey, native API token, admin token',
    }),
    userId: S.Nullable(Type.String({ description: 'the Livebox API user who called' })),
  }),
  action: Type.String({ description: '<resource>.<verb>, e.g. meeting.create, participant.cancel, service.stop' }),
  resource: Type.Object({
    type: Type.String({ description: 'meeting, participant, preset, user, account, service' }),
    id: S.Nullable(Type.String({ description: 'its id; the legacy APIs’ participant actions name the meeting' })),
  }),
  requestId: Type.String({ description: 'the X-Request-Id of the call (also in the server log)' }),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  statusCode: Type.Integer(),
  errorCode: S.Nullable(Type.String()),
});

const AuditQuery = Type.Object({
  ...S.PageQuery.properties,
  resource: Type.Optional(Type.String({ maxLength: 64, description: 'only entries about this resource id' })),
  action: Type.Optional(Type.String({ maxLength: 64, description: 'only this action, e.g. meeting.create' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after this time' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'entries before this time' })),
});
const AdminAuditQuery = Type.Object({
  ...AuditQuery.properties,
  account: Type.Optional(Type.String({ maxLength: 64, description: 'only this account’s entries' })),
});

function filterOf(q: Static<typeof AuditQuery>): AuditFilter {
  return {
    resourceId: q.resource, action: q.action,
    since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined,
  };
}

function entryView(e: AuditRecord): Static<typeof AuditEntry> {
  return {
    id: e.id, at: e.at.toISOString(), accountId: e.accountId,
    actor: { surface: e.surface, credential: e.credential, userId: e.userId },
    action: e.action, resource: { type: e.resourceType, id: e.resourceId },
    requestId: e.requestId, outcome: e.outcome, statusCode: e.statusCode, errorCode: e.errorCode,
  };
}

const description = 'Every change made through any API (LiveMinutes, Livebox, native, admin), newest first: who, what, when, the request id and the outcome.';

/** GET /audit: the calling account's own entries. */
export function accountAuditRoute(parent: FastifyInstance, core: Core, accountIdOf: (request: FastifyRequest) => string): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/audit', {
    schema: { tags: ['audit'], summary: 'The account’s audit trail', description, querystring: AuditQuery, response: { 200: S.Page(AuditEntry), ...S.Errors } },
  }, async (request) => {
    const q = pageQuery(request.query);
    return toPage(await core.audit.list(accountIdOf(request), filterOf(request.query), q), q, entryView);
  });
}

/** GET /admin/audit: everyone's entries (the operator). */
export function adminAuditRoute(parent: FastifyInstance, core: Core): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/audit', {
    schema: { tags: ['admin'], summary: 'The audit trail of every account and the operator', description, querystring: AdminAuditQuery, response: { 200: S.Page(AuditEntry), ...S.Errors } },
  }, async (request) => {
    const q = pageQuery(request.query);
    return toPage(await core.audit.listAll({ ...filterOf(request.query), accountId: request.query.account }, q), q, entryView);
  });
}

type Params = { id?: string; pid?: string; userId?: string; accountId?: string };
const params = (request: FastifyRequest) => (request.params ?? {}) as Params;
const createdId = (answer: Record<string, unknown>) => (typeof answer.id === 'string' ? answer.id : null);

/** Native account scope: resources are named by id in the path; a creation's id is in its answer. */
export const NATIVE_AUDIT: SurfaceAudit = {
  target(request) {
    const p = params(request);
    const meetingId = p.id && request.routeOptions.url?.startsWith('/api/v1/meetings/') ? p.id : undefined;
    return { resourceId: p.pid ?? p.id ?? null, meetingId };
  },
  created(answer, request) {
    const meetingId = params(request).id;
    return { resourceId: createdId(answer), meetingId };
  },
};

/** Operator scope: the entry belongs to the account it changes (which then sees it too). */
export const ADMIN_AUDIT: SurfaceAudit = {
  target(request) {
    const p = params(request);
    // /admin/accounts/:id… names the account; /admin/accounts/:accountId/webhooks/:id a webhook of it.
    const accountId = p.accountId ?? (request.routeOptions.url?.startsWith('/api/v1/admin/accounts/') ? p.id : undefined);
    return { resourceId: p.userId ?? p.pid ?? p.id ?? null, accountId: accountId ?? null };
  },
  created(answer) {
    const account = answer.account as Record<string, unknown> | undefined;
    const id = account ? createdId(account) : null;
    return { resourceId: id, accountId: id };
  },
};
