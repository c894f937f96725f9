import { LIMITS, PATTERNS, type WaysIn } from '../../core/index.js';
import type { FieldRule, FormField, JoinWayForm } from '../../protocol/messages.js';

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
