import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CoreError, type CoreErrorCode } from '../../core/index.js';
import { noteFailure } from './audit.js';
import { redactUrl } from './redact.js';

/** One failure, whatever raised it, ready for a surface to put in its own shape. */
export interface Failure {
  httpStatus: number;
  code: CoreErrorCode | 'internal' | 'unsupported_media_type';
  message: string;
  field?: string;
  /** rate_limited: how long to wait (the surface sends it as Retry-After). */
  retryAfterSeconds?: number;
}

export const HTTP_STATUS: Record<Failure['code'], number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  quota_exceeded: 403,
  rate_limited: 429,
  unavailable: 503,
  unsupported_media_type: 415,
  internal: 500,
};

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: { description?: string };
}

function describe(issue: ValidationIssue): { field?: string; reason: string } {
  const path = issue.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
  const p = issue.params;
  switch (issue.keyword) {
    case 'required':
      return { field: path ? `${path}.${String(p.missingProperty)}` : String(p.missingProperty), reason: 'is required' };
    case 'additionalProperties':
      return { field: path ? `${path}.${String(p.additionalProperty)}` : String(p.additionalProperty), reason: 'is not a known field' };
    case 'maxLength':
      return { field: path, reason: `must be at most ${String(p.limit)} characters` };
    case 'minLength':
      return { field: path, reason: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters` };
    case 'type':
      if (!path) return { reason: 'the request body must be a JSON object or form fields' };
      return { field: path, reason: `must be ${/^[aeiou]/.test(String(p.type)) ? 'an' : 'a'} ${String(p.type)}` };
    case 'enum':
      return { field: path, reason: `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'pattern':
    case 'format':
      return { field: path, reason: issue.parentSchema?.description ? `must be ${issue.parentSchema.description}` : `has an invalid format` };
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      return { field: path, reason: `must be ${String(p.comparison)} ${String(p.limit)}` };
    case 'anyOf':
    case 'oneOf': {
      if (issue.parentSchema?.description) return { field: path || undefined, reason: `must be ${issue.parentSchema.description}` };
      return { field: path || undefined, reason: 'has a value of the wrong kind' };
    }
    case 'maxItems':
      return { field: path, reason: `must have at most ${String(p.limit)} items` };
    default:
      return { field: path || undefined, reason: issue.message ?? 'is invalid' };
  }
}

/**
 * Which of ajv's errors to report. For a union (anyOf), ajv lists each branch's complaint and
 * then the union's: a branch complaint that is more than a type mismatch ("must be >= 1",
 * "Preset is required") says the most; otherwise the union's own description does.
 */
function pickIssue(issues: ValidationIssue[]): ValidationIssue {
  const union = issues.find((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf');
  if (!union) return issues[0];
  const specific = issues.find((i) => i !== union && !['type', 'anyOf', 'oneOf', 'enum', 'const'].includes(i.keyword));
  return specific ?? union;
}

const BODY_TYPES = ['application/json', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];

/** The body types the route's own scope reads (multipart only in the legacy surfaces), for a 415. */
function acceptedTypes(request: FastifyRequest): string {
  const types = BODY_TYPES.filter((type) => request.server.hasContentTypeParser(type));
  return types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : types.join('');
}

const fieldPrefix = (field: string | undefined, names: Readonly<Record<string, string>>) =>
  field ? `${names[field] ?? field} ` : '';

/** Sends Retry-After when the failure says how long to wait. */
export function retryAfter(reply: FastifyReply, failure: Failure): FastifyReply {
  return failure.retryAfterSeconds ? reply.header('Retry-After', String(failure.retryAfterSeconds)) : reply;
}

/**
 * Turns any error a route can raise into a Failure: the core's typed errors, Fastify's schema,
 * body and content-type errors, and (as a 500 that names nothing internal) everything else.
 */
export function toFailure(error: unknown, request: FastifyRequest, log: FastifyBaseLogger, fieldNames: Readonly<Record<string, string>> = {}): Failure {
  const failure = failureOf(error, request, log, fieldNames);
  noteFailure(request, failure.code, failure.httpStatus); // the audit entry of a failed change names it
  return failure;
}

function failureOf(error: unknown, request: FastifyRequest, log: FastifyBaseLogger, fieldNames: Readonly<Record<string, string>>): Failure {
  if (error instanceof CoreError) {
    const failure: Failure = { httpStatus: HTTP_STATUS[error.code], code: error.code, message: error.messageFor(fieldNames), field: error.field };
    const wait = error.details?.retryAfterSeconds;
    if (typeof wait === 'number') failure.retryAfterSeconds = wait;
    return failure;
  }
  const e = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const { field, reason } = describe(pickIssue(e.validation));
    if (e.validationContext === 'body' && !field && request.body === undefined) {
      return { httpStatus: 400, code: 'invalid', message: 'the request has no body; send JSON or form fields' };
    }
    return { httpStatus: 400, code: 'invalid', message: `${fieldPrefix(field, fieldNames)}${reason}`, field };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { httpStatus: 415, code: 'unsupported_media_type', message: `unsupported content type "${request.headers['content-type'] ?? ''}"; send ${acceptedTypes(request)}` };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { httpStatus: 413, code: 'invalid', message: 'the request body is too large' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { httpStatus: 400, code: 'invalid', message: 'the request body is empty; send a JSON object' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { httpStatus: 400, code: 'invalid', message: 'the request body does not match its Content-Length' };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    // Malformed JSON, a truncated body, a bad form: Fastify's message says where.
    const message = e instanceof SyntaxError || /JSON/i.test(e.message) ? `the body is not valid JSON: ${e.message}` : e.message;
    return { httpStatus: e.statusCode, code: 'invalid', message };
  }
  // The request's own logger carries its request id, account and meeting.
  (request.log ?? log).error({ err: error, req: { method: request.method, url: redactUrl(request.url) } }, 'unhandled error');
  return { httpStatus: 500, code: 'internal', message: 'internal error; the server log has the details' };
}
