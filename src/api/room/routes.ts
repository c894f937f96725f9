import type { FastifyInstance, FastifyReply } from 'fastify';
import { CoreError, type Core, type LinkState } from '../../core/index.js';
import type { MeetingRecord } from '../../store/index.js';
import { INVITATION_PATH, JOIN_PATH, type InvitationResponse, type JoinRefusal, type JoinResponse } from '../../protocol/messages.js';
import { parseInvitationRequest, parseJoinRequest, ProtocolError } from '../../protocol/parse.js';
import { HTTP_STATUS } from '../http/errors.js';

/**
 * The room's HTTP calls, before its socket: a join token for the link the page was opened from
 * (after the pre-join screen's name, PIN, sign-in or sign-up), and a personal link's accept or
 * decline. The core decides; this translates.
 */
export function roomRoutes(app: FastifyInstance, core: Core): void {
  app.post(JOIN_PATH, async (request, reply) => {
    let meeting: MeetingRecord | undefined;
    try {
      const { link, name, pin, login, signup, unreachableNode } = parseJoinRequest(request.body);
      core.room.assertAdmitting();
      meeting = (await core.access.resolve(link))?.meeting;
      const seated = meeting ? core.presence.seatedHere(meeting.id) : 0;
      const admission = await core.access.admit(link, { name, pin, login, signup }, seated, request.ip);
      const { token, grant } = core.joinTokens.issue(link, admission);
      const nodeUrl = await core.placeMeeting(admission.meeting.id, unreachableNode);
      const answer: JoinResponse = {
        ...(nodeUrl ? { nodeUrl } : {}),
        joinToken: token, notBefore: grant.notBefore.toISOString(), expiresAt: grant.expiresAt.toISOString(), serverTime: new Date().toISOString(),
        recording: (await core.recordings.running(admission.meeting.id)) !== undefined,
      };
      return answer;
    } catch (error) {
      return refuse(core, error, reply, meeting);
    }
  });

  app.post(INVITATION_PATH, async (request, reply) => {
    try {
      const { token, answer } = parseInvitationRequest(request.body);
      const response: InvitationResponse = { invitation: await core.room.answerInvitation(token, answer) };
      return response;
    } catch (error) {
      return refuse(core, error, reply);
    }
  });
}

/**
 * A refused join or invitation answer, as JoinRefusal. `meeting`: the one the link leads to, so
 * that "not started" says when it starts.
 */
async function refuse(core: Core, error: unknown, reply: FastifyReply, meeting?: MeetingRecord) {
  if (error instanceof ProtocolError) return reply.status(400).send({ error: { code: 'invalid', message: error.message } });
  if (!(error instanceof CoreError)) throw error;
  const state = error.details?.state as LinkState | undefined;
  const retryAfterSeconds = error.details?.retryAfterSeconds as number | undefined;
  if (retryAfterSeconds) reply.header('Retry-After', String(retryAfterSeconds));
  const start = state === 'not_started' ? await core.room.startTime(meeting) : {};
  const body: JoinRefusal = {
    error: {
      code: error.code, message: error.messageFor(),
      ...(state && state !== 'room' ? { state } : {}),
      ...(error.field ? { field: error.field } : {}),
      ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
      ...start,
    },
  };
  return reply.status(HTTP_STATUS[error.code]).send(body);
}
