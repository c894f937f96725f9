import {
  JOIN_PATH,
  type FormField, type JoinRefusal, type JoinRequest, type JoinResponse, type JoinWay, type JoinWayForm, type RoomBootstrap, type RoomState,
  type StartTime,
} from '../protocol/messages.ts';
import { sentence } from './notices.ts';
import type { JoinForm, JoinProblem } from './state.ts';

/** The answer to a join request; `fresh()` is the reply while it can still be used, else undefined. */
export type JoinReply =
  /** `notBefore`: the token opens the room from this time on (ms epoch, our clock). */
  | { kind: 'token'; token: string; notBefore: number; nodeUrl?: string; fresh(): JoinReply | undefined }
  | { kind: 'refused'; state: RoomState; start: StartTime; fresh(): JoinReply | undefined }
  | { kind: 'failed'; problem: Omit<JoinProblem, 'seq'>; retryAfterSeconds?: number; fresh(): JoinReply | undefined };

/** The fields of a join request beyond the link, as the chosen way needs them. */
export type Credentials = Omit<JoinRequest, 'link'>;

const failed = (message: string, field?: FormField, clearPassword = false, retryAfterSeconds?: number): JoinReply => ({
  kind: 'failed',
  problem: { message, ...(field ? { field } : {}), ...(clearPassword ? { clearPassword } : {}) },
  ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  fresh: () => undefined,
});

const FIELD_LABELS: Record<FormField, string> = { name: 'your name', pin: 'the PIN', username: 'the username', password: 'the password', email: 'the e-mail address' };

/** What to say when a required field is empty (signing in and registering word it differently). */
const MISSING: Record<FormField, string> = {
  name: 'Enter your name to join.',
  pin: 'Enter the meeting’s PIN to join.',
  username: 'Enter your username to sign in.',
  password: 'Enter your password to sign in.',
  email: 'Enter your e-mail address to join.',
};
const MISSING_ON_SIGNUP: Partial<Record<FormField, string>> = { username: 'Choose a username to register.' };

/** No form in the bootstrap: the meeting takes a name only (its limit: the server refuses a name too long, naming the field). */
const NAME_ONLY: JoinWayForm[] = [{ way: 'guest', fields: [{ field: 'name', rule: { required: true } }] }];

/** The ways in the pre-join screen offers, as the server listed them (none on personal links). */
export function offeredWays(bootstrap: RoomBootstrap): JoinWayForm[] {
  return bootstrap.needsName ? bootstrap.form ?? NAME_ONLY : [];
}

/** The form field a server's field name points at. */
function fieldOf(name: string | undefined): FormField | undefined {
  if (!name) return undefined;
  const n = name.toLowerCase();
  if (n.includes('username')) return 'username';
  if (n.includes('password')) return 'password';
  if (n.includes('email')) return 'email';
  if (n.includes('pin')) return 'pin';
  if (n.includes('name')) return 'name';
  return undefined;
}

function waitWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** What the person typed into a field, as it is sent (passwords as typed; PINs without spaces). */
function valueOf(form: JoinForm, field: FormField): string {
  if (field === 'password') return form.password;
  if (field === 'pin') return form.pin.replace(/\s+/g, '');
  return form[field].trim();
}

/**
 * The join request's fields for the chosen way, or what is missing. The limits are the server's
 * (`JoinWayForm`): the page only points at the field before the server would refuse it.
 */
export function checkForm(form: JoinForm | undefined, offered: JoinWayForm[]): { credentials: Credentials; way: JoinWay } | { problem: Omit<JoinProblem, 'seq'> } {
  if (!form || offered.length === 0) return { problem: { message: 'This meeting admits invited people only. Open the personal link from your invitation.' } };
  const chosen = offered.find((w) => w.way === form.way) ?? offered[0]!;
  const way = chosen.way;
  for (const { field, rule } of chosen.fields) {
    const value = valueOf(form, field);
    const problem = (message: string) => ({ problem: { message, field } });
    if (rule.minLength && value.length < rule.minLength && (rule.required || value)) {
      return problem(`Choose ${field === 'password' ? 'a password' : FIELD_LABELS[field]} of at least ${rule.minLength} characters.`);
    }
    if (rule.required && !value) return problem((way === 'signup' && MISSING_ON_SIGNUP[field]) || MISSING[field]);
    if (rule.maxLength && value.length > rule.maxLength) return problem(`Check ${FIELD_LABELS[field]}: it must be at most ${rule.maxLength} characters.`);
    if (rule.pattern && value && !new RegExp(rule.pattern).test(value)) {
      return problem(`Check ${FIELD_LABELS[field]}${rule.required ? '' : ' (or leave it empty)'}.`);
    }
  }
  const [name, pin, username, password, email] = (['name', 'pin', 'username', 'password', 'email'] as const).map((f) => valueOf(form, f));
  if (way === 'login') return { way, credentials: { login: { username: username!, password: password! } } };
  if (way === 'signup') return { way, credentials: { name, signup: { username: username!, password: password!, ...(email ? { email } : {}) } } };
  if (way === 'pin') return { way, credentials: { name, pin } };
  return { way, credentials: { name } };
}

/** Asks the server for a join token. `canSignIn`: the form offers Sign in (a taken username may be theirs). */
export async function requestJoin(bootstrap: RoomBootstrap, credentials: Credentials, way: JoinWay | undefined, canSignIn: boolean): Promise<JoinReply> {
  const request: JoinRequest = { link: bootstrap.link, ...credentials };
  let response: Response;
  try {
    response = await postJson(JOIN_PATH, request);
  } catch {
    return failed('The server could not be reached. Check your connection and try again.');
  }
  if (!response.ok) return refusal(response, way, canSignIn);
  const answer = (await response.json().catch(() => undefined)) as JoinResponse | undefined;
  if (!answer?.joinToken) return failed('The server gave an unexpected answer. Try again.');
  // The token's times are the server's, and a browser's clock may be off by minutes: measure
  // them against the server's clock as it answered (late by at most the answer's trip here).
  const serverTime = Date.parse(answer.serverTime ?? '');
  const offset = Number.isNaN(serverTime) ? 0 : serverTime - Date.now();
  const usableUntil = Date.parse(answer.expiresAt) - offset - 5000; // leave time to open the socket
  const notBefore = Date.parse(answer.notBefore ?? '') - offset;
  const reply: JoinReply = {
    kind: 'token',
    token: answer.joinToken,
    ...(typeof answer.nodeUrl === 'string' ? { nodeUrl: answer.nodeUrl } : {}),
    notBefore: Number.isNaN(notBefore) ? 0 : notBefore,
    fresh: () => (Date.now() < usableUntil ? reply : undefined),
  };
  return reply;
}

export function postJson(path: string, body: unknown): Promise<Response> {
  return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
}

/** The body of a refused request (join or invitation answer), if it is one. */
export async function readRefusal(response: Response): Promise<JoinRefusal['error'] | undefined> {
  const refusal = (await response.json().catch(() => undefined)) as JoinRefusal | undefined;
  return refusal?.error;
}

/** A refused join request, in words for the person (and the field to fix: the server names it). */
async function refusal(response: Response, way: JoinWay | undefined, canSignIn: boolean): Promise<JoinReply> {
  const e = await readRefusal(response);
  if (e?.state) return { kind: 'refused', state: e.state, start: { startsAt: e.startsAt, startsAtText: e.startsAtText }, fresh: () => undefined };
  const reason = sentence(e?.message ?? '');
  const field = fieldOf(e?.field);
  switch (e?.code) {
    case 'unauthenticated':
      if (way === 'pin' || field === 'pin') return failed('That PIN is not right. Check it and try again.', 'pin');
      if (way === 'login') return failed('That username or password is not right. Try again.', 'password', true);
      return failed(reason || 'You could not be let in. Try again.', field, true);
    case 'invalid':
      return failed(field ? `Check ${FIELD_LABELS[field]}: ${reason}` : reason || 'Check what you entered and try again.', field, field === 'password');
    case 'conflict':
      if (way === 'signup') {
        const orSignIn = canSignIn ? ', or sign in if it is yours' : '';
        return failed(`That username is already taken. Choose another one${orSignIn}.`, 'username', true);
      }
      return failed(reason || 'Could not join. Try again.', field, true);
    case 'rate_limited': {
      const header = Number(response.headers.get('retry-after'));
      const seconds = Math.max(1, Math.ceil(e.retryAfterSeconds ?? (Number.isFinite(header) && header > 0 ? header : 60)));
      // Wrong PINs/passwords, or too many joins or checks at once from here (see docs/room.md).
      const what = /wrong/.test(e.message) ? 'Too many wrong attempts' : 'Too many people are joining from here right now';
      return failed(`${what}. Try again in ${waitWords(seconds)}.`, undefined, true, seconds);
    }
    default:
      return failed(reason ? `Could not join: ${reason}` : `Could not join (the server answered ${response.status}). Try again.`);
  }
}
