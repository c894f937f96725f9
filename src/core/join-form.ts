import type { WaysIn } from './access.js';
import { LIMITS, PATTERNS } from './limits.js';

/** How someone on a public link comes in: the choice on the pre-join screen. */
export type JoinWay = 'guest' | 'pin' | 'login' | 'signup';

export type FormField = 'name' | 'pin' | 'username' | 'password' | 'email';

/** One field of the pre-join form, with the limits admit() applies to it. */
export interface FieldRule {
  required: boolean;
  maxLength?: number;
  minLength?: number;
  /** A RegExp source a non-empty value must match. */
  pattern?: string;
}

/** A way in on the pre-join form, and the fields it asks for, in the order shown. */
export interface JoinWayForm {
  way: JoinWay;
  fields: { field: FormField; rule: FieldRule }[];
}

// The core's limits for each field, so that the page checks nothing on its own.
const RULES: Record<FormField, FieldRule> = {
  name: { required: true, maxLength: LIMITS.personName },
  pin: { required: true, maxLength: LIMITS.pinMax },
  username: { required: true, maxLength: LIMITS.username },
  password: { required: true, maxLength: LIMITS.passwordMax },
  email: { required: false, maxLength: LIMITS.email, pattern: PATTERNS.email.source },
};

const fields = (...names: FormField[]) => names.map((field) => ({ field, rule: RULES[field] }));

/**
 * The pre-join form of a public link: the ways in the meeting offers and what each asks for
 * (as core.access.admit takes them). Those who registered on the spot sign in again where
 * sign-ups are taken; where only sign-ups are, Register comes before Sign in. undefined when the
 * meeting asks for a name only: that is the page's form when the bootstrap has none (and the
 * server's refusal, naming the field, says when the name is too long).
 */
export function joinForm(ways: WaysIn): JoinWayForm[] | undefined {
  if (ways.guest && !ways.pin && !ways.usernamePassword && !ways.signup) return undefined;
  const form: JoinWayForm[] = [];
  if (ways.guest) form.push({ way: 'guest', fields: fields('name') });
  if (ways.pin) form.push({ way: 'pin', fields: fields('name', 'pin') });
  const login: JoinWayForm = { way: 'login', fields: fields('username', 'password') };
  const signup: JoinWayForm = {
    way: 'signup',
    fields: [
      ...fields('name', 'username'),
      { field: 'password', rule: { ...RULES.password, minLength: LIMITS.passwordMin } },
      ...fields('email'),
    ],
  };
  if (ways.usernamePassword) form.push(login);
  if (ways.signup) form.push(signup);
  if (ways.signup && !ways.usernamePassword) form.push(login);
  return form;
}
