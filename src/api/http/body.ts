import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import querystring from 'fast-querystring';
import qs from 'qs';
import { CoreError } from '../../core/index.js';

type Done = (error: Error | null, body?: unknown) => void;
type Parser = (request: FastifyRequest, body: string, done: Done) => void;

/** The most fields a form may have, and the deepest nesting (`AuthenticationDetails[username]` is 1). */
export const FORM_LIMITS = { fields: 200, depth: 3, arrayItems: 20 } as const;

/** Form bodies, as parsed: validation may coerce their text to the schema's types (JSON bodies are exact). */
const formBodies = new WeakSet<object>();

export function isFormBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && formBodies.has(body);
}

// A statusCode too, for routes without a surface's error handler (Fastify's default answers it as a 400).
const badBody = (reason: string) => Object.assign(new CoreError('invalid', reason), { statusCode: 400 });

/** Reads the body as bytes and refuses bytes that are not UTF-8, instead of turning them into U+FFFD. */
function utf8(parse: Parser) {
  return (request: FastifyRequest, body: Buffer, done: Done) => {
    if (!isUtf8(body)) {
      done(badBody('the request body is not valid UTF-8'));
      return;
    }
    parse(request, body.toString('utf8'), done);
  };
}

/**
 * Bodies as the two legacy documents send them: JSON under `application/json` or `text/json`,
 * and form fields, including jQuery's nested style (`AllowSignup[Preset]=Preset-1`,
 * `AuthenticationDetails[username]=…`).
 */
export function registerBodyParsers(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error'); // rejects __proto__ / constructor keys
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, utf8(json));
  app.addContentTypeParser('text/json', { parseAs: 'buffer' }, utf8(json));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, utf8((_request, body, done) => {
    try {
      done(null, parseForm(body));
    } catch (error) {
      done(error as Error);
    }
  }));
}

/**
 * Legacy clients sometimes send JSON labelled text/plain (the Livebox document's XHR sample sets
 * its header before open(), so the browser sends text/plain). Within the legacy surfaces, a
 * text/plain body that is a JSON object is read as one; anything else is refused.
 */
export function acceptJsonAsPlainText(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, utf8((request, body, done) => {
    if (!body.trimStart().startsWith('{')) {
      const error = Object.assign(new Error('unsupported content type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
      done(error);
      return;
    }
    json(request, body, done);
  }));
}

function countFields(body: string): number {
  let n = body.length > 0 ? 1 : 0;
  for (let i = body.indexOf('&'); i >= 0; i = body.indexOf('&', i + 1)) n++;
  return n;
}

/**
 * Form fields; a form the parser would read only in part (too many fields, nesting too deep, a
 * long array) or not as sent (a `%` that is no escape, escapes that are not UTF-8) is refused.
 */
export function parseForm(body: string): Record<string, unknown> {
  if (countFields(body) > FORM_LIMITS.fields) throw badBody(`the form has more than ${FORM_LIMITS.fields} fields`);
  if (body.includes('%')) {
    try {
      decodeURIComponent(body);
    } catch {
      throw badBody('the form has a malformed %-escape, or escapes that are not UTF-8');
    }
  }
  let fields: Record<string, unknown>;
  // Most forms are flat; only bracketed names (jQuery nesting) need qs, which is slower.
  if (!body.includes('[') && !body.includes('%5B') && !body.includes('%5b')) {
    fields = { ...(querystring.parse(body) as Record<string, unknown>) }; // a plain object, not a null-prototype one
  } else {
    try {
      fields = qs.parse(body, {
        depth: FORM_LIMITS.depth,
        parameterLimit: FORM_LIMITS.fields,
        arrayLimit: FORM_LIMITS.arrayItems,
        allowPrototypes: false,
        plainObjects: true,
        strictDepth: true,
        throwOnLimitExceeded: true,
      }) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      if (/depth/i.test(error.message)) throw badBody(`a form field is nested more than ${FORM_LIMITS.depth} levels deep (such as a[b][c][d])`);
      if (/array/i.test(error.message)) throw badBody(`a form field has more than ${FORM_LIMITS.arrayItems} items`);
      throw badBody(`the form has more than ${FORM_LIMITS.fields} fields`);
    }
  }
  formBodies.add(fields);
  return fields;
}
