import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Socket } from 'node:net';
import type { Core, LiveMinutesProof } from '../../core/index.js';
import { CoreError, time } from '../../core/index.js';
import type { AccountRecord } from '../../store/index.js';
import { auditChanges, identify, meetingByKey } from '../http/audit.js';
import { acceptJsonAsPlainText, acceptMultipartForms } from '../http/body.js';
import { exposeTo } from '../http/cors.js';
import { retryAfter, toFailure } from '../http/errors.js';
import { legacyBodies } from '../http/validation.js';
import { AddParticipantBody, CreateMeetingBody, MeetingKeyBody, ParticipantBody, Responses } from './schemas.js';

/** The document's names for the core's fields, for error messages. */
const FIELDS: Record<string, string> = {
  key: 'meetingKey', externalId: 'puid', name: 'nickname', language: 'lang', startsAt: 'time', endsAt: 'time + duration',
};
const HOST_FIELDS: Record<string, string> = { ...FIELDS, externalId: 'hostid', name: 'hostnickname', email: 'hostemail' };

export const LIVEMINUTES_METHODS = [
  'createMeeting', 'addParticipant', 'getParticipantUrl', 'getMeetingUrl',
  'cancelMeeting', 'cancelParticipant', 'getMeetingStatus', 'getParticipantStatus',
] as const;

function parseTime(text: string, timeZone: string): Date {
  const wall = time.parseIsoLocal(text);
  if (!wall) throw new CoreError('invalid', 'must be a real date and time as yyyy-MM-dd HH:mm:ss', { field: 'startsAt' });
  return time.instantOf(wall, timeZone);
}

function parseDuration(value: number | string): number {
  const hours = typeof value === 'number' ? value : Number(value.trim());
  if (typeof value === 'string' && !/^\s*\d+(\.\d+)?\s*$/.test(value)) {
    throw new CoreError('invalid', 'must be a number of hours such as 1.5', { field: 'duration' });
  }
  // How long a meeting may be is the core's rule (checkWindow), the same on every surface.
  if (!Number.isFinite(hours) || hours <= 0) throw new CoreError('invalid', 'must be more than 0 hours', { field: 'duration' });
  return hours;
}

function basicCredentials(request: FastifyRequest): { sid: string; token: string } {
  const header = request.headers.authorization ?? '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) throw new CoreError('unauthenticated', 'HTTP Basic authentication with AccountSid:AuthToken is required');
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new CoreError('unauthenticated', 'HTTP Basic credentials must be AccountSid:AuthToken');
  return { sid: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

export interface LiveMinutesOptions {
  core: Core;
  log: FastifyBaseLogger;
  /**
   * LIVEMINUTES_HTTP_ERRORS: failures with HTTP error statuses (401, 404, 409, 429…). Off by
   * default: the document describes every failure as `resultcode: 0`, and its clients (Python's
   * urllib2, jQuery's `.done`) only read that from an HTTP 200.
   */
  httpErrors?: boolean;
}

/** The status a LiveMinutes failure is answered with: 200 as the document has it, or the HTTP one. */
export const liveMinutesStatus = (httpErrors: boolean | undefined, httpStatus: number) => (httpErrors ? httpStatus : 200);

/** LiveMinutes-compatible API: eight POST methods at the root, HTTP Basic, `resultcode` 1 or 0. */
export async function liveMinutesApi(parent: FastifyInstance, opts: LiveMinutesOptions): Promise<void> {
  const { core } = opts;
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  // The authenticated account rides on the request (set by the onRequest hook, read by handlers).
  app.decorateRequest('liveMinutesAccount', null);
  const knownAccount = (request: FastifyRequest) => (request as unknown as { liveMinutesAccount: AccountRecord | null }).liveMinutesAccount ?? undefined;
  const accountOf = (request: FastifyRequest) => knownAccount(request) as AccountRecord;

  acceptJsonAsPlainText(app);
  acceptMultipartForms(app);
  legacyBodies(app);
  auditChanges(app, core, meetingByKey(core, (b) => b.meetingKey));
  app.setErrorHandler((error, request, reply) => {
    const fields = (request.routeOptions.config as { fields?: Record<string, string> }).fields ?? FIELDS;
    const failure = toFailure(error, request, opts.log, fields);
    exposeTo(core, request, reply, knownAccount(request));
    retryAfter(reply, failure);
    if (opts.httpErrors && failure.httpStatus === 401) reply.header('WWW-Authenticate', 'Basic realm="Parley", charset="UTF-8"');
    // Serialized here: with status 200, the route's response schema (a success) would apply.
    return reply.status(liveMinutesStatus(opts.httpErrors, failure.httpStatus)).type('application/json; charset=utf-8')
      .send(JSON.stringify({ resultcode: 0, message: failure.message }));
  });

  // Backends call over keep-alive connections with the same credentials each time: what a
  // connection proved is kept with it (and dies with it) for the core to reconfirm cheaply.
  const proven = new WeakMap<Socket, LiveMinutesProof>();

  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'POST') return done();
    let credentials: { sid: string; token: string };
    try {
      credentials = basicCredentials(request);
    } catch (error) {
      return done(error as Error);
    }
    const socket = request.raw.socket;
    core.accounts.authenticateLiveMinutes(credentials.sid, credentials.token, proven.get(socket)).then(async (account) => {
      proven.set(socket, { accountSid: credentials.sid, authToken: credentials.token, account });
      (request as unknown as { liveMinutesAccount: AccountRecord }).liveMinutesAccount = account;
      identify(request, { account, actor: { accountId: account.id, surface: 'liveminutes', credential: 'auth-token' } });
      exposeTo(core, request, reply, account);
      try {
        await core.rateLimits.take(account);
      } catch (error) {
        return done(error as Error);
      }
      done();
    }, (error: Error) => {
      proven.delete(socket);
      done(error);
    });
  });

  for (const method of LIVEMINUTES_METHODS) {
    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: `/${method}`,
      handler: async (_request, reply) => reply.status(liveMinutesStatus(opts.httpErrors, 405)).header('Allow', 'POST')
        .send({ resultcode: 0, message: `${method} must be called with POST` }),
    });
  }

  app.post('/createMeeting', {
    schema: { body: CreateMeetingBody, response: { 200: Responses.createMeeting } },
    config: { fields: HOST_FIELDS, audit: 'meeting.create' },
  }, async (request) => {
    const account = accountOf(request);
    const b = request.body;
    const startsAt = b.time?.trim() ? parseTime(b.time, account.timeZone) : null;
    const hasDuration = b.duration !== undefined && String(b.duration).trim() !== '';
    // A duration without a time runs from now.
    const endsAt = hasDuration ? new Date((startsAt ?? new Date()).getTime() + parseDuration(b.duration as number | string) * 3600_000) : null;
    const { meeting, host } = await core.meetings.create(account, {
      key: b.meetingKey,
      title: b.title,
      description: b.description,
      language: b.lang,
      startsAt,
      endsAt,
      host: { externalId: b.hostid, name: b.hostnickname, email: b.hostemail },
      via: 'liveminutes',
      from: request.ip,
    });
    return {
      resultcode: 1 as const,
      meetingKey: meeting.key,
      meetingUrl: core.links.meetingUrl(meeting),
      hostUrl: core.links.participantUrl(host as NonNullable<typeof host>), // create() returns the host it was given
    };
  });

  app.post('/addParticipant', { schema: { body: AddParticipantBody, response: { 200: Responses.addParticipant } }, config: { audit: 'participant.add' } }, async (request) => {
    const account = accountOf(request);
    const b = request.body;
    const meeting = await core.meetings.getByKey(account, b.meetingKey, 'meetingKey');
    const { participant } = await core.participants.add(account, meeting, { externalId: b.puid, name: b.nickname, email: b.email });
    return { resultcode: 1 as const, meetingKey: meeting.key, participantUrl: core.links.participantUrl(participant) };
  });

  app.post('/getParticipantUrl', { schema: { body: ParticipantBody, response: { 200: Responses.getParticipantUrl } } }, async (request) => {
    const meeting = await core.meetings.getByKey(accountOf(request), request.body.meetingKey, 'meetingKey');
    const participant = await core.participants.getInvited(meeting, request.body.puid, 'puid');
    return { resultcode: 1 as const, participantUrl: core.links.participantUrl(participant) };
  });

  app.post('/getMeetingUrl', { schema: { body: MeetingKeyBody, response: { 200: Responses.getMeetingUrl } } }, async (request) => {
    const meeting = await core.meetings.getByKey(accountOf(request), request.body.meetingKey, 'meetingKey');
    return { resultcode: 1 as const, meetingUrl: core.links.meetingUrl(meeting) };
  });

  app.post('/cancelMeeting', { schema: { body: MeetingKeyBody, response: { 200: Responses.meetingKey } }, config: { audit: 'meeting.cancel' } }, async (request) => {
    const meeting = await core.meetings.getByKey(accountOf(request), request.body.meetingKey, 'meetingKey');
    await core.meetings.cancel(meeting);
    return { resultcode: 1 as const, meetingKey: meeting.key };
  });

  app.post('/cancelParticipant', { schema: { body: ParticipantBody, response: { 200: Responses.meetingKey } }, config: { audit: 'participant.cancel' } }, async (request) => {
    const meeting = await core.meetings.getByKey(accountOf(request), request.body.meetingKey, 'meetingKey');
    const participant = await core.participants.getByExternalId(meeting, request.body.puid, 'puid');
    await core.participants.cancel(participant);
    return { resultcode: 1 as const, meetingKey: meeting.key };
  });

  app.post('/getMeetingStatus', { schema: { body: MeetingKeyBody, response: { 200: Responses.status } } }, async (request) => {
    const meeting = await core.meetings.getByKey(accountOf(request), request.body.meetingKey, 'meetingKey');
    return { resultcode: 1 as const, status: String(meeting.status) };
  });

  app.post('/getParticipantStatus', { schema: { body: ParticipantBody, response: { 200: Responses.status } } }, async (request) => {
    const meeting = await core.meetings.getByKey(accountOf(request), request.body.meetingKey, 'meetingKey');
    const participant = await core.participants.getInvited(meeting, request.body.puid, 'puid');
    return { resultcode: 1 as const, status: String(participant.status) };
  });
}
