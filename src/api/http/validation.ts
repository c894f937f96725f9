import type { FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the callable sits on .default.
const addFormats = formats.default;

/**
 * JSON bodies are validated as sent: coercion would turn `"maxParticipants": 0` into null or
 * `true` into "true" and hide a client's mistake. Query strings and path parameters are text
 * by nature and are coerced to the schema's types.
 */
export function exactJsonBodies(app: FastifyInstance): void {
  const options = { useDefaults: true, removeAdditional: false, allErrors: false, verbose: true } as const;
  const exact = new Ajv({ ...options, coerceTypes: false });
  const coercing = new Ajv({ ...options, coerceTypes: 'array' });
  addFormats(exact);
  addFormats(coercing);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema));
}
