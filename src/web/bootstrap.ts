import type { FieldRule, FormField, JoinWay, JoinWayForm, Role, RoomBootstrap, WaysIn } from '../protocol/messages.ts';

const ROLES: readonly Role[] = ['host', 'moderator', 'participant', 'viewer'];

function readWays(value: unknown): WaysIn | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const w = value as Partial<Record<keyof WaysIn, unknown>>;
  return { guest: w.guest === true, pin: w.pin === true, usernamePassword: w.usernamePassword === true, signup: w.signup === true };
}

const JOIN_WAYS: readonly JoinWay[] = ['guest', 'pin', 'login', 'signup'];
const FORM_FIELDS: readonly FormField[] = ['name', 'pin', 'username', 'password', 'email'];
const count = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);

function readRule(value: unknown): FieldRule {
  const r = (value && typeof value === 'object' ? value : {}) as Partial<Record<keyof FieldRule, unknown>>;
  const maxLength = count(r.maxLength);
  const minLength = count(r.minLength);
  const pattern = typeof r.pattern === 'string' ? r.pattern : undefined;
  return { required: r.required === true, ...(maxLength ? { maxLength } : {}), ...(minLength ? { minLength } : {}), ...(pattern ? { pattern } : {}) };
}

/** The pre-join form the server described: ways and fields this page knows, with their rules. */
function readForm(value: unknown): JoinWayForm[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((w): w is { way: JoinWay; fields?: unknown } => JOIN_WAYS.includes((w as { way?: JoinWay } | null)?.way as JoinWay))
    .map((w) => ({
      way: w.way,
      fields: (Array.isArray(w.fields) ? w.fields : [])
        .filter((f: { field?: unknown } | null) => FORM_FIELDS.includes(f?.field as FormField))
        .map((f: { field: FormField; rule?: unknown }) => ({ field: f.field, rule: readRule(f.rule) })),
    }));
}

function readPerson(value: unknown): RoomBootstrap['person'] {
  if (!value || typeof value !== 'object') return undefined;
  const p = value as { name?: unknown; role?: unknown; invitation?: unknown };
  const role = ROLES.includes(p.role as Role) ? (p.role as Role) : 'participant';
  const invitation = p.invitation === 'invited' || p.invitation === 'declined' ? p.invitation : undefined;
  return { name: String(p.name ?? ''), role, ...(invitation ? { invitation } : {}) };
}

/**
 * Reads the RoomBootstrap the server put into the page (script#parley-bootstrap). Returns
 * undefined when it is missing or unreadable (e.g. the template was opened directly).
 */
export function readBootstrap(doc: Document = document): RoomBootstrap | undefined {
  const text = doc.getElementById('parley-bootstrap')?.textContent;
  if (!text) return undefined;
  try {
    const data = JSON.parse(text) as Partial<RoomBootstrap> | null;
    if (!data || typeof data !== 'object' || !data.link || !data.meeting) return undefined;
    const startsAt = typeof data.meeting.startsAt === 'string' && !Number.isNaN(Date.parse(data.meeting.startsAt)) ? data.meeting.startsAt : undefined;
    const startsAtText = startsAt && typeof data.meeting.startsAtText === 'string' ? data.meeting.startsAtText : undefined;
    const person = readPerson(data.person);
    const ways = readWays(data.ways);
    const form = readForm(data.form);
    return {
      link: data.link,
      meeting: { title: String(data.meeting.title ?? ''), ...(startsAt ? { startsAt } : {}), ...(startsAtText ? { startsAtText } : {}) },
      ...(data.state === 'not_started' ? { state: 'not_started' as const } : {}),
      ...(person ? { person } : {}),
      needsName: Boolean(data.needsName),
      ...(ways ? { ways } : {}),
      ...(form ? { form } : {}),
      embedded: Boolean(data.embedded),
      ...(data.recording === true ? { recording: true } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The ways in a public link offers (a server that sends none: a name only). */
export function waysOf(bootstrap: RoomBootstrap): WaysIn {
  return bootstrap.ways ?? { guest: true, pin: false, usernamePassword: false, signup: false };
}
