import type { Role, RoomBootstrap, WaysIn } from '../protocol/messages.ts';

const ROLES: readonly Role[] = ['host', 'moderator', 'participant', 'viewer'];

function readWays(value: unknown): WaysIn | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const w = value as Partial<Record<keyof WaysIn, unknown>>;
  return { guest: w.guest === true, pin: w.pin === true, usernamePassword: w.usernamePassword === true, signup: w.signup === true };
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
    return {
      link: data.link,
      meeting: { title: String(data.meeting.title ?? ''), ...(startsAt ? { startsAt } : {}), ...(startsAtText ? { startsAtText } : {}) },
      ...(data.state === 'not_started' ? { state: 'not_started' as const } : {}),
      ...(person ? { person } : {}),
      needsName: Boolean(data.needsName),
      ...(ways ? { ways } : {}),
      embedded: Boolean(data.embedded),
    };
  } catch {
    return undefined;
  }
}

/** The ways in a public link offers (a server that sends none: a name only). */
export function waysOf(bootstrap: RoomBootstrap): WaysIn {
  return bootstrap.ways ?? { guest: true, pin: false, usernamePassword: false, signup: false };
}
