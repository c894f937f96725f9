import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import querystring from 'fast-querystring';
import qs from 'qs';
import busboy from 'busboy';
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

/**
 * multipart/form-data made of text fields, as PHP's curl sends an array given to
 * CURLOPT_POSTFIELDS and other HTTP libraries send a dict of fields: read exactly as the same
 * fields sent form-encoded (same nesting, limits and UTF-8 rule). A file part is refused.
 * Fastify reads the whole body first (bodyLimit applies), so the parser always sees its end.
 */
export function acceptMultipartForms(app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, body, done) => {
    readMultipart(request.headers, body as Buffer, done);
  });
}

/** A part's name as an error message may quote it: short, and nothing the message templating reads. */
const partName = (name: string | undefined) => (name && /^[\w .\-[\]]{1,100}$/.test(name) ? ` "${name}"` : '');

function readMultipart(headers: FastifyRequest['headers'], body: Buffer, done: Done): void {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      // Sizes are bounded by bodyLimit already; a field is never cut short.
      limits: { fields: FORM_LIMITS.fields, files: 1, fieldSize: body.length, fieldNameSize: body.length },
    });
  } catch (error) {
    const noBoundary = /boundary/i.test((error as Error).message);
    done(badBody(noBoundary ? 'the multipart/form-data Content-Type has no boundary parameter' : 'the multipart/form-data Content-Type cannot be read'));
    return;
  }
  const pairs: string[] = [];
  let parts = 0;
  let problem: string | undefined;
  let file: { name: string | undefined } | undefined;
  let tooMany = false;
  let finished = false;
  let settled = false;
  const settle = (error: Error | null, fields?: unknown) => {
    if (settled) return;
    settled = true;
    done(error, fields);
  };
  parser.on('field', (name, value, info) => {
    parts++;
    if (name === undefined) problem ??= 'a form part has no name';
    else if (!['7bit', '8bit', 'binary'].includes(info.encoding)) problem ??= `the form part${partName(name)} has Content-Transfer-Encoding ${info.encoding}; send fields as plain text`;
    else {
      try {
        pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
      } catch {
        problem ??= 'the request body is not valid UTF-8'; // a lone surrogate, from a part in another charset
      }
    }
  });
  parser.on('file', (name, stream) => {
    parts++;
    file ??= { name };
    stream.resume(); // drained, or the parser would wait for it
  });
  parser.on('fieldsLimit', () => { tooMany = true; });
  parser.on('error', (error) => {
    settle(badBody(`the multipart body is malformed or cut short (${error.message})`));
  });
  parser.on('finish', () => {
    finished = true;
    if (file) return settle(badBody(`the form part${partName(file.name)} is a file; only text fields are accepted`));
    if (tooMany) return settle(badBody(`the form has more than ${FORM_LIMITS.fields} fields`));
    // Fields are bytes in the body: the same rule as a form's bytes.
    if (!isUtf8(body)) return settle(badBody('the request body is not valid UTF-8'));
    if (problem) return settle(badBody(problem));
    hasMoreParts(headers, body, parts, (more) => {
      if (more) return settle(badBody('a form part has no Content-Disposition: form-data header with its name'));
      try {
        // The same fields, form-encoded, through the form's own parser: identical nesting and limits.
        settle(null, parseForm(pairs.join('&')));
      } catch (error) {
        settle(error as Error);
      }
    });
  });
  parser.on('close', () => {
    if (!finished) settle(badBody('the multipart body is malformed or cut short'));
  });
  parser.end(body);
}

/**
 * Whether a (well-formed) body has more than `seen` parts. busboy passes over a part without a
 * readable `Content-Disposition: form-data` in silence, which would drop a field unnoticed; it
 * still counts the part, and says so once the count reaches its parts limit.
 */
function hasMoreParts(headers: FastifyRequest['headers'], body: Buffer, seen: number, then: (more: boolean) => void): void {
  const counter = busboy({ headers, limits: { parts: seen + 1 } }); // no field or file listener: parts are only counted
  let more = false;
  counter.on('partsLimit', () => { more = true; });
  counter.on('error', () => { more = true; });
  counter.on('close', () => then(more));
  counter.end(body);
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
