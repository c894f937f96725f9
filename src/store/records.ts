/**
 * What the store keeps, in the core's vocabulary. Repositories return and accept these;
 * how they map to tables is the store's business.
 */

export type ApiSurface = 'liveminutes' | 'livebox' | 'native';

export interface AccountRecord {
  id: string;
  name: string;
  /** Meaning of the legacy APIs' offset-less dates (IANA name). */
  timeZone: string;
  /** LiveMinutes HTTP Basic user name (public). */
  accountSid: string;
  authTokenHash: string;
  /** Livebox server-side and native-app secrets. */
  serverKeyHash: string;
  nativeAppKeyHash: string;
  /** Per-account quota overrides; null means the server's configured default. */
  maxMeetings: number | null;
  maxUsers: number | null;
  /** May this account stop/start/restart the media service and refresh its addresses? */
  serviceControl: boolean;
  /** Exact browser origins (scheme://host[:port]) that may read this account's API answers. */
  corsOrigins: string[];
  /** API requests per minute; null means the server's RATE_LIMIT_PER_MINUTE, 0 no limit. */
  rateLimitPerMinute: number | null;
  /** Recordings are deleted this many days after they were made; null keeps them. */
  recordingRetentionDays: number | null;
  createdAt: Date;
}

/** A person the account registered: may sign in to meetings and, with API permission, call Livebox. */
export interface UserRecord {
  id: string;
  accountId: string;
  username: string;
  displayName: string;
  email: string;
  passwordHash: string | null;
  apiKeyHash: string | null;
  apiPermission: boolean;
  /**
   * Set for a visitor who registered on a meeting's join page (sign-up): that meeting, and the
   * sign-up preset they got. Such a user signs in only where sign-up is allowed, with that
   * meeting's sign-up preset, until the account promotes them (both null again).
   */
  signupMeetingId: string | null;
  signupPreset: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiTokenRecord {
  id: string;
  accountId: string;
  name: string;
  tokenHash: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface PresetPermissions {
  publishAudio: boolean;
  publishVideo: boolean;
  shareScreen: boolean;
  chat: boolean;
  moderate: boolean;
  /** start and stop the meeting's recording */
  record: boolean;
  startAudioMuted: boolean;
  startVideoOff: boolean;
}

export interface PresetRecord extends PresetPermissions {
  id: string;
  accountId: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** LiveMinutes status codes, which the core uses as its own: 1 start, 8 in progress, 11 host quit, 12 finish. */
export type MeetingStatus = 1 | 8 | 11 | 12;
export type EndReason = 'host_ended' | 'scheduled_end' | 'idle' | 'cancelled' | 'disabled' | 'service_stopped';

/** Who may come in through the meeting's public links (personal links always work). */
export interface AccessSettings {
  /** false: anyone with the link enters with a name. true: only the ways below. */
  authentication: boolean;
  usernamePassword: boolean;
  pin: boolean;
  /** Visitors may register on the join page; they get this preset. null: not allowed. */
  signupPreset: string | null;
  /** Guests may enter with a name; they get this preset. null: not allowed. */
  guestPreset: string | null;
}

export interface MeetingRecord {
  id: string;
  accountId: string;
  /** LiveMinutes meetingKey = Livebox conference name: unique per account. */
  key: string;
  /** Public short code of the meeting link. */
  code: string;
  /** SHA-256 of the Livebox hashKey (derived from the id; see core/secrets). */
  hashKeyHash: string;
  title: string;
  description: string;
  language: string;
  hostExternalId: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  enabled: boolean;
  presetName: string;
  access: AccessSettings;
  pinHash: string | null;
  maxParticipants: number | null;
  lobby: boolean;
  /** Recording starts by itself when the meeting starts. */
  autoRecord: boolean;
  status: MeetingStatus;
  endReason: EndReason | null;
  startedAt: Date | null;
  endedAt: Date | null;
  cancelledAt: Date | null;
  createdVia: ApiSurface;
  createdFrom: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** LiveMinutes participant codes: 2 accept (invited), 3 refuse, 10 in progress, 11 quit. */
export type ParticipantStatus = 2 | 3 | 10 | 11;
export type Role = 'host' | 'moderator' | 'participant' | 'viewer';

export interface ParticipantRecord {
  id: string;
  meetingId: string;
  accountId: string;
  /** The integrator's user id (LiveMinutes puid); null for people who came in by a public link. */
  externalId: string | null;
  name: string;
  email: string;
  role: Role;
  /** Preset override; null means the meeting's preset. */
  presetName: string | null;
  status: ParticipantStatus;
  tokenHash: string;
  tokenVersion: number;
  cancelledAt: Date | null;
  joinedAt: Date | null;
  leftAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface IdempotencyRecord {
  accountId: string;
  key: string;
  fingerprint: string;
  statusCode: number;
  body: string;
  createdAt: Date;
}

/** Where an account wants to hear about its meetings. */
export interface WebhookEndpointRecord {
  id: string;
  accountId: string;
  url: string;
  /** Event types it receives; null: every type. */
  events: string[] | null;
  /** The signing key, sealed with a key derived from the server secret (see core/webhooks/sealing). */
  secret: string;
  description: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** One event in the outbox: `body` is the exact JSON sent (and signed) on every attempt. */
export interface WebhookEventRecord {
  id: string;
  accountId: string;
  type: string;
  body: string;
  createdAt: Date;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint, until it is delivered or given up. */
export interface WebhookDeliveryRecord {
  id: string;
  eventId: string;
  endpointId: string;
  accountId: string;
  /** The event's type (copied: lists show it without reading the event). */
  eventType: string;
  state: WebhookDeliveryState;
  attempts: number;
  /** When it is due (pending), or until when a sender holds it; null once delivered or failed. */
  nextAttemptAt: Date | null;
  /** After this no new attempt is scheduled: the delivery fails. */
  giveUpAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** One try at sending a delivery. */
export interface WebhookAttemptRecord {
  id: string;
  deliveryId: string;
  at: Date;
  /** The receiver's HTTP status; null when no answer came (the error says why). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The retry this attempt scheduled; null when it was delivered or given up. */
  nextAttemptAt: Date | null;
}

/** Which API surface a change came through (the operator's admin scope of the native API apart). */
export type AuditSurface = ApiSurface | 'admin';
/** What the caller proved: LiveMinutes Basic AuthToken, Livebox key + Serverkey/Nativeappkey, native Bearer token, admin token. */
export type AuditCredential = 'auth-token' | 'server-key' | 'native-app-key' | 'api-token' | 'admin-token' | 'console-session';

/** One change made through an API: who, what, when, and how it ended. Never holds a secret. */
export interface AuditRecord {
  id: string;
  at: Date;
  /** The account the change belongs to (null for operator changes that concern no account). */
  accountId: string | null;
  surface: AuditSurface;
  credential: AuditCredential;
  /** The account's user who called (Livebox API users), when known. */
  userId: string | null;
  /** e.g. `meeting.create`, `participant.cancel`, `service.stop` */
  action: string;
  /** meeting, participant, preset, user, account, service… */
  resourceType: string;
  /** The resource's id when known (a meeting named by its key is resolved to its id). */
  resourceId: string | null;
  requestId: string;
  outcome: 'success' | 'failure';
  statusCode: number;
  /** The error code of a failure (not_found, invalid…). */
  errorCode: string | null;
}

/** recording: being written; processing: composing the MP4; ready: downloadable; failed: see `error`. */
export type RecordingState = 'recording' | 'processing' | 'ready' | 'failed';

/** One raw file of a recording (the worker's WebM), relative to the recording's directory. */
export interface RecordingTrack {
  participantId: string;
  /** camera: microphone and camera together; screen: the screen share */
  group: 'camera' | 'screen';
  file: string;
  /** ms from the recording's start to the file's first packet */
  offsetMs: number;
  bytes: number;
  audio: boolean;
  video: boolean;
}

export interface RecordingRecord {
  id: string;
  accountId: string;
  meetingId: string;
  state: RecordingState;
  /** who started it: `api`, `auto` or the participant's id */
  startedBy: string;
  startedAt: Date;
  stoppedAt: Date | null;
  /** ms between start and stop */
  durationMs: number | null;
  /** bytes of the composed MP4 */
  sizeBytes: number | null;
  tracks: RecordingTrack[];
  /** composition progress, 0..1 */
  progress: number;
  /** composition attempts begun (a restart resumes; a job that keeps failing gives up) */
  attempts: number;
  /** why it failed, or why it stopped early (a full disk) */
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}
