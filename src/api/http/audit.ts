import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditActor, Core } from '../../core/index.js';
import type { AccountRecord } from '../../store/index.js';

/**
 * What a route changes, for the audit trail: an action name (`meeting.create`), or a function of
 * the request for operations whose action is in the body (Livebox `videoConfSettings`);
 * undefined means the call changed nothing (a read).
 */
export type AuditSpec = string | ((request: FastifyRequest) => string | undefined);

declare module 'fastify' {
  interface FastifyContextConfig {
    audit?: AuditSpec;
  }
}

/** Who called, as the surface's auth hook proved it. */
export interface Caller {
  actor: AuditActor;
  account?: AccountRecord;
}

/** Where a change landed, as a surface names it. */
export interface AuditTarget {
  resourceId: string | null;
  /** For the operator's changes: the account they concern. */
  accountId?: string | null;
  /** Bound to the request's log lines. */
  meetingId?: string;
}

export interface SurfaceAudit {
  /** Before the handler runs (a key still names what a removal deletes). */
  target(request: FastifyRequest, caller: Caller): AuditTarget | Promise<AuditTarget>;
  /** A creation's new resource, from its JSON answer. */
  created?(answer: Record<string, unknown>, request: FastifyRequest, caller: Caller): AuditTarget | Promise<AuditTarget>;
}

const callers = new WeakMap<FastifyRequest, Caller>();
/** A failed request's error code and the HTTP status it stands for (LiveMinutes answers failures with 200). */
const failures = new WeakMap<FastifyRequest, { code: string; status: number }>();

type BindableLog = FastifyRequest['log'] & { setBindings?(bindings: Record<string, unknown>): void };

/** Adds fields to every later log line of this request (pino child bindings). */
export function bindLog(request: FastifyRequest, bindings: Record<string, unknown>): void {
  (request.log as BindableLog).setBindings?.(bindings);
}

/** Called by a surface's auth hook once the caller is proven: audit and log lines name them. */
export function identify(request: FastifyRequest, caller: Caller): void {
  callers.set(request, caller);
  bindLog(request, caller.actor.accountId ? { accountId: caller.actor.accountId } : { caller: caller.actor.credential });
}

/** Called by toFailure: the error code (and HTTP status) a failed change is recorded with. */
export function noteFailure(request: FastifyRequest, code: string, status: number): void {
  failures.set(request, { code, status });
}

const CREATES = /\.(create|add)$/;

function actionOf(request: FastifyRequest): string | undefined {
  const spec = request.routeOptions.config?.audit;
  return typeof spec === 'function' ? spec(request) : spec;
}

function parseAnswer(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined;
  try {
    return JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The audit trail of one API surface, in one place: every route whose config declares `audit`
 * gets an entry once its answer is known (success or failure, with the status and error code),
 * written before the answer leaves so that a caller who got it can read the entry. Calls whose
 * caller was never proven (wrong credentials) are not recorded: they changed nothing and would
 * let anyone fill the table.
 */
export function auditChanges(app: FastifyInstance, core: Core, surface: SurfaceAudit): void {
  const targets = new WeakMap<FastifyRequest, AuditTarget>();

  const preHandler = async (request: FastifyRequest) => {
    const caller = callers.get(request);
    if (!caller || actionOf(request) === undefined) return;
    const target = await surface.target(request, caller);
    targets.set(request, target);
    if (target.meetingId) bindLog(request, { meetingId: target.meetingId });
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const caller = callers.get(request);
    const action = caller && actionOf(request);
    if (!caller || !action) return payload;
    try {
      // No preHandler when validation failed: nothing changed, the names in the request still hold.
      let target = targets.get(request) ?? await surface.target(request, caller);
      const failure = failures.get(request);
      const status = failure?.status ?? reply.statusCode;
      const answer = status < 300 && CREATES.test(action) && surface.created ? parseAnswer(payload) : undefined;
      if (answer && surface.created) target = await surface.created(answer, request, caller);
      const actor = target.accountId !== undefined ? { ...caller.actor, accountId: target.accountId } : caller.actor;
      await core.audit.record(actor, {
        action, resourceId: target.resourceId, requestId: request.id, statusCode: status,
        errorCode: status >= 400 ? failure?.code ?? null : null,
      });
    } catch (error) {
      // The change is made: a lost audit entry is reported, not turned into a failed answer.
      request.log.error({ err: error, action }, 'audit entry not written');
    }
    return payload;
  };

  // Only the routes that declare a change carry the hooks: reads (getMeetingStatus) pay nothing.
  app.addHook('onRoute', (route) => {
    if (route.config?.audit === undefined) return;
    route.preHandler = [...asArray(route.preHandler), preHandler];
    route.onSend = [...asArray(route.onSend), onSend];
  });
}

const asArray = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/**
 * The legacy surfaces name a meeting by its key (LiveMinutes meetingKey, Livebox conference
 * name): the audit trail records the meeting's id, looked up before the change (a removal
 * deletes it) or, for a creation, from the key in the answer. Their participant actions name
 * the meeting too: those surfaces have no participant ids.
 */
export function meetingByKey(core: Core, keyOf: (fields: Record<string, unknown>, request: FastifyRequest) => unknown): SurfaceAudit {
  const resolve = async (fields: unknown, request: FastifyRequest, caller: Caller): Promise<AuditTarget> => {
    const key = fields && typeof fields === 'object' ? keyOf(fields as Record<string, unknown>, request) : undefined;
    if (typeof key !== 'string' || !key.trim() || !caller.account) return { resourceId: null };
    try {
      const { id } = await core.meetings.getByKey(caller.account, key);
      return { resourceId: id, meetingId: id };
    } catch {
      return { resourceId: null }; // no such meeting (the change fails, and is recorded as failed)
    }
  };
  return {
    target: (request, caller) => resolve(request.body, request, caller),
    created: (answer, request, caller) => resolve(answer, request, caller),
  };
}
