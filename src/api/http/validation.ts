import type { FastifyInstance } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import { isFormBody } from './body.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the callable sits on .default.
const addFormats = formats.default;

const OPTIONS = { useDefaults: true, removeAdditional: false, allErrors: false, verbose: true } as const;

function ajvs() {
  const exact = new Ajv({ ...OPTIONS, coerceTypes: false });
  const coercing = new Ajv({ ...OPTIONS, coerceTypes: 'array' });
  addFormats(exact);
  addFormats(coercing);
  return { exact, coercing };
}

/**
 * Native API: JSON bodies are validated as sent: coercion would turn `"maxParticipants": 0`
 * into null or `true` into "true" and hide a client's mistake. Query strings and path
 * parameters are text by nature and are coerced to the schema's types.
 */
export function exactJsonBodies(app: FastifyInstance): void {
  const { exact, coercing } = ajvs();
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema));
}

/** JSON numbers become their text: the legacy documents' fields are strings, and a number is what a form would send as text. */
function numbersAsText(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = numbersAsText(value[i]);
  } else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = numbersAsText(o[k]);
  }
  return value;
}

/**
 * LiveMinutes and Livebox: a form sends only text, so its fields are coerced to the schema's
 * types ("true" → true). A JSON body is taken as sent, except that a number is read as its text
 * (both documents type their fields as strings): a JSON `true` or `null` where a number or a
 * string belongs is refused instead of becoming 1, "true", "" or false.
 */
export function legacyBodies(app: FastifyInstance): void {
  const { exact, coercing } = ajvs();
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'body') return coercing.compile(schema);
    const fromForm = coercing.compile(schema);
    const fromJson = exact.compile(schema);
    const validate = ((data: unknown) => {
      const form = isFormBody(data);
      const v: ValidateFunction = form ? fromForm : fromJson;
      const ok = v(form ? data : numbersAsText(data));
      validate.errors = v.errors;
      return ok;
    }) as ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] };
    return validate;
  });
}
