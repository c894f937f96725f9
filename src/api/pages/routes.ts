import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Core } from '../../core/index.js';
import type { MeetingRecord, ParticipantRecord } from '../../store/index.js';
import { renderLinkPage, renderNotFound } from './render.js';

// Link pages are framed by integrators' sites (embed), so they carry no X-Frame-Options; the
// CSP keeps them to our own resources.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'";

const CODE = /^[0-9A-Za-z]{4,16}$/;
const TOKEN = /^[0-9A-Za-z]{16,64}$/;

/** Every link the APIs hand out: meeting code, personal link, Livebox conference link, embed. */
export async function linkPages(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  const { core } = opts;

  async function show(reply: FastifyReply, meeting: MeetingRecord | undefined, invitee?: ParticipantRecord) {
    reply.header('Content-Security-Policy', CSP).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').type('text/html; charset=utf-8');
    if (!meeting) return reply.status(404).send(renderNotFound());
    const account = await core.accounts.get(meeting.accountId);
    return reply.send(renderLinkPage({
      title: meeting.title || meeting.key,
      availability: core.meetings.availability(meeting),
      live: meeting.status === 8 || meeting.status === 11,
      timeZone: account.timeZone,
      invitee: invitee && { name: invitee.name, cancelled: invitee.cancelledAt !== null, status: invitee.status },
    }));
  }

  app.get<{ Params: { token: string } }>('/e/:token', async (request, reply) => {
    const found = TOKEN.test(request.params.token) ? await core.participants.findByToken(request.params.token) : undefined;
    return show(reply, found?.meeting, found?.participant);
  });

  for (const path of ['/lbmeeting/', '/lbmeeting']) {
    app.get<{ Querystring: { key?: string } }>(path, async (request, reply) => {
      const key = request.query.key ?? '';
      return show(reply, TOKEN.test(key) ? await core.meetings.findByHashKey(key) : undefined);
    });
  }

  app.get<{ Params: { key: string } }>('/embed/:key', async (request, reply) => {
    return show(reply, TOKEN.test(request.params.key) ? await core.meetings.findByHashKey(request.params.key) : undefined);
  });

  app.get<{ Params: { code: string } }>('/:code', async (request, reply) => {
    return show(reply, CODE.test(request.params.code) ? await core.meetings.findByCode(request.params.code) : undefined);
  });
}
