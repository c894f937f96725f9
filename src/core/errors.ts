/**
 * The one error type the core throws. Each API surface maps `code` to its own wire shape
 * (LiveMinutes `resultcode: 0`, Livebox HTTP 4xx, native error object) in a single table.
 */
export type CoreErrorCode =
  | 'invalid' // a field is missing, malformed or out of range
  | 'unauthenticated' // credentials missing or wrong
  | 'forbidden' // authenticated, but not allowed to do this
  | 'not_found'
  | 'conflict' // duplicate key, or the resource's state does not allow this
  | 'quota_exceeded'
  | 'rate_limited' // too many attempts; details.retryAfterSeconds
  | 'unavailable'; // the service is stopped

/** `{field}` in a reason names another field, as the calling surface names it. */
const nameFields = (text: string, fieldNames: Readonly<Record<string, string>>) =>
  text.replace(/\{(\w+)\}/g, (_, f: string) => fieldNames[f] ?? f);

export class CoreError extends Error {
  readonly code: CoreErrorCode;
  /** The core's name of the offending field, when one field is to blame. */
  readonly field?: string;
  /**
   * The message without the field name, so an adapter can prefix its own name for the field;
   * other fields it mentions are written `{field}`.
   */
  readonly reason: string;
  readonly details?: Record<string, unknown>;

  constructor(code: CoreErrorCode, reason: string, opts: { field?: string; details?: Record<string, unknown> } = {}) {
    super(nameFields(opts.field ? `${opts.field} ${reason}` : reason, {}));
    this.name = 'CoreError';
    this.code = code;
    this.field = opts.field;
    this.reason = reason;
    this.details = opts.details;
  }

  /** The message with the field named as the calling surface names it. */
  messageFor(fieldNames: Readonly<Record<string, string>> = {}): string {
    const reason = nameFields(this.reason, fieldNames);
    if (!this.field) return reason;
    return `${fieldNames[this.field] ?? this.field} ${reason}`;
  }
}

export const invalid = (field: string, reason: string) => new CoreError('invalid', reason, { field });
export const notFound = (what: string) => new CoreError('not_found', `${what} not found`);
export const conflict = (reason: string) => new CoreError('conflict', reason);
