import { invalid } from './errors.js';

/** Field limits, shared by the core's checks and the API schemas (and so the OpenAPI document). */
export const LIMITS = {
  meetingKey: 100,
  title: 200,
  description: 4000,
  language: 35,
  externalId: 50, // LiveMinutes: puid / hostid "Length <= 50"
  personName: 100,
  email: 254,
  presetName: 64,
  username: 64,
  passwordMin: 8,
  passwordMax: 256,
  pinMin: 4,
  pinMax: 12,
  maxParticipants: 1000,
  durationHours: 744, // 31 days
  idempotencyKey: 255,
  pageSize: 100,
} as const;

export const PATTERNS = {
  language: /^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/,
  email: /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/,
  presetName: /^[A-Za-z0-9][A-Za-z0-9 _.-]*$/,
  username: /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/,
  pin: /^[0-9]+$/,
};

// C0/C1 controls and the Unicode line/paragraph separators: never wanted in a name or key.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A required single-line text: trimmed, 1..max chars, no control characters. */
export function requiredText(field: string, value: string | undefined, max: number): string {
  const text = (value ?? '').trim();
  if (text.length === 0) throw invalid(field, 'is required');
  return checkedText(field, text, max);
}

/** An optional single-line text: trimmed, 0..max chars, no control characters. */
export function optionalText(field: string, value: string | undefined | null, max: number): string {
  return checkedText(field, (value ?? '').trim(), max);
}

function checkedText(field: string, text: string, max: number): string {
  if (text.length > max) throw invalid(field, `must be at most ${max} characters`);
  if (CONTROL.test(text)) throw invalid(field, 'must not contain control characters');
  return text;
}

/** "1 meeting", "2 meetings". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Does the text contain a control character (C0, C1, line/paragraph separators)? */
export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}

/**
 * A key, id or name about to be looked up, as given: a control character can name nothing
 * (none is ever stored), and PostgreSQL refuses NUL in text, so it is a 400 before any query.
 */
export function lookupKey(field: string, value: string): string {
  if (CONTROL.test(value)) throw invalid(field, 'must not contain control characters');
  return value;
}

/** Multi-line free text (descriptions): newlines and tabs allowed, other controls not. */
export function freeText(field: string, value: string | undefined | null, max: number): string {
  const text = (value ?? '').trim();
  if (text.length > max) throw invalid(field, `must be at most ${max} characters`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) throw invalid(field, 'must not contain control characters');
  return text;
}

export function matching(field: string, text: string, pattern: RegExp, what: string): string {
  if (text !== '' && !pattern.test(text)) throw invalid(field, `must be ${what}`);
  return text;
}

export function email(field: string, value: string | undefined | null): string {
  return matching(field, optionalText(field, value, LIMITS.email), PATTERNS.email, 'an e-mail address');
}
