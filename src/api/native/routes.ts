import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Core, MeetingInput } from '../../core/index.js';
import type { AccessSettings, AccountRecord } from '../../store/index.js';
import { exposeTo } from '../http/cors.js';
import { retryAfter, toFailure } from '../http/errors.js';
import { exactJsonBodies } from '../http/validation.js';
import { cssLength, embedIframe } from '../http/embed.js';
import { EMBED_SCRIPT_PATH } from '../../protocol/messages.js';
import { auditChanges, identify } from '../http/audit.js';
import { accountAuditRoute, NATIVE_AUDIT } from './audit.js';
import { liveRoutes } from './live.js';
import { recordingRoutes } from './recordings.js';
import { webhookRoutes } from './webhooks.js';
import * as S from './schemas.js';
import { bearerToken, idempotentCreate, pageQuery, toPage } from './support.js';
import { accountView, meetingView, participantView, presetView, userView } from './views.js';

/** The native API's names for the core's fields, where they differ. */
const FIELDS: Record<string, string> = {
  presetName: 'preset', signupPreset: 'access.signupPreset', guestPreset: 'access.guestPreset',
  meetingId: 'id', participantId: 'pid', presetId: 'id', userId: 'id', webhookId: 'id',
};

const NoContent = Type.Null({ description: 'no content' });

function meetingInput(b: Static<typeof S.MeetingUpdate>): MeetingInput {
  const input: MeetingInput = {
    title: b.title, description: b.description, language: b.language, enabled: b.enabled, presetName: b.preset,
    pin: b.pin, maxParticipants: b.maxParticipants, lobby: b.lobby, autoRecord: b.autoRecord,
  };
  if (b.startsAt !== undefined) input.startsAt = b.startsAt === null ? null : new Date(b.startsAt);
  if (b.endsAt !== undefined) input.endsAt = b.endsAt === null ? null : new Date(b.endsAt);
  if (b.access) {
    const access: Partial<AccessSettings> = {};
    if (b.access.mode !== undefined) access.authentication = b.access.mode === 'restricted';
    if (b.access.usernamePassword !== undefined) access.usernamePassword = b.access.usernamePassword;
    if (b.access.pin !== undefined) access.pin = b.access.pin;
    if (b.access.signupPreset !== undefined) access.signupPreset = b.access.signupPreset;
    if (b.access.guestPreset !== undefined) access.guestPreset = b.access.guestPreset;
    input.access = access;
  }
  return input;
}

/**
 * What every native-API scope shares: exact JSON validation and one error shape. `beforeError`
 * adds what the scope knows to a failure's answer (the account scope: CORS headers).
 */
export function nativeConventions(
  app: FastifyInstance, log: FastifyBaseLogger, fields: Readonly<Record<string, string>> = FIELDS,
  beforeError?: (request: FastifyRequest, reply: FastifyReply) => void,
): void {
  exactJsonBodies(app);
  app.setErrorHandler((error, request, reply) => {
    const failure = toFailure(error, request, log, fields);
    beforeError?.(request, reply);
    retryAfter(reply, failure);
    if (failure.httpStatus === 401) reply.header('WWW-Authenticate', 'Bearer realm="Parley"');
    return reply.status(failure.httpStatus).send({
      error: { code: failure.code, message: failure.message, details: failure.field ? { field: fields[failure.field] ?? failure.field } : {} },
    });
  });
}

/** Native API, account scope: Bearer API token. */
export async function accountRoutes(parent: FastifyInstance, opts: { core: Core; log: FastifyBaseLogger }): Promise<void> {
  const { core } = opts;
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const accounts = new WeakMap<FastifyRequest, AccountRecord>();
  const accountOf = (request: FastifyRequest) => accounts.get(request) as AccountRecord; // set by the onRequest hook
  nativeConventions(app, opts.log, FIELDS, (request, reply) => exposeTo(core, request, reply, accounts.get(request)));
  auditChanges(app, core, NATIVE_AUDIT);

  app.addHook('onRequest', async (request, reply) => {
    const { account } = await core.accounts.authenticateBearer(bearerToken(request));
    accounts.set(request, account);
    identify(request, { account, actor: { accountId: account.id, surface: 'native', credential: 'api-token' } });
    exposeTo(core, request, reply, account);
    await core.rateLimits.take(account);
  });

  const meetingOf = (request: FastifyRequest<{ Params: { id: string } }>) => core.meetings.get(accountOf(request), request.params.id);

  // ---- account -----------------------------------------------------------------------------
  app.get('/account', { schema: { tags: ['account'], summary: 'The calling account', response: { 200: S.Account, ...S.Errors } } },
    async (request) => accountView(core, accountOf(request)));

  app.patch('/account', {
    schema: {
      tags: ['account'], summary: 'Change the calling account: the browser origins that may call its APIs (CORS)',
      body: S.AccountSelfUpdate, response: { 200: S.Account, ...S.BodyErrors },
    },
  }, async (request) => accountView(core, await core.accounts.update(accountOf(request).id, { corsOrigins: request.body.corsOrigins, recordingRetentionDays: request.body.recordingRetentionDays })));

  // ---- meetings ----------------------------------------------------------------------------
  app.post('/meetings', { config: { audit: 'meeting.create' },
    schema: {
      tags: ['meetings'], summary: 'Create a meeting', description: 'Send an Idempotency-Key header to make retries safe.',
      headers: S.IdempotencyHeaders, body: S.MeetingCreate, response: { 201: S.Meeting, ...S.BodyErrors },
    },
  }, async (request, reply) => {
    const account = accountOf(request);
    return idempotentCreate(core, account.id, request, reply, async () => {
      const b = request.body;
      const { meeting, pin } = await core.meetings.create(account, { ...meetingInput(b), key: b.key, host: b.host, via: 'native', from: request.ip });
      return { statusCode: 201, payload: meetingView(core, meeting, pin) };
    });
  });

  app.get('/meetings', { schema: { tags: ['meetings'], summary: 'List meetings, oldest first', querystring: S.PageQuery, response: { 200: S.Page(S.Meeting), ...S.Errors } } },
    async (request) => {
      const q = pageQuery(request.query);
      return toPage(await core.meetings.list(accountOf(request), q), q, (m) => meetingView(core, m));
    });

  app.get('/meetings/:id', { schema: { tags: ['meetings'], summary: 'Get a meeting', params: S.IdParams, response: { 200: S.Meeting, ...S.Errors } } },
    async (request) => meetingView(core, await meetingOf(request)));

  app.patch('/meetings/:id', { config: { audit: 'meeting.update' }, schema: { tags: ['meetings'], summary: 'Change a meeting', params: S.IdParams, body: S.MeetingUpdate, response: { 200: S.Meeting, ...S.BodyErrors } } },
    async (request) => {
      const { meeting, pin } = await core.meetings.update(accountOf(request), await meetingOf(request), meetingInput(request.body));
      return meetingView(core, meeting, pin);
    });

  app.delete('/meetings/:id', { config: { audit: 'meeting.delete' }, schema: { tags: ['meetings'], summary: 'Delete a meeting and its participants (ends a live session)', params: S.IdParams, response: { 204: NoContent, ...S.Errors } } },
    async (request, reply) => {
      await core.meetings.remove(await meetingOf(request));
      return reply.status(204).send(null);
    });

  app.post('/meetings/:id/end', { config: { audit: 'meeting.end' }, schema: { tags: ['meetings'], summary: 'End the meeting for everyone', params: S.IdParams, response: { 200: S.Meeting, ...S.BodyErrors } } },
    async (request) => meetingView(core, await core.meetings.endForAll(await meetingOf(request))));

  app.post('/meetings/:id/cancel', { config: { audit: 'meeting.cancel' }, schema: { tags: ['meetings'], summary: 'Cancel the meeting (links say so; statuses stay readable)', params: S.IdParams, response: { 200: S.Meeting, ...S.BodyErrors } } },
    async (request) => meetingView(core, await core.meetings.cancel(await meetingOf(request))));

  app.get('/meetings/:id/embed', {
    schema: { tags: ['meetings'], summary: 'Embed code for the meeting (iframe, and the client script)', params: S.IdParams, querystring: S.EmbedQuery, response: { 200: S.EmbedCode, ...S.Errors } },
  }, async (request) => {
    const meeting = await meetingOf(request);
    const width = cssLength('width', request.query.width, '100%');
    const height = cssLength('height', request.query.height, '600px');
    const src = core.links.embedUrl(meeting);
    return { src, iframe: embedIframe(src, meeting.title || meeting.key, width, height), script: `${core.links.base}${EMBED_SCRIPT_PATH}` };
  });

  // ---- participants ------------------------------------------------------------------------
  app.post('/meetings/:id/participants', { config: { audit: 'participant.add' },
    schema: {
      tags: ['participants'], summary: 'Invite a participant',
      description: 'Inviting an externalId that is already invited returns that participant (200) instead of creating one (201).',
      params: S.IdParams, headers: S.IdempotencyHeaders, body: S.ParticipantCreate, response: { 200: S.Participant, 201: S.Participant, ...S.BodyErrors },
    },
  }, async (request, reply) => {
    const account = accountOf(request);
    const meeting = await meetingOf(request);
    return idempotentCreate(core, account.id, request, reply, async () => {
      const b = request.body;
      const { participant, created } = await core.participants.add(account, meeting, { externalId: b.externalId, name: b.name, email: b.email, role: b.role, presetName: b.preset });
      return { statusCode: created ? 201 : 200, payload: participantView(core, participant) };
    });
  });

  app.get('/meetings/:id/participants', {
    schema: { tags: ['participants'], summary: 'List participants', params: S.IdParams, querystring: S.PageQuery, response: { 200: S.Page(S.Participant), ...S.Errors } },
  }, async (request) => {
    const meeting = await meetingOf(request);
    const q = pageQuery(request.query);
    return toPage(await core.participants.list(meeting, q), q, (p) => participantView(core, p));
  });

  app.get('/meetings/:id/participants/:pid', {
    schema: { tags: ['participants'], summary: 'Get a participant', params: S.ParticipantParams, response: { 200: S.Participant, ...S.Errors } },
  }, async (request) => participantView(core, await core.participants.get(await meetingOf(request), request.params.pid)));

  app.delete('/meetings/:id/participants/:pid', { config: { audit: 'participant.delete' },
    schema: { tags: ['participants'], summary: 'Remove a participant (their link stops working)', params: S.ParticipantParams, response: { 204: NoContent, ...S.Errors } },
  }, async (request, reply) => {
    await core.participants.delete(await core.participants.get(await meetingOf(request), request.params.pid));
    return reply.status(204).send(null);
  });

  liveRoutes(app, core, accountOf);
  webhookRoutes(app, core, accountOf);
  recordingRoutes(app, core, accountOf);
  accountAuditRoute(app, core, (request) => accountOf(request).id);

  // ---- presets -----------------------------------------------------------------------------
  app.post('/presets', { config: { audit: 'preset.create' }, schema: { tags: ['presets'], summary: 'Create a preset', headers: S.IdempotencyHeaders, body: S.PresetCreate, response: { 201: S.Preset, ...S.BodyErrors } } },
    async (request, reply) => {
      const account = accountOf(request);
      return idempotentCreate(core, account.id, request, reply, async () => ({ statusCode: 201, payload: presetView(await core.presets.create(account, request.body)) }));
    });

  app.get('/presets', { schema: { tags: ['presets'], summary: 'List presets', querystring: S.PageQuery, response: { 200: S.Page(S.Preset), ...S.Errors } } },
    async (request) => {
      const q = pageQuery(request.query);
      return toPage(await core.presets.list(accountOf(request), q), q, presetView);
    });

  app.get('/presets/:id', { schema: { tags: ['presets'], summary: 'Get a preset', params: S.IdParams, response: { 200: S.Preset, ...S.Errors } } },
    async (request) => presetView(await core.presets.get(accountOf(request), request.params.id)));

  app.patch('/presets/:id', { config: { audit: 'preset.update' }, schema: { tags: ['presets'], summary: 'Change a preset (a rename follows into meetings)', params: S.IdParams, body: S.PresetUpdate, response: { 200: S.Preset, ...S.BodyErrors } } },
    async (request) => presetView(await core.presets.update(accountOf(request), request.params.id, request.body)));

  app.delete('/presets/:id', { config: { audit: 'preset.delete' }, schema: { tags: ['presets'], summary: 'Delete a preset no meeting uses', params: S.IdParams, response: { 204: NoContent, ...S.Errors } } },
    async (request, reply) => {
      await core.presets.delete(accountOf(request), request.params.id);
      return reply.status(204).send(null);
    });

  // ---- users -------------------------------------------------------------------------------
  app.post('/users', { config: { audit: 'user.create' }, schema: { tags: ['users'], summary: 'Register a user', headers: S.IdempotencyHeaders, body: S.UserCreate, response: { 201: S.User, ...S.BodyErrors } } },
    async (request, reply) => {
      const account = accountOf(request);
      return idempotentCreate(core, account.id, request, reply, async () => {
        const { user, apiKey } = await core.users.create(account, { ...request.body, withApiKey: request.body.apiKey });
        return { statusCode: 201, payload: userView(user, apiKey) };
      });
    });

  app.get('/users', { schema: { tags: ['users'], summary: 'List users', querystring: S.PageQuery, response: { 200: S.Page(S.User), ...S.Errors } } },
    async (request) => {
      const q = pageQuery(request.query);
      return toPage(await core.users.list(accountOf(request), q), q, (u) => userView(u));
    });

  app.get('/users/:id', { schema: { tags: ['users'], summary: 'Get a user', params: S.IdParams, response: { 200: S.User, ...S.Errors } } },
    async (request) => userView(await core.users.get(accountOf(request), request.params.id)));

  app.patch('/users/:id', { config: { audit: 'user.update' }, schema: { tags: ['users'], summary: 'Change a user (grant or withdraw API permission here)', params: S.IdParams, body: S.UserUpdate, response: { 200: S.User, ...S.BodyErrors } } },
    async (request) => userView(await core.users.update(accountOf(request), request.params.id, request.body)));

  app.delete('/users/:id', { config: { audit: 'user.delete' }, schema: { tags: ['users'], summary: 'Delete a user', params: S.IdParams, response: { 204: NoContent, ...S.Errors } } },
    async (request, reply) => {
      await core.users.delete(accountOf(request), request.params.id);
      return reply.status(204).send(null);
    });

  app.post('/users/:id/api-key', { config: { audit: 'user.rotate-key' }, schema: { tags: ['users'], summary: 'Issue a new Livebox API key (the old one stops working)', params: S.IdParams, response: { 200: S.User, ...S.BodyErrors } } },
    async (request) => {
      const account = accountOf(request);
      const apiKey = await core.users.rotateApiKey(account, request.params.id);
      return userView(await core.users.get(account, request.params.id), apiKey);
    });

  // ---- service -----------------------------------------------------------------------------
  app.get('/service', { schema: { tags: ['service'], summary: 'Media service state: switched on, and what the media workers really do', response: { 200: S.ServiceState, ...S.Errors } } },
    // The server's addresses are for the operator and the accounts it lets control the service.
    async (request) => {
      const { addresses, ...state } = core.service.status();
      return accountOf(request).serviceControl ? { ...state, addresses } : state;
    });

  app.post('/service', {
    config: { audit: serviceAction },
    schema: {
      tags: ['service'], summary: 'Start, stop or restart the media service, or re-read its addresses; answers once the media workers have acted',
      body: S.ServiceAction, response: { 200: S.ServiceState, ...S.BodyErrors, ...S.errorResponses(503) },
    },
  }, async (request) => {
    await controlService(core, { account: accountOf(request) }, request.body.action);
    return core.service.status();
  });
}

/** The audit action of a service call: service.start, service.stop, service.restart, service.refresh-addresses. */
export const serviceAction = (request: FastifyRequest) => {
  const action = (request.body as { action?: unknown } | undefined)?.action;
  return typeof action === 'string' && /^[a-z-]+$/.test(action) ? `service.${action}` : 'service.control';
};

export async function controlService(core: Core, actor: Parameters<Core['service']['stop']>[0], action: Static<typeof S.ServiceAction>['action']) {
  switch (action) {
    case 'start': return core.service.start(actor);
    case 'stop': return core.service.stop(actor);
    case 'restart': return core.service.restart(actor);
    case 'refresh-addresses': await core.service.refresh(actor);
  }
}
