import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import type { Core, LiveboxCaller, MeetingInput } from '../../core/index.js';
import { CoreError, DEFAULT_PRESET, time } from '../../core/index.js';
import type { AccessSettings, MeetingRecord } from '../../store/index.js';
import { auditChanges, identify, meetingByKey } from '../http/audit.js';
import { acceptJsonAsPlainText, acceptMultipartForms } from '../http/body.js';
import { exposeTo } from '../http/cors.js';
import { retryAfter, toFailure } from '../http/errors.js';
import { legacyBodies } from '../http/validation.js';
import { cssLength, embedIframe } from '../http/embed.js';
import {
  ConferenceRow, ConferenceSettings, CredentialsBody, EmbedCodeBody, ResetBody, SchedulingBody, ServiceBody, VideoConfSettingsBody,
} from './schemas.js';

/** The document's names for the core's fields, for error messages. */
const FIELDS: Record<string, string> = {
  key: 'name', presetName: 'selectPreset', signupPreset: 'AllowSignup.Preset', guestPreset: 'UnAuthenticatedUser.Preset',
  startsAt: 'startdate', endsAt: 'enddate',
  authentication: 'Authentication', usernamePassword: 'username_password', pinEntry: 'pinnumber', signup: 'AllowSignup', guests: 'UnAuthenticatedUser',
};
const SCHEDULING_FIELDS: Record<string, string> = { ...FIELDS, key: 'conferenceName' };

export const LIVEBOX_PREFIX = '/livebox/appsservice/api';
const LIVEBOX_OPERATIONS = ['videoConfSettings', 'getEmbedCodeofConference', 'changeSchedulingMode', 'resetAllConferences', 'ControlInsideAppServices', 'refreshIPConfiguration'];

/** The audit action of a Livebox call whose action is a body field (undefined: a read). */
const bodyField = (request: FastifyRequest, name: string) => {
  const v = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim().toLowerCase() : '';
};
const CONFERENCE_ACTIONS: Record<string, string> = {
  add: 'meeting.create', changeconferencemode: 'meeting.set-mode', changeconferencesettings: 'meeting.update', remove: 'meeting.delete',
};
const SERVICE_ACTIONS: Record<string, string> = { start: 'service.start', stop: 'service.stop', restart: 'service.restart' };

const bad = (field: string, reason: string) => new CoreError('invalid', reason, { field });

function flag(field: string, value: boolean | string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw bad(field, 'must be "true" or "false"');
}

function onOff(field: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw bad(field, 'must be "on" or "off"');
}

/** AllowSignup / UnAuthenticatedUser: false, or true / {Preset} naming the preset those people get. */
function way(field: string, value: Settings['AllowSignup'], fallbackPreset: string): string | null | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'object') {
    if (!value.Preset.trim()) throw bad(`${field}.Preset`, 'must name a preset');
    return value.Preset.trim();
  }
  return flag(field, value) ? fallbackPreset : null;
}

function parseDate(field: string, text: string | undefined, timeZone: string): Date {
  if (!text?.trim()) throw bad(field, 'is required');
  const wall = time.parseDayFirst(text);
  if (!wall) throw bad(field, 'must be a real date and time as dd-mm-yyyy hr:min:sec');
  return time.instantOf(wall, timeZone);
}

type Settings = { [K in keyof typeof ConferenceSettings]?: Static<(typeof ConferenceSettings)[K]> };

/** The conference settings of Add / changeConferenceSettings as a core meeting input. */
function settingsInput(b: Settings, current: MeetingRecord | undefined): MeetingInput {
  const input: MeetingInput = {};
  if (b.selectPreset !== undefined && b.selectPreset.trim() !== '') input.presetName = b.selectPreset;
  const preset = b.Preset?.trim() || input.presetName || current?.presetName || DEFAULT_PRESET;
  const access: Partial<AccessSettings> = {};
  const authentication = flag('Authentication', b.Authentication);
  if (authentication !== undefined) access.authentication = authentication;
  const usernamePassword = flag('username_password', b.username_password);
  if (usernamePassword !== undefined) access.usernamePassword = usernamePassword;
  const pin = flag('pinnumber', b.pinnumber);
  if (pin !== undefined) access.pin = pin;
  const signup = way('AllowSignup', b.AllowSignup, preset);
  if (signup !== undefined) access.signupPreset = signup;
  const guests = way('UnAuthenticatedUser', b.UnAuthenticatedUser, preset);
  if (guests !== undefined) access.guestPreset = guests;
  // `Preset` is "the preset settings for the signup user or the guest user": it names the preset
  // of sign-ups and guests that are on and do not name their own ({Preset}) in this request —
  // turned on here with "true", or already on. Given where no such way is on, it would do
  // nothing, so it is refused rather than ignored.
  const lonePreset = b.Preset?.trim();
  if (lonePreset) {
    let applies = false;
    for (const [field, key] of [['AllowSignup', 'signupPreset'], ['UnAuthenticatedUser', 'guestPreset']] as const) {
      if (typeof b[field] === 'object') continue;
      if (access[key] !== undefined) applies ||= access[key] !== null;
      else if (current && current.access[key] !== null) {
        access[key] = lonePreset;
        applies = true;
      }
    }
    if (!applies) throw bad('Preset', 'names the preset of sign-ups and guests, but neither AllowSignup nor UnAuthenticatedUser is on; send it with AllowSignup or UnAuthenticatedUser "true"');
  }
  if (Object.keys(access).length > 0) input.access = access;
  if (b.pin !== undefined && String(b.pin).trim() !== '') input.pin = String(b.pin);
  // Livebox has no personal links: a restricted conference needs a way in of its own.
  input.withoutPersonalLinks = true;
  return input;
}

/** Livebox-compatible API under /livebox/appsservice/api: POST, credentials in the body, words as answers. */
export async function liveboxApi(parent: FastifyInstance, opts: { core: Core; log: FastifyBaseLogger }): Promise<void> {
  const { core } = opts;
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const callers = new WeakMap<FastifyRequest, LiveboxCaller>();
  const callerOf = (request: FastifyRequest) => callers.get(request) as LiveboxCaller; // set by the preValidation hook

  acceptJsonAsPlainText(app);
  acceptMultipartForms(app);
  legacyBodies(app);
  // resetAllConferences accepts a `name` that changes nothing: its entry names no meeting.
  auditChanges(app, core, meetingByKey(core, (b, r) => (r.routeOptions.url?.endsWith('/resetAllConferences') ? undefined : b.name ?? b.conferenceName)));
  app.setErrorHandler((error, request, reply) => {
    const fields = (request.routeOptions.config as { fields?: Record<string, string> }).fields ?? FIELDS;
    const failure = toFailure(error, request, opts.log, fields);
    exposeTo(core, request, reply, callers.get(request)?.account);
    retryAfter(reply, failure);
    return reply.status(failure.httpStatus).send({ status: 'error', code: failure.code, message: failure.message });
  });

  // Credentials travel in the body, so they are checked once it is parsed and before the
  // operation's own validation: a wrong key says so even when the rest is wrong too.
  app.addHook('preValidation', async (request, reply) => {
    if (request.method !== 'POST') return;
    const body = request.body;
    if (body === undefined || body === null) throw new CoreError('invalid', 'the request has no body; send JSON or form fields');
    if (typeof body !== 'object' || Array.isArray(body)) throw new CoreError('invalid', 'the request body must be a JSON object or form fields');
    const b = body as Record<string, unknown>;
    const nested = (typeof b.AuthenticationDetails === 'object' && b.AuthenticationDetails) ? b.AuthenticationDetails as Record<string, unknown> : {};
    const pick = (name: string) => {
      const v = b[name] ?? nested[name];
      return typeof v === 'string' ? v : undefined;
    };
    const caller = await core.accounts.authenticateLivebox({
      username: pick('username'), key: pick('key'), serverKey: pick('Serverkey'), nativeAppKey: pick('Nativeappkey'),
    });
    callers.set(request, caller);
    identify(request, {
      account: caller.account,
      actor: { accountId: caller.account.id, surface: 'livebox', credential: caller.client === 'native' ? 'native-app-key' : 'server-key', userId: caller.user.id },
    });
    exposeTo(core, request, reply, caller.account);
    await core.rateLimits.take(caller.account);
  });

  for (const operation of LIVEBOX_OPERATIONS) {
    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: `/${operation}`,
      handler: async (_request, reply) => reply.status(405).header('Allow', 'POST')
        .send({ status: 'error', code: 'invalid', message: `${operation} must be called with POST` }),
    });
  }

  const word = (reply: FastifyReply, text: string) => reply.type('text/plain; charset=utf-8').send(text);
  const pinHeader = (reply: FastifyReply, pin: string | undefined) => {
    // Livebox answers have no field for a PIN: a generated one travels in a header (and in Add's body).
    if (pin) reply.header('X-Parley-Pin', pin);
  };

  app.post('/videoConfSettings', { schema: { body: VideoConfSettingsBody }, config: { audit: (r) => CONFERENCE_ACTIONS[bodyField(r, 'action')] } }, async (request, reply) => {
    const { account } = callerOf(request);
    const b = request.body;
    const action = ['Add', 'changeConferenceMode', 'changeConferenceSettings', 'Remove', 'get']
      .find((a) => a.toLowerCase() === b.action.trim().toLowerCase());
    switch (action) {
      case 'Add': {
        if (!b.name?.trim()) throw bad('key', 'is required');
        // A new conference is off until changeConferenceMode turns it on.
        const { meeting, pin } = await core.meetings.create(account, {
          ...settingsInput(b, undefined), key: b.name, enabled: false, via: 'livebox', from: request.ip,
        });
        pinHeader(reply, pin);
        return { name: meeting.key, status: 'Added', hashKey: core.links.hashKey(meeting.id), ...(pin ? { pin } : {}) };
      }
      case 'changeConferenceMode': {
        const meeting = await core.meetings.getByKey(account, b.name);
        if (b.conferenceMode === undefined) throw bad('conferenceMode', 'is required ("on" or "off")');
        const on = onOff('conferenceMode', b.conferenceMode);
        const updated = await core.meetings.setEnabled(account, meeting, on);
        return { name: updated.key, status: on ? 'Enabled' : 'Disabled', conferencelink: core.links.conferenceUrl(updated) };
      }
      case 'changeConferenceSettings': {
        const meeting = await core.meetings.getByKey(account, b.name);
        const { pin } = await core.meetings.update(account, meeting, settingsInput(b, meeting));
        pinHeader(reply, pin);
        return word(reply, 'Changed');
      }
      case 'Remove': {
        const meeting = await core.meetings.getByKey(account, b.name);
        await core.meetings.remove(meeting);
        return { name: meeting.key, status: 'Removed', hashKey: core.links.hashKey(meeting.id) };
      }
      case 'get': {
        const rows: Static<typeof ConferenceRow>[] = (await core.meetings.listAll(account)).map((m) => ({
          ConferenceName: m.key,
          CreatedFrom: m.createdFrom ?? '',
          CreatedDate: time.formatDayFirst(m.createdAt, account.timeZone),
          Hashkey: core.links.hashKey(m.id),
          Mode: core.meetings.isSwitchedOn(m) ? 'on' : 'off',
        }));
        return rows;
      }
      default:
        throw bad('action', 'must be one of: Add, changeConferenceMode, changeConferenceSettings, Remove, get');
    }
  });

  app.post('/getEmbedCodeofConference', { schema: { body: EmbedCodeBody } }, async (request, reply) => {
    const { account } = callerOf(request);
    const b = request.body;
    const meeting = await core.meetings.getByKey(account, b.name);
    const width = cssLength('width', b.width, '100%');
    const height = cssLength('height', b.height, '600px');
    const iframe = embedIframe(core.links.embedUrl(meeting), meeting.title || meeting.key, width, height);
    return reply.type('text/html; charset=utf-8').send(iframe);
  });

  app.post('/changeSchedulingMode', { schema: { body: SchedulingBody }, config: { fields: SCHEDULING_FIELDS, audit: 'meeting.schedule' } }, async (request, reply) => {
    const { account } = callerOf(request);
    const b = request.body;
    const meeting = await core.meetings.getByKey(account, b.conferenceName);
    if (onOff('SchedulingMode', b.SchedulingMode)) {
      const startsAt = parseDate('startsAt', b.startdate, account.timeZone);
      const endsAt = parseDate('endsAt', b.enddate, account.timeZone);
      await core.meetings.setSchedule(account, meeting, startsAt, endsAt);
      return word(reply, 'Scheduled');
    }
    await core.meetings.setSchedule(account, meeting, null, null);
    return word(reply, 'Cancelled');
  });

  // "To reset all conferences": the document's sample sends a conference `name`, but the
  // operation and its answer are about all of them, so `name` is accepted and changes nothing.
  app.post('/resetAllConferences', { schema: { body: ResetBody }, config: { audit: 'meeting.reset-all' } }, async (request, reply) => {
    await core.meetings.resetAll(callerOf(request));
    return word(reply, 'Reset');
  });

  app.post('/ControlInsideAppServices', { schema: { body: ServiceBody }, config: { audit: (r) => SERVICE_ACTIONS[bodyField(r, 'action')] ?? 'service.control' } }, async (request, reply) => {
    const caller = callerOf(request);
    const b = request.body;
    if (b.appservice.trim() !== 'VideoConferencingService') throw bad('appservice', 'must be "VideoConferencingService"');
    switch (b.action.trim().toLowerCase()) {
      case 'start':
        await core.service.start(caller);
        return word(reply, 'Started');
      case 'stop':
        await core.service.stop(caller);
        return word(reply, 'Stopped');
      case 'restart':
        await core.service.restart(caller);
        return word(reply, 'Restarted');
      default:
        throw bad('action', 'must be one of: start, stop, restart');
    }
  });

  app.post('/refreshIPConfiguration', { schema: { body: CredentialsBody }, config: { audit: 'service.refresh-addresses' } }, async (request, reply) => {
    await core.service.refresh(callerOf(request));
    return word(reply, 'Refreshed');
  });
}
