import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Core, LiveMeeting, LiveSource, SeatSource } from '../../core/index.js';
import type { AccountRecord } from '../../store/index.js';
import * as S from './schemas.js';
import { iso, meetingView } from './views.js';

// ---- schemas ------------------------------------------------------------------------------


type Media = 'audio' | 'video' | 'screen';
/** The native API says audio and video; the room says microphone and camera. */
const SOURCE: Record<Media, SeatSource> = { audio: 'microphone', video: 'camera', screen: 'screen' };

const Source = Type.Object({
  on: Type.Boolean(),
  mutedByHost: Type.Boolean({ description: 'a host, a moderator or this API turned it off; it stays off until the person turns it on' }),
});

const LivePerson = Type.Object({
  id: Type.String({ description: 'the participant id' }),
  externalId: S.Nullable(Type.String({ description: 'your own id for the person (LiveMinutes puid)' })),
  name: Type.String(),
  role: Type.Union([Type.Literal('host'), Type.Literal('moderator'), Type.Literal('participant'), Type.Literal('viewer')]),
  joinedAt: Type.String({ format: 'date-time', description: 'when they took their seat' }),
  connection: Type.Union([Type.Literal('connected'), Type.Literal('reconnecting')], {
    description: 'reconnecting: their connection dropped and their seat waits for them (up to the resume window)',
  }),
  audio: Source,
  video: Source,
  screen: Source,
  handRaised: Type.Boolean(),
  speaking: Type.Boolean({ description: 'the active speaker now' }),
});

const Knock = Type.Object({
  id: Type.String({ description: 'the participant id' }),
  externalId: S.Nullable(Type.String()),
  name: Type.String(),
  since: Type.String({ format: 'date-time', description: 'when they started waiting' }),
});

export const LiveState = Type.Object({
  live: Type.Boolean({ description: 'a session is running on a node now' }),
  since: S.Nullable(Type.String({ format: 'date-time', description: 'when the running session started' })),
  participants: Type.Array(LivePerson, { description: 'everyone in the room now' }),
  lobby: Type.Array(Knock, { description: 'people waiting to be let in' }),
});

const MuteBody = Type.Object({
  sources: Type.Optional(Type.Array(Type.Union([Type.Literal('audio'), Type.Literal('video'), Type.Literal('screen')]), {
    minItems: 1, maxItems: 3, description: 'what to turn off; default ["audio"]',
  })),
}, { additionalProperties: false });

const RemoveBody = Type.Object({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'shown to the person on the page they see next' })),
}, { additionalProperties: false });

const LobbyBody = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

const NoContent = Type.Null({ description: 'done: the room has applied it' });

// ---- routes -------------------------------------------------------------------------------

const source = (s: LiveSource) => ({ on: s.on, mutedByHost: s.mutedByHost });

export function liveView(live: LiveMeeting): Static<typeof LiveState> {
  return {
    live: live.live,
    since: iso(live.since),
    participants: live.present.map(({ participant: p, state: s }) => ({
      id: p.id, externalId: p.externalId, name: p.name, role: p.role, joinedAt: s.joinedAt.toISOString(), connection: s.connection,
      audio: source(s.microphone), video: source(s.camera), screen: source(s.screen), handRaised: s.handRaised, speaking: s.speaking,
    })),
    lobby: live.waiting.map(({ participant: p, state: s }) => ({ id: p.id, externalId: p.externalId, name: p.name, since: s.since.toISOString() })),
  };
}

/**
 * A live meeting seen and steered from the account's backend: who is in the room now, and the
 * commands a host has in the room. Each command answers once the room has applied it.
 */
export function liveRoutes(parent: FastifyInstance, core: Core, accountOf: (request: FastifyRequest) => AccountRecord, tags = ['live']): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const notHere = ' 409 when the person is not there now.';
  // The body of these commands is optional: none means the defaults.
  const noBodyIsEmpty = async (request: FastifyRequest) => {
    request.body ??= {};
  };

  app.get('/meetings/:id/live', {
    schema: {
      tags, summary: 'Who is in the meeting now',
      description: 'Everyone in the room with their media, and who waits in the lobby. `live: false` when no session runs.',
      params: S.IdParams, response: { 200: LiveState, ...S.Errors },
    },
  }, async (request) => liveView(await core.live.state(accountOf(request), request.params.id)));

  app.post('/meetings/:id/participants/:pid/mute', {
    config: { audit: 'participant.mute' },
    schema: {
      tags, summary: 'Turn off someone’s microphone, camera or screen share',
      description: `The server stops forwarding it at once and the person’s page says the organiser turned it off; they may turn it on again.${notHere}`,
      params: S.ParticipantParams, body: MuteBody, response: { 204: NoContent, ...S.BodyErrors },
    },
    preValidation: noBodyIsEmpty,
  }, async (request, reply) => {
    const sources = (request.body.sources ?? ['audio']).map((m) => SOURCE[m]);
    await core.live.mute(accountOf(request), request.params.id, request.params.pid, sources);
    return reply.status(204).send(null);
  });

  app.post('/meetings/:id/participants/:pid/remove', {
    config: { audit: 'participant.remove' },
    schema: {
      tags, summary: 'Remove someone from the room',
      description: `Their page shows that they were removed, with the reason if one is given. Their link still works; delete the participant to revoke it.${notHere}`,
      params: S.ParticipantParams, body: RemoveBody, response: { 204: NoContent, ...S.BodyErrors },
    },
    preValidation: noBodyIsEmpty,
  }, async (request, reply) => {
    await core.live.remove(accountOf(request), request.params.id, request.params.pid, request.body.reason);
    return reply.status(204).send(null);
  });

  for (const [action, admit] of [['admit', true], ['decline', false]] as const) {
    app.post(`/meetings/:id/participants/:pid/${action}`, {
      config: { audit: `participant.${action}` },
      schema: {
        tags, summary: admit ? 'Let someone waiting in the lobby in' : 'Turn away someone waiting in the lobby',
        description: admit ? `409 when the meeting is full or the person is not waiting.` : `Their page says they were not let in.${notHere}`,
        params: S.ParticipantParams, response: { 204: NoContent, ...S.Errors },
      },
    }, async (request, reply) => {
      await core.live.answerKnock(accountOf(request), request.params.id, request.params.pid, admit);
      return reply.status(204).send(null);
    });
  }

  app.post('/meetings/:id/lobby', {
    config: { audit: 'meeting.lobby' },
    schema: {
      tags, summary: 'Turn the lobby on or off',
      description: 'Off lets everyone waiting in, as far as seats allow.',
      params: S.IdParams, body: LobbyBody, response: { 200: S.Meeting, ...S.BodyErrors },
    },
  }, async (request) => {
    const account = accountOf(request);
    const meeting = await core.meetings.get(account, request.params.id);
    return meetingView(core, (await core.meetings.update(account, meeting, { lobby: request.body.enabled })).meeting);
  });
}
