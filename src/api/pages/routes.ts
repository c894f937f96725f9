import type { FastifyInstance, FastifyReply } from 'fastify';
import { invitationOf, isLive, joinForm, time, type Core, type LinkRef } from '../../core/index.js';
import type { RoomBootstrap } from '../../protocol/messages.js';
import { renderLinkPage, renderNotFound } from './render.js';
import type { RoomApp } from './room.js';

// Link pages are framed by integrators' sites (embed), so they carry no X-Frame-Options; the
// CSP keeps them to our own resources (and our own WebSocket; with several nodes, the sockets of
// the live nodes: the room's socket goes to its meeting's node).
const csp = (nodes: readonly string[]) => {
  const sockets = nodes.map((url) => url.replace(/^http/, 'ws').replace(/\/+$/, ''));
  return `default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src ${["'self'", ...sockets].join(' ')}; base-uri 'none'; form-action 'self'`;
};

/**
 * Every link the APIs hand out — meeting code, personal link, Livebox conference link, embed —
 * opens the meeting room when the meeting can be joined, and otherwise a page that says why.
 */
export async function linkPages(app: FastifyInstance, opts: { core: Core; room?: RoomApp }): Promise<void> {
  const { core, room } = opts;
  room?.register(app);
  const look = { stylesheets: room?.stylesheets ?? [] };

  async function show(reply: FastifyReply, link: LinkRef, embedded = false) {
    reply.header('Content-Security-Policy', csp(await core.nodeAddresses())).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').type('text/html; charset=utf-8');
    const resolved = await core.access.resolve(link);
    if (!resolved) return reply.status(404).send(renderNotFound(look));
    const { meeting, participant, availability, state } = resolved;
    const title = meeting.title || meeting.key;
    // Joinable links open the room; a meeting that has not started yet counts down in it.
    if ((state === 'room' || state === 'not_started') && room) {
      const start = availability.state === 'not_started'
        ? { startsAt: availability.startsAt.toISOString(), startsAtText: time.formatStart(availability.startsAt, (await core.accounts.get(meeting.accountId)).timeZone) }
        : {};
      const bootstrap: RoomBootstrap = {
        link,
        meeting: { title, ...start },
        ...(state === 'not_started' ? { state: 'not_started' as const } : {}),
        needsName: !participant,
        embedded,
        ...((await core.recordings.running(meeting.id)) ? { recording: true } : {}),
      };
      if (participant) {
        // Not joined yet: the person may still accept or decline (and change their mind); not the host.
        const invitation = invitationOf(participant);
        bootstrap.person = { name: participant.name, role: participant.role, ...(invitation ? { invitation } : {}) };
      } else {
        bootstrap.ways = core.access.waysIn(meeting.access);
        const form = joinForm(bootstrap.ways);
        if (form) bootstrap.form = form;
      }
      return reply.send(room.page(bootstrap));
    }
    const account = await core.accounts.get(meeting.accountId);
    return reply.send(renderLinkPage({
      title,
      availability,
      live: isLive(meeting.status),
      timeZone: account.timeZone,
      invitee: participant && { name: participant.name, cancelled: participant.cancelledAt !== null, status: participant.status },
    }, look));
  }

  app.get<{ Params: { token: string } }>('/e/:token', async (request, reply) => show(reply, { kind: 'personal', token: request.params.token }));

  for (const path of ['/lbmeeting/', '/lbmeeting']) {
    app.get<{ Querystring: { key?: string } }>(path, async (request, reply) => show(reply, { kind: 'conference', key: request.query.key ?? '' }));
  }

  app.get<{ Params: { key: string } }>('/embed/:key', async (request, reply) => show(reply, { kind: 'conference', key: request.params.key }, true));

  app.get<{ Params: { code: string } }>('/:code', async (request, reply) => show(reply, { kind: 'public', code: request.params.code }));
}
