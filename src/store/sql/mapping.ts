import type {
  AccountRecord, ApiTokenRecord, AuditRecord, IdempotencyRecord, MeetingRecord, ParticipantRecord, PresetRecord, UserRecord,
  RecordingRecord, WebhookAttemptRecord, WebhookDeliveryRecord, WebhookEndpointRecord, WebhookEventRecord,
} from '../records.js';
import type {
  AccountsTable, ApiTokensTable, AuditLogTable, IdempotencyKeysTable, MeetingsTable, ParticipantsTable, PresetsTable, UsersTable,
  RecordingsTable, WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable, WebhookEventsTable,
} from './schema.js';

/** How a record field is stored: as is, as 0/1, as ISO-8601 text, or as JSON text. */
type Kind = 'plain' | 'bool' | 'date' | 'json';
type FieldMap<R> = { [K in keyof R]?: readonly [column: string, kind: Kind] };

// Rows and records are both plain objects; the field maps below are the single place that
// knows how one becomes the other, so the generic converters work on loose records.
type Loose = Record<string, unknown>;

function toColumn(kind: Kind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (kind === 'bool') return value ? 1 : 0;
  if (kind === 'date') return (value as Date).toISOString();
  if (kind === 'json') return JSON.stringify(value);
  return value;
}

function fromColumn(kind: Kind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (kind === 'bool') return value === 1 || value === true || value === '1';
  if (kind === 'date') return new Date(value as string);
  if (kind === 'json') return JSON.parse(value as string) as unknown;
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function converters<R, Row>(map: FieldMap<R>) {
  const entries = Object.entries(map) as [string, readonly [string, Kind]][];
  return {
    toRow(record: Partial<R>): Partial<Row> {
      const row: Loose = {};
      for (const [field, [column, kind]] of entries) {
        const value = (record as Loose)[field];
        if (value !== undefined) row[column] = toColumn(kind, value);
      }
      return row as Partial<Row>;
    },
    fromRow(row: Row): R {
      const record: Loose = {};
      for (const [field, [column, kind]] of entries) record[field] = fromColumn(kind, (row as Loose)[column]);
      return record as R;
    },
  };
}

export const accounts = converters<AccountRecord, AccountsTable>({
  id: ['id', 'plain'], name: ['name', 'plain'], timeZone: ['time_zone', 'plain'],
  accountSid: ['account_sid', 'plain'], authTokenHash: ['auth_token_hash', 'plain'],
  serverKeyHash: ['server_key_hash', 'plain'], nativeAppKeyHash: ['native_app_key_hash', 'plain'],
  maxMeetings: ['max_meetings', 'plain'], maxUsers: ['max_users', 'plain'],
  serviceControl: ['service_control', 'bool'], createdAt: ['created_at', 'date'],
  corsOrigins: ['cors_origins', 'json'], rateLimitPerMinute: ['rate_limit_per_minute', 'plain'],
  recordingRetentionDays: ['recording_retention_days', 'plain'],
});

export const users = converters<UserRecord, UsersTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], username: ['username', 'plain'],
  displayName: ['display_name', 'plain'], email: ['email', 'plain'], passwordHash: ['password_hash', 'plain'],
  apiKeyHash: ['api_key_hash', 'plain'], apiPermission: ['api_permission', 'bool'],
  signupMeetingId: ['signup_meeting_id', 'plain'], signupPreset: ['signup_preset', 'plain'],
  createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});

export const apiTokens = converters<ApiTokenRecord, ApiTokensTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], name: ['name', 'plain'],
  tokenHash: ['token_hash', 'plain'], createdAt: ['created_at', 'date'], revokedAt: ['revoked_at', 'date'],
});

export const presets = converters<PresetRecord, PresetsTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], name: ['name', 'plain'],
  publishAudio: ['publish_audio', 'bool'], publishVideo: ['publish_video', 'bool'],
  shareScreen: ['share_screen', 'bool'], chat: ['chat', 'bool'], moderate: ['moderate', 'bool'], record: ['record', 'bool'],
  startAudioMuted: ['start_audio_muted', 'bool'], startVideoOff: ['start_video_off', 'bool'],
  createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});

const meetingFields = converters<Omit<MeetingRecord, 'access'>, MeetingsTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], key: ['key', 'plain'], code: ['code', 'plain'],
  hashKeyHash: ['hash_key_hash', 'plain'], title: ['title', 'plain'], description: ['description', 'plain'],
  language: ['language', 'plain'], hostExternalId: ['host_external_id', 'plain'],
  startsAt: ['starts_at', 'date'], endsAt: ['ends_at', 'date'], enabled: ['enabled', 'bool'],
  presetName: ['preset_name', 'plain'], pinHash: ['pin_hash', 'plain'],
  maxParticipants: ['max_participants', 'plain'], lobby: ['lobby', 'bool'], autoRecord: ['auto_record', 'bool'], status: ['status', 'plain'],
  endReason: ['end_reason', 'plain'], startedAt: ['started_at', 'date'], endedAt: ['ended_at', 'date'],
  cancelledAt: ['cancelled_at', 'date'], createdVia: ['created_via', 'plain'], createdFrom: ['created_from', 'plain'],
  createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});

/** Meetings flatten their access settings into columns. */
export const meetings = {
  toRow(record: Partial<MeetingRecord>): Partial<MeetingsTable> {
    const { access, ...rest } = record;
    const row = meetingFields.toRow(rest);
    if (access) {
      row.authentication = access.authentication ? 1 : 0;
      row.auth_username_password = access.usernamePassword ? 1 : 0;
      row.auth_pin = access.pin ? 1 : 0;
      row.signup_preset = access.signupPreset;
      row.guest_preset = access.guestPreset;
    }
    return row;
  },
  fromRow(row: MeetingsTable): MeetingRecord {
    return {
      ...meetingFields.fromRow(row),
      access: {
        authentication: row.authentication === 1,
        usernamePassword: row.auth_username_password === 1,
        pin: row.auth_pin === 1,
        signupPreset: row.signup_preset,
        guestPreset: row.guest_preset,
      },
    };
  },
};

export const participants = converters<ParticipantRecord, ParticipantsTable>({
  id: ['id', 'plain'], meetingId: ['meeting_id', 'plain'], accountId: ['account_id', 'plain'],
  externalId: ['external_id', 'plain'], name: ['name', 'plain'], email: ['email', 'plain'], role: ['role', 'plain'],
  presetName: ['preset_name', 'plain'], status: ['status', 'plain'], tokenHash: ['token_hash', 'plain'],
  tokenVersion: ['token_version', 'plain'], cancelledAt: ['cancelled_at', 'date'], joinedAt: ['joined_at', 'date'],
  leftAt: ['left_at', 'date'], createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});

export const idempotency = converters<IdempotencyRecord, IdempotencyKeysTable>({
  accountId: ['account_id', 'plain'], key: ['key', 'plain'], fingerprint: ['fingerprint', 'plain'],
  statusCode: ['status_code', 'plain'], body: ['body', 'plain'], createdAt: ['created_at', 'date'],
});

export const webhookEndpoints = converters<WebhookEndpointRecord, WebhookEndpointsTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], url: ['url', 'plain'], events: ['events', 'json'],
  secret: ['secret', 'plain'], description: ['description', 'plain'], enabled: ['enabled', 'bool'],
  createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});

export const webhookEvents = converters<WebhookEventRecord, WebhookEventsTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], type: ['type', 'plain'], body: ['body', 'plain'], createdAt: ['created_at', 'date'],
});

export const webhookDeliveries = converters<WebhookDeliveryRecord, WebhookDeliveriesTable>({
  id: ['id', 'plain'], eventId: ['event_id', 'plain'], endpointId: ['endpoint_id', 'plain'], accountId: ['account_id', 'plain'],
  eventType: ['event_type', 'plain'], state: ['state', 'plain'], attempts: ['attempts', 'plain'],
  nextAttemptAt: ['next_attempt_at', 'date'], giveUpAt: ['give_up_at', 'date'],
  createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});

export const webhookAttempts = converters<WebhookAttemptRecord, WebhookAttemptsTable>({
  id: ['id', 'plain'], deliveryId: ['delivery_id', 'plain'], at: ['at', 'date'], statusCode: ['status_code', 'plain'],
  error: ['error', 'plain'], durationMs: ['duration_ms', 'plain'], nextAttemptAt: ['next_attempt_at', 'date'],
});

export const audit = converters<AuditRecord, AuditLogTable>({
  id: ['id', 'plain'], at: ['at', 'date'], accountId: ['account_id', 'plain'], surface: ['surface', 'plain'],
  credential: ['credential', 'plain'], userId: ['user_id', 'plain'], action: ['action', 'plain'],
  resourceType: ['resource_type', 'plain'], resourceId: ['resource_id', 'plain'], requestId: ['request_id', 'plain'],
  outcome: ['outcome', 'plain'], statusCode: ['status_code', 'plain'], errorCode: ['error_code', 'plain'],
});

export const recordings = converters<RecordingRecord, RecordingsTable>({
  id: ['id', 'plain'], accountId: ['account_id', 'plain'], meetingId: ['meeting_id', 'plain'], state: ['state', 'plain'],
  startedBy: ['started_by', 'plain'], startedAt: ['started_at', 'date'], stoppedAt: ['stopped_at', 'date'],
  durationMs: ['duration_ms', 'plain'], sizeBytes: ['size_bytes', 'plain'], tracks: ['tracks', 'json'],
  progress: ['progress', 'plain'], attempts: ['attempts', 'plain'], error: ['error', 'plain'],
  createdAt: ['created_at', 'date'], updatedAt: ['updated_at', 'date'],
});
