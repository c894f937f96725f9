/**
 * Table shapes. Portable types only: text, integer (booleans are 0/1), timestamps as ISO-8601
 * UTC text (sortable, and the same in SQLite and PostgreSQL).
 */
export interface AccountsTable {
  id: string;
  name: string;
  time_zone: string;
  account_sid: string;
  auth_token_hash: string;
  server_key_hash: string;
  native_app_key_hash: string;
  max_meetings: number | null;
  max_users: number | null;
  service_control: number;
  created_at: string;
  /** JSON array of origins; the database default ('[]') applies to accounts made before 0008. */
  cors_origins: string;
  rate_limit_per_minute: number | null;
  recording_retention_days: number | null;
  /** Maintained by reserveMeeting/releaseMeeting; the database default (0) applies on insert. */
  meeting_count: number;
}

export interface UsersTable {
  id: string;
  account_id: string;
  username: string;
  display_name: string;
  email: string;
  password_hash: string | null;
  api_key_hash: string | null;
  api_permission: number;
  signup_meeting_id: string | null;
  signup_preset: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApiTokensTable {
  id: string;
  account_id: string;
  name: string;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface PresetsTable {
  id: string;
  account_id: string;
  name: string;
  publish_audio: number;
  publish_video: number;
  share_screen: number;
  chat: number;
  moderate: number;
  record: number;
  start_audio_muted: number;
  start_video_off: number;
  created_at: string;
  updated_at: string;
}

export interface MeetingsTable {
  id: string;
  account_id: string;
  key: string;
  code: string;
  hash_key_hash: string;
  title: string;
  description: string;
  language: string;
  host_external_id: string | null;
  starts_at: string | null;
  ends_at: string | null;
  enabled: number;
  preset_name: string;
  authentication: number;
  auth_username_password: number;
  auth_pin: number;
  signup_preset: string | null;
  guest_preset: string | null;
  pin_hash: string | null;
  max_participants: number | null;
  lobby: number;
  auto_record: number;
  status: number;
  end_reason: string | null;
  started_at: string | null;
  ended_at: string | null;
  cancelled_at: string | null;
  created_via: string;
  created_from: string | null;
  created_at: string;
  updated_at: string;
}

export interface ParticipantsTable {
  id: string;
  meeting_id: string;
  account_id: string;
  external_id: string | null;
  name: string;
  email: string;
  role: string;
  preset_name: string | null;
  status: number;
  token_hash: string;
  token_version: number;
  cancelled_at: string | null;
  joined_at: string | null;
  left_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  fingerprint: string;
  status_code: number;
  body: string;
  created_at: string;
}

export interface JoinTokenUsesTable {
  id: string;
  expires_at: string;
}

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  /** JSON array of event types; null: every type. */
  events: string | null;
  secret: string;
  description: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface WebhookEventsTable {
  id: string;
  account_id: string;
  type: string;
  body: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  account_id: string;
  event_type: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  give_up_at: string;
  created_at: string;
  updated_at: string;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  next_attempt_at: string | null;
}

export interface AuditLogTable {
  id: string;
  at: string;
  account_id: string | null;
  surface: string;
  credential: string;
  user_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  request_id: string;
  outcome: string;
  status_code: number;
  error_code: string | null;
}

export interface Database {
  accounts: AccountsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  presets: PresetsTable;
  meetings: MeetingsTable;
  participants: ParticipantsTable;
  settings: SettingsTable;
  idempotency_keys: IdempotencyKeysTable;
  join_token_uses: JoinTokenUsesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  audit_log: AuditLogTable;
  recordings: RecordingsTable;
}

export interface RecordingsTable {
  id: string;
  account_id: string;
  meeting_id: string;
  state: string;
  started_by: string;
  started_at: string;
  stopped_at: string | null;
  duration_ms: number | null;
  size_bytes: number | null;
  /** JSON array of RecordingTrack */
  tracks: string;
  progress: number;
  attempts: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}
