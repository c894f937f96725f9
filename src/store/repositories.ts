import type {
  AccountRecord, ApiTokenRecord, AuditRecord, IdempotencyRecord, MeetingRecord, ParticipantRecord, PresetRecord, RecordingRecord, UserRecord,
  WebhookAttemptRecord, WebhookDeliveryRecord, WebhookDeliveryState, WebhookEndpointRecord, WebhookEventRecord,
} from './records.js';

/** Keyset pagination: records ordered by id (ids are time-ordered), starting after `after`. */
export interface PageQuery {
  limit: number;
  after?: string;
}

type Patch<T> = Partial<Omit<T, 'id' | 'accountId' | 'createdAt'>>;

export interface AccountRepository {
  insert(account: AccountRecord): Promise<void>;
  findById(id: string): Promise<AccountRecord | undefined>;
  findBySid(accountSid: string): Promise<AccountRecord | undefined>;
  list(): Promise<AccountRecord[]>;
  update(id: string, patch: Patch<AccountRecord>): Promise<void>;
  /** Counts one more meeting if the account has fewer than `max` (atomic); false when it is full. */
  reserveMeeting(id: string, max: number): Promise<boolean>;
  /** Counts one meeting less (it was deleted). */
  releaseMeeting(id: string): Promise<void>;
}

export interface UserRepository {
  insert(user: UserRecord): Promise<void>;
  findById(accountId: string, id: string): Promise<UserRecord | undefined>;
  findByUsername(accountId: string, username: string): Promise<UserRecord | undefined>;
  findByApiKeyHash(apiKeyHash: string): Promise<UserRecord | undefined>;
  list(accountId: string, page: PageQuery): Promise<UserRecord[]>;
  update(id: string, patch: Patch<UserRecord>): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface ApiTokenRepository {
  insert(token: ApiTokenRecord): Promise<void>;
  findByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  listByAccount(accountId: string): Promise<ApiTokenRecord[]>;
  revoke(id: string, at: Date): Promise<void>;
}

export interface PresetRepository {
  insert(preset: PresetRecord): Promise<void>;
  findById(accountId: string, id: string): Promise<PresetRecord | undefined>;
  findByName(accountId: string, name: string): Promise<PresetRecord | undefined>;
  list(accountId: string, page: PageQuery): Promise<PresetRecord[]>;
  update(id: string, patch: Patch<PresetRecord>): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface MeetingRepository {
  insert(meeting: MeetingRecord): Promise<void>;
  findById(accountId: string, id: string): Promise<MeetingRecord | undefined>;
  findByKey(accountId: string, key: string): Promise<MeetingRecord | undefined>;
  findByCode(code: string): Promise<MeetingRecord | undefined>;
  findByHashKeyHash(hashKeyHash: string): Promise<MeetingRecord | undefined>;
  /** Any account's meeting by id: for presence events, which carry only ids. */
  get(id: string): Promise<MeetingRecord | undefined>;
  list(accountId: string, page: PageQuery): Promise<MeetingRecord[]>;
  listAll(accountId: string): Promise<MeetingRecord[]>;
  /** Meetings whose status is 8 or 11, across accounts. */
  listLive(): Promise<MeetingRecord[]>;
  /** Meetings not yet finished (status ≠ 12) whose scheduled end is before `at`. */
  listOverdue(at: Date): Promise<MeetingRecord[]>;
  /** What refers to the preset by name: meetings (as their preset, sign-up or guest preset) and participants. */
  countUsingPreset(accountId: string, presetName: string): Promise<{ meetings: number; participants: number }>;
  renamePreset(accountId: string, from: string, to: string): Promise<void>;
  update(id: string, patch: Patch<MeetingRecord>): Promise<void>;
  /**
   * Writes `patch` only if the meeting is still in state `from` (compare-and-set), so two
   * status transitions racing each other cannot lose one. Returns whether it wrote.
   */
  transition(id: string, from: Pick<MeetingRecord, 'status' | 'endReason'>, patch: Patch<MeetingRecord>): Promise<boolean>;
  /** Deletes the meeting and its participants. */
  delete(id: string): Promise<void>;
}

export interface ParticipantRepository {
  insert(participant: ParticipantRecord): Promise<void>;
  findById(meetingId: string, id: string): Promise<ParticipantRecord | undefined>;
  findByExternalId(meetingId: string, externalId: string): Promise<ParticipantRecord | undefined>;
  findByTokenHash(tokenHash: string): Promise<ParticipantRecord | undefined>;
  list(meetingId: string, page: PageQuery): Promise<ParticipantRecord[]>;
  listAll(meetingId: string): Promise<ParticipantRecord[]>;
  /** Participants of the meeting with this role whose status is 10 (connected now). */
  countConnected(meetingId: string, role?: string): Promise<number>;
  /** Participants whose status is 10, across meetings (the start-up reconcile). */
  listConnected(): Promise<ParticipantRecord[]>;
  /** Is this external user id already known anywhere in the account? (the users quota counts distinct ids) */
  externalIdKnown(accountId: string, externalId: string): Promise<boolean>;
  countDistinctExternalIds(accountId: string): Promise<number>;
  update(id: string, patch: Patch<ParticipantRecord>): Promise<void>;
  /** Compare-and-set on the participant's status (see MeetingRepository.transition). */
  transition(id: string, from: ParticipantRecord['status'], patch: Patch<ParticipantRecord>): Promise<boolean>;
  /** Sets the same fields on every participant of a meeting (e.g. back to "invited" on reset). */
  updateAllOfMeeting(meetingId: string, patch: Patch<ParticipantRecord>): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface IdempotencyRepository {
  find(accountId: string, key: string): Promise<IdempotencyRecord | undefined>;
  insert(record: IdempotencyRecord): Promise<void>;
  delete(accountId: string, key: string): Promise<void>;
  deleteOlderThan(at: Date): Promise<void>;
}

/**
 * Join tokens already used to open a socket, until they expire: a token is good once, whichever
 * node it reaches (the store is shared).
 */
export interface JoinTokenUseRepository {
  /** Records the use of token `id`; false when it was used before. */
  use(id: string, expiresAt: Date): Promise<boolean>;
  deleteExpired(at: Date): Promise<void>;
}

export interface WebhookEndpointRepository {
  insert(endpoint: WebhookEndpointRecord): Promise<void>;
  findById(accountId: string, id: string): Promise<WebhookEndpointRecord | undefined>;
  list(accountId: string, page: PageQuery): Promise<WebhookEndpointRecord[]>;
  /** The account's enabled endpoints (the outbox picks those that want an event). */
  listEnabled(accountId: string): Promise<WebhookEndpointRecord[]>;
  count(accountId: string): Promise<number>;
  update(id: string, patch: Patch<WebhookEndpointRecord>): Promise<void>;
  /** Deletes the endpoint with its deliveries and their attempts. */
  delete(id: string): Promise<void>;
}

/** The webhook outbox: events, one delivery per (event, endpoint), every attempt. */
export interface WebhookOutboxRepository {
  insertEvent(event: WebhookEventRecord): Promise<void>;
  findEvent(id: string): Promise<WebhookEventRecord | undefined>;
  insertDelivery(delivery: WebhookDeliveryRecord): Promise<void>;
  findDelivery(endpointId: string, id: string): Promise<WebhookDeliveryRecord | undefined>;
  listDeliveries(endpointId: string, page: PageQuery, state?: WebhookDeliveryState): Promise<WebhookDeliveryRecord[]>;
  /** Pending deliveries of enabled endpoints due at `at`, the longest waiting first. */
  listDue(at: Date, limit: number): Promise<WebhookDeliveryRecord[]>;
  /**
   * Takes a due delivery for one sender (compare-and-set on its due time, so two senders, or two
   * nodes, never send it both): it is due again at `leaseUntil` if the sender dies meanwhile.
   */
  claim(id: string, dueAt: Date, leaseUntil: Date): Promise<boolean>;
  updateDelivery(id: string, patch: Partial<Omit<WebhookDeliveryRecord, 'id' | 'eventId' | 'endpointId' | 'accountId'>>): Promise<void>;
  insertAttempt(attempt: WebhookAttemptRecord): Promise<void>;
  /** The attempts of these deliveries, in order. */
  listAttempts(deliveryIds: string[]): Promise<WebhookAttemptRecord[]>;
  /** How many deliveries are in each state (metrics: queue depth, failures). */
  countByState(): Promise<Record<WebhookDeliveryState, number>>;
  /** Forgets finished deliveries (and their attempts, and events left without deliveries) created before `at`. */
  purgeFinished(at: Date): Promise<void>;
}

/** Filters of the audit trail; every field narrows (ANDed). */
export interface AuditQuery {
  accountId?: string;
  resourceId?: string;
  action?: string;
  since?: Date;
  until?: Date;
  limit: number;
  /** Newest first: entries older than this id. */
  before?: string;
}

export interface AuditRepository {
  insert(entry: AuditRecord): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditRecord[]>;
}

export interface Repositories {
  accounts: AccountRepository;
  users: UserRepository;
  apiTokens: ApiTokenRepository;
  presets: PresetRepository;
  meetings: MeetingRepository;
  participants: ParticipantRepository;
  settings: SettingsRepository;
  idempotency: IdempotencyRepository;
  joinTokenUses: JoinTokenUseRepository;
  webhookEndpoints: WebhookEndpointRepository;
  webhookOutbox: WebhookOutboxRepository;
  audit: AuditRepository;
  recordings: RecordingRepository;
}

export interface RecordingRepository {
  insert(recording: RecordingRecord): Promise<void>;
  findById(accountId: string, id: string): Promise<RecordingRecord | undefined>;
  /** Any account's recording (the composition job). */
  get(id: string): Promise<RecordingRecord | undefined>;
  list(accountId: string, page: PageQuery): Promise<RecordingRecord[]>;
  listByState(state: RecordingRecord['state']): Promise<RecordingRecord[]>;
  /** The meeting's recording in state `recording`, if any. */
  findRunning(meetingId: string): Promise<RecordingRecord | undefined>;
  /** Recordings of the account made before `before` (retention). */
  listCreatedBefore(accountId: string, before: Date): Promise<RecordingRecord[]>;
  update(id: string, patch: Patch<RecordingRecord>): Promise<void>;
  /** Compare-and-set on the state; whether it wrote. */
  transition(id: string, from: RecordingRecord['state'], patch: Patch<RecordingRecord>): Promise<boolean>;
  delete(id: string): Promise<void>;
}

export interface Store extends Repositories {
  /** Runs `work` atomically: every repository call made through `tx` commits or rolls back together. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * A number that changes whenever another process or connection commits (SQLite's
   * data_version), so in-process caches know when to forget; undefined where the database
   * cannot tell (PostgreSQL), and caches must expire by time instead.
   */
  writesElsewhere(): number | undefined;
}

/** Thrown by a repository when an insert or update hits a unique constraint. */
export class UniqueViolation extends Error {
  constructor(readonly constraint: string) {
    super(`unique constraint violated: ${constraint}`);
    this.name = 'UniqueViolation';
  }
}
