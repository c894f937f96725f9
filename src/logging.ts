import pino from 'pino';
import pretty from 'pino-pretty';
import { ConfigError } from './config.js';

export type LogFormat = 'json' | 'pretty';

/** LOG_FORMAT: json or pretty; unset, pretty when stdout is a terminal and JSON otherwise. */
export function logFormat(value: string | undefined, isTTY = Boolean(process.stdout.isTTY)): LogFormat {
  const v = value?.trim().toLowerCase();
  if (!v) return isTTY ? 'pretty' : 'json';
  if (v === 'json' || v === 'pretty') return v;
  throw new ConfigError(`LOG_FORMAT must be "json" or "pretty", got "${value}"`);
}

/**
 * Paths that may hold a secret in a log object: credentials in headers and in bodies (Livebox
 * sends its keys in the body). URLs are redacted where they are logged (redactUrl). Audit entries
 * and log bindings carry ids only.
 */
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization',
  'body.key', 'body.Serverkey', 'body.Nativeappkey', 'body.password', 'body.pin', 'body.token',
];

/** The server's logger: one JSON object per line, or readable lines for a person at a terminal. */
export function createLogger(level: string, format: LogFormat): pino.Logger {
  const options: pino.LoggerOptions = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (format === 'json') return pino(options);
  // In-process and synchronous: a terminal reader wants lines in order, and pino's transport
  // would start a thread for it.
  return pino(options, pretty({ colorize: Boolean(process.stdout.isTTY), sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
