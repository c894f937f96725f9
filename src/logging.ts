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
const REDACT: readonly (readonly string[])[] = [
  ['req', 'headers', 'authorization'], ['req', 'headers', 'cookie'], ['headers', 'authorization'], ['headers', 'cookie'],
  ['body', 'key'], ['body', 'Serverkey'], ['body', 'Nativeappkey'], ['body', 'password'], ['body', 'pin'], ['body', 'token'],
];

type LogObject = Record<string, unknown>;

/** A copy of `obj` with the secret paths censored (the caller's objects are left as they are). */
export function censored(obj: LogObject): LogObject {
  let out = obj;
  for (const path of REDACT) {
    let from: unknown = obj;
    for (const key of path) from = from && typeof from === 'object' ? (from as LogObject)[key] : undefined;
    if (from === undefined) continue;
    if (out === obj) out = { ...obj };
    let node = out;
    for (const key of path.slice(0, -1)) node = node[key] = { ...(node[key] as LogObject) };
    node[path[path.length - 1]!] = '[redacted]';
  }
  return out;
}

/** The server's logger: one JSON object per line, or readable lines for a person at a terminal. */
export function createLogger(level: string, format: LogFormat): pino.Logger {
  // Censored as each line is written, not with pino's `redact`: that made every request's child
  // logger dearer to create (measured: ~8% of getMeetingStatus), lines or not.
  const options: pino.LoggerOptions = { level, formatters: { log: censored } };
  if (format === 'json') return pino(options);
  // In-process and synchronous: a terminal reader wants lines in order, and pino's transport
  // would start a thread for it.
  return pino(options, pretty({ colorize: Boolean(process.stdout.isTTY), sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogFn = (...args: unknown[]) => void;

/**
 * A request's logger that becomes a pino child only when the request logs something. Creating a
 * child for every request (and rebinding it as the caller becomes known) cost about 5 µs a
 * request on getMeetingStatus (measured), while most requests log nothing at LOG_LEVEL info and
 * above, where request lines come from our own hook (src/api/http/app.ts).
 */
export class LazyRequestLogger {
  private real?: pino.Logger;
  /** Bindings added before the child exists, merged only if it ever does. */
  private later?: Record<string, unknown>[];

  constructor(private readonly parent: pino.Logger, private readonly bindings: Record<string, unknown>, private readonly options?: pino.ChildLoggerOptions) {}

  get level(): string {
    return this.parent.level;
  }

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }

  /** Adds fields to every later line (pino's setBindings, deferred while nothing was logged). */
  setBindings(bindings: Record<string, unknown>): void {
    if (this.real) this.real.setBindings(bindings);
    else (this.later ??= []).push(bindings);
  }

  child(bindings: Record<string, unknown>, options?: pino.ChildLoggerOptions): pino.Logger {
    return this.logger().child(bindings, options);
  }

  fatal: LogFn = (...args) => this.write('fatal', args);
  error: LogFn = (...args) => this.write('error', args);
  warn: LogFn = (...args) => this.write('warn', args);
  info: LogFn = (...args) => this.write('info', args);
  debug: LogFn = (...args) => this.write('debug', args);
  trace: LogFn = (...args) => this.write('trace', args);
  silent: LogFn = () => undefined;

  private write(level: Level, args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return;
    (this.logger()[level] as (...a: unknown[]) => void)(...args);
  }

  private logger(): pino.Logger {
    this.real ??= this.parent.child(this.later ? Object.assign({}, this.bindings, ...this.later) : this.bindings, this.options);
    return this.real;
  }
}
