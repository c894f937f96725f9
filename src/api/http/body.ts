import type { FastifyInstance } from 'fastify';
import querystring from 'fast-querystring';
import qs from 'qs';

/**
 * Bodies as the two legacy documents send them: JSON under `application/json` or `text/json`,
 * and form fields, including jQuery's nested style (`AllowSignup[Preset]=Preset-1`,
 * `AuthenticationDetails[username]=…`).
 */
export function registerBodyParsers(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error'); // rejects __proto__ / constructor keys
  app.addContentTypeParser('text/json', { parseAs: 'string' }, json);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/**
 * Legacy clients sometimes send JSON labelled text/plain (the Livebox document's XHR sample sets
 * its header before open(), so the browser sends text/plain). Within the legacy surfaces, a
 * text/plain body that is a JSON object is read as one; anything else is refused.
 */
export function acceptJsonAsPlainText(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
    if (!(body as string).trimStart().startsWith('{')) {
      const error = Object.assign(new Error('unsupported content type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
      done(error, undefined);
      return;
    }
    json(request, body as string, done);
  });
}

export function parseForm(body: string): Record<string, unknown> {
  // Most forms are flat; only bracketed names (jQuery nesting) need qs, which is slower.
  if (!body.includes('[') && !body.includes('%5B') && !body.includes('%5b')) {
    return { ...(querystring.parse(body) as Record<string, unknown>) }; // a plain object, not a null-prototype one
  }
  return qs.parse(body, {
    depth: 3,
    parameterLimit: 200,
    arrayLimit: 20,
    allowPrototypes: false,
    plainObjects: true,
    strictDepth: true,
  }) as Record<string, unknown>;
}
