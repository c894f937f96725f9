import { Type, type TSchema } from 'typebox';
import { LIMITS, MAX_CORS_ORIGINS } from '../../core/index.js';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time', description: 'an ISO 8601 date-time with offset, e.g. 2026-12-01T09:00:00Z' });

/** The one error shape of the native API, shared by every route as the component `Error`. */
export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'invalid, unauthenticated, forbidden, not_found, conflict, quota_exceeded, rate_limited, unavailable, unsupported_media_type or internal' }),
    message: Type.String({ description: 'what is wrong, in words' }),
    details: Type.Object({ field: Type.Optional(Type.String({ description: 'the field to blame, when one is' })) }, { additionalProperties: true }),
  }),
}, { $id: 'Error', title: 'Error' });

const ERROR_MEANINGS = {
  400: 'invalid: a field is missing, malformed or out of range (details.field names it), or the body cannot be read',
  401: 'unauthenticated: the token is missing, wrong or revoked',
  403: 'forbidden or quota_exceeded: the token may not do this, or the account is at its quota',
  404: 'not_found: no such resource in this account',
  409: 'conflict: a duplicate, a reused Idempotency-Key, or a state that does not allow this',
  413: 'invalid: the request body is larger than the server accepts (BODY_LIMIT)',
  415: 'unsupported_media_type: send application/json',
  429: 'rate_limited: too many attempts in a short time; wait before trying again',
  503: 'unavailable: the media workers did not act (the message says why); the request may be sent again',
} as const;
type ErrorStatus = keyof typeof ERROR_MEANINGS;

/** Error responses, each a reference to the shared `Error` schema. */
export function errorResponses(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Error', description: ERROR_MEANINGS[s] }])) as Record<ErrorStatus, { $ref: 'Error'; description: string }>;
}

/** Errors of routes without a body, and of routes with one (which can also be too large or of the wrong type). */
export const Errors = errorResponses(400, 401, 403, 404, 409, 429);
export const BodyErrors = errorResponses(400, 401, 403, 404, 409, 413, 415, 429);

/** Creations: a retry with the same Idempotency-Key and body gets the first answer again. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    description: `makes a retry safe: a repeat with the same key and body gets the first answer again (header Idempotent-Replayed: true); `
      + `the same key with another body is a 409. 1 to ${LIMITS.idempotencyKey} visible ASCII characters; kept 24 hours, per account`,
  })),
});

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageSize, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
});

export const Page = <T extends TSchema>(item: T) => Type.Object({
  data: Type.Array(item),
  nextCursor: Nullable(Type.String({ description: 'pass as cursor to get the next page; null on the last page' })),
});

export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const ParticipantParams = Type.Object({ id: Type.String({ maxLength: 64 }), pid: Type.String({ maxLength: 64 }) });

// ---- meetings -----------------------------------------------------------------------------

const AccessBody = Type.Object({
  mode: Type.Optional(Type.Enum(['open', 'restricted'], {
    description: 'open: anyone with the meeting link enters with a name; restricted: only personal links and the ways enabled below',
  })),
  usernamePassword: Type.Optional(Type.Boolean({ description: "the account's registered users sign in" })),
  pin: Type.Optional(Type.Boolean({ description: 'a PIN lets people in' })),
  signupPreset: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.presetName, description: 'visitors may register and get this preset' }))),
  guestPreset: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.presetName, description: 'guests may enter with a name and get this preset' }))),
}, { additionalProperties: false });

const MeetingFields = {
  title: Type.Optional(Type.String({ maxLength: LIMITS.title })),
  description: Type.Optional(Type.String({ maxLength: LIMITS.description })),
  language: Type.Optional(Type.String({ maxLength: LIMITS.language })),
  startsAt: Type.Optional(Nullable(Timestamp)),
  endsAt: Type.Optional(Nullable(Type.String({
    format: 'date-time',
    description: `an ISO 8601 date-time with offset; in the future, after startsAt, and at most ${LIMITS.durationHours} hours after startsAt (or from now without one)`,
  }))),
  enabled: Type.Optional(Type.Boolean({ description: 'only an enabled meeting can be joined (default true); a cancelled meeting cannot be enabled again' })),
  preset: Type.Optional(Type.String({ maxLength: LIMITS.presetName, description: 'preset of participants without one of their own (default Preset-1)' })),
  access: Type.Optional(AccessBody),
  pin: Type.Optional(Type.String({ minLength: LIMITS.pinMin, maxLength: LIMITS.pinMax, pattern: '^[0-9]+$', description: `${LIMITS.pinMin} to ${LIMITS.pinMax} digits` })),
  maxParticipants: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: LIMITS.maxParticipants }))),
  lobby: Type.Optional(Type.Boolean({ description: 'people wait until a host or moderator admits them' })),
  autoRecord: Type.Optional(Type.Boolean({ description: 'the recording starts by itself when the meeting starts (default false)' })),
};

export const MeetingCreate = Type.Object({
  key: Type.Optional(Type.String({ maxLength: LIMITS.meetingKey, description: 'your unique key for the meeting (LiveMinutes meetingKey, Livebox name); generated when absent' })),
  ...MeetingFields,
  host: Type.Optional(Type.Object({
    externalId: Type.String({ minLength: 1, maxLength: LIMITS.externalId }),
    name: Type.Optional(Type.String({ maxLength: LIMITS.personName })),
    email: Type.Optional(Type.String({ maxLength: LIMITS.email })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const MeetingUpdate = Type.Object(MeetingFields, { additionalProperties: false });

export const Meeting = Type.Object({
  id: Type.String(),
  key: Type.String(),
  title: Type.String(),
  description: Type.String(),
  language: Type.String(),
  status: Type.String({ description: 'created (1), in_progress (8), host_left (11) or ended (12)' }),
  statusCode: Type.Integer({ description: 'the LiveMinutes status code: 1, 8, 11 or 12' }),
  endReason: Nullable(Type.String({ description: 'host_ended, scheduled_end, idle, cancelled, disabled or service_stopped' })),
  availability: Type.String({ description: 'what a link shows now: open, not_started, ended, cancelled, disabled or service_stopped' }),
  enabled: Type.Boolean(),
  startsAt: Nullable(Timestamp),
  endsAt: Nullable(Timestamp),
  preset: Type.String(),
  access: Type.Object({
    mode: Type.String(),
    usernamePassword: Type.Boolean(),
    pin: Type.Boolean(),
    signupPreset: Nullable(Type.String()),
    guestPreset: Nullable(Type.String()),
  }),
  maxParticipants: Nullable(Type.Integer()),
  lobby: Type.Boolean(),
  autoRecord: Type.Boolean(),
  hostExternalId: Nullable(Type.String()),
  links: Type.Object({
    meeting: Type.String({ description: 'the public link (LiveMinutes meetingUrl)' }),
    conference: Type.String({ description: 'the Livebox conference link' }),
    embed: Type.String({ description: 'iframe src' }),
  }),
  pin: Type.Optional(Type.String({ description: 'present only in the answer that generated or set the PIN' })),
  createdVia: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Nullable(Timestamp),
  endedAt: Nullable(Timestamp),
  cancelledAt: Nullable(Timestamp),
}, { title: 'Meeting' });

export const EmbedQuery = Type.Object({
  width: Type.Optional(Type.String({ maxLength: 20, description: 'a CSS length (default 100%)' })),
  height: Type.Optional(Type.String({ maxLength: 20, description: 'a CSS length (default 600px)' })),
});

export const EmbedCode = Type.Object({
  src: Type.String({ description: 'the iframe src: the meeting opened inside your page' }),
  iframe: Type.String({ description: 'ready-made <iframe> markup, camera and microphone allowed' }),
  script: Type.String({ description: 'URL of parley-embed.js: Parley.embed(container, { url: src }) gives events and commands (see docs)' }),
}, { title: 'EmbedCode' });

// ---- participants -------------------------------------------------------------------------

export const ParticipantCreate = Type.Object({
  externalId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: LIMITS.externalId, description: 'your id for the person; inviting the same id again returns the same participant' }))),
  name: Type.Optional(Type.String({ maxLength: LIMITS.personName })),
  email: Type.Optional(Type.String({ maxLength: LIMITS.email })),
  role: Type.Optional(Type.Enum(['host', 'moderator', 'participant', 'viewer'])),
  preset: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.presetName }))),
}, { additionalProperties: false });

export const Participant = Type.Object({
  id: Type.String(),
  meetingId: Type.String(),
  externalId: Nullable(Type.String()),
  name: Type.String(),
  email: Type.String(),
  role: Type.String(),
  preset: Nullable(Type.String()),
  status: Type.String({ description: 'invited (2), declined (3), in_progress (10) or left (11)' }),
  statusCode: Type.Integer(),
  cancelled: Type.Boolean(),
  joinUrl: Nullable(Type.String({ description: 'personal link; null once cancelled' })),
  joinedAt: Nullable(Timestamp),
  leftAt: Nullable(Timestamp),
  createdAt: Timestamp,
}, { title: 'Participant' });

// ---- presets ------------------------------------------------------------------------------

const PermissionFields = {
  publishAudio: Type.Optional(Type.Boolean()),
  publishVideo: Type.Optional(Type.Boolean()),
  shareScreen: Type.Optional(Type.Boolean()),
  chat: Type.Optional(Type.Boolean()),
  moderate: Type.Optional(Type.Boolean({ description: 'mute and remove others, admit from the lobby, end for all' })),
  record: Type.Optional(Type.Boolean({ description: 'start and stop the meeting’s recording (hosts and moderators always may); default false' })),
  startAudioMuted: Type.Optional(Type.Boolean()),
  startVideoOff: Type.Optional(Type.Boolean()),
};

export const PresetCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: LIMITS.presetName }), ...PermissionFields }, { additionalProperties: false });
export const PresetUpdate = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.presetName })), ...PermissionFields }, { additionalProperties: false });
export const Preset = Type.Object({
  id: Type.String(),
  name: Type.String(),
  publishAudio: Type.Boolean(),
  publishVideo: Type.Boolean(),
  shareScreen: Type.Boolean(),
  chat: Type.Boolean(),
  moderate: Type.Boolean(),
  record: Type.Boolean(),
  startAudioMuted: Type.Boolean(),
  startVideoOff: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { title: 'Preset' });

// ---- users --------------------------------------------------------------------------------

export const UserCreate = Type.Object({
  username: Type.String({ minLength: 1, maxLength: LIMITS.username }),
  displayName: Type.Optional(Type.String({ maxLength: LIMITS.personName })),
  email: Type.Optional(Type.String({ maxLength: LIMITS.email })),
  password: Type.Optional(Type.String({ minLength: LIMITS.passwordMin, maxLength: LIMITS.passwordMax })),
  apiPermission: Type.Optional(Type.Boolean({ description: 'may call the Livebox API with an API key' })),
  apiKey: Type.Optional(Type.Boolean({ description: 'issue a Livebox API key now (returned once)' })),
}, { additionalProperties: false });

export const UserUpdate = Type.Object({
  displayName: Type.Optional(Type.String({ maxLength: LIMITS.personName })),
  email: Type.Optional(Type.String({ maxLength: LIMITS.email })),
  password: Type.Optional(Nullable(Type.String({ minLength: LIMITS.passwordMin, maxLength: LIMITS.passwordMax }))),
  apiPermission: Type.Optional(Type.Boolean()),
  selfRegistered: Type.Optional(Type.Boolean({ description: 'false promotes a visitor who registered on a join page to a full user of the account' })),
}, { additionalProperties: false });

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  email: Type.String(),
  hasPassword: Type.Boolean(),
  apiPermission: Type.Boolean(),
  hasApiKey: Type.Boolean(),
  selfRegistered: Type.Boolean({ description: 'registered on a join page: signs in only where sign-up is allowed, with the sign-up preset' }),
  signupMeetingId: Nullable(Type.String({ description: 'the meeting where they registered' })),
  signupPreset: Nullable(Type.String({ description: 'the sign-up preset they got' })),
  apiKey: Type.Optional(Type.String({ description: 'present only in the answer that issued it' })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { title: 'User' });

// ---- account, service, admin --------------------------------------------------------------

export const Account = Type.Object({
  id: Type.String(),
  name: Type.String(),
  timeZone: Type.String(),
  accountSid: Type.String(),
  maxMeetings: Type.Integer(),
  maxUsers: Type.Integer(),
  serviceControl: Type.Boolean(),
  corsOrigins: Type.Array(Type.String(), { description: 'browser origins (scheme://host[:port]) that may read this account’s API answers (CORS)' }),
  rateLimitPerMinute: Type.Integer({ description: 'API requests per minute on all surfaces together; 0 means no limit' }),
  recordingRetentionDays: Nullable(Type.Integer({ description: 'recordings are deleted this many days after they were made; null keeps them' })),
  createdAt: Timestamp,
}, { title: 'Account' });

export const ServiceState = Type.Object({
  running: Type.Boolean({ description: 'joins work now: the service is switched on and its media workers run' }),
  enabled: Type.Boolean({ description: 'switched on by the last start/stop (kept across restarts); true with running false means media is down' }),
  addresses: Type.Optional(Type.Array(Type.String(), {
    description: 'addresses media announces in ICE candidates; shown only to accounts allowed to control the service, and to the operator',
  })),
  media: Type.Optional(Type.Object({
    state: Type.Enum(['running', 'starting', 'stopping', 'stopped', 'failed']),
    workers: Type.Integer({ description: 'media worker threads configured' }),
    alive: Type.Integer({ description: 'media worker threads running now' }),
    error: Type.Optional(Type.String({ description: 'why the last start failed' })),
  }, { description: 'the media workers; absent on a server without media (MEDIA_WORKERS=0)' })),
}, { title: 'ServiceState' });

export const ServiceAction = Type.Object({
  action: Type.Enum(['start', 'stop', 'restart', 'refresh-addresses']),
});

export const AccountCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  timeZone: Type.Optional(Type.String({ maxLength: 64 })),
  serviceControl: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const CorsOrigins = Type.Array(Type.String({ maxLength: 300 }), {
  maxItems: MAX_CORS_ORIGINS,
  description: 'exact browser origins, scheme://host[:port] (no path, no trailing slash), that may read the account’s API answers; [] for none',
});

/** What an account may change about itself (PATCH /api/v1/account). */
export const AccountSelfUpdate = Type.Object({
  corsOrigins: Type.Optional(CorsOrigins),
  recordingRetentionDays: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 36_500, description: 'recordings are deleted this many days after they were made; null keeps them' }))),
}, { additionalProperties: false });

export const AccountUpdate = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  timeZone: Type.Optional(Type.String({ maxLength: 64 })),
  maxMeetings: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  maxUsers: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  serviceControl: Type.Optional(Type.Boolean()),
  corsOrigins: Type.Optional(CorsOrigins),
  rateLimitPerMinute: Type.Optional(Nullable(Type.Integer({ minimum: 0, description: 'API requests per minute; 0 no limit, null the server’s RATE_LIMIT_PER_MINUTE' }))),
  recordingRetentionDays: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 36_500, description: 'recordings are deleted this many days after they were made; null keeps them' }))),
}, { additionalProperties: false });

export const Credentials = Type.Object({
  accountId: Type.String(),
  accountSid: Type.String(),
  authToken: Type.String(),
  apiUsername: Type.String(),
  apiKey: Type.String(),
  serverKey: Type.String(),
  nativeAppKey: Type.String(),
  apiToken: Type.String(),
}, { title: 'Credentials' });

export const AdminUserParams = Type.Object({ id: Type.String({ maxLength: 64 }), userId: Type.String({ maxLength: 64 }) });

export const ApiPermissionBody = Type.Object({
  apiPermission: Type.Boolean({ description: 'may call the Livebox API with an API key' }),
}, { additionalProperties: false });

export const RotateBody = Type.Object({
  secret: Type.Enum(['auth-token', 'server-key', 'native-app-key', 'api-key', 'api-token']),
});
