import type { MeetingRecord, Store } from '../store/index.js';
import { AccessService } from './access.js';
import { AccountService } from './accounts.js';
import { AuditTrail } from './audit.js';
import { AdminService } from './admin.js';
import { AdminSessions } from './admin-sessions.js';
import { IN_PROCESS, type Coordination, type NodeState } from './coordination.js';
import { CorsPolicy } from './cors.js';
import { CoreEventBus } from './events.js';
import { IdempotencyService } from './idempotency.js';
import { JoinTokens } from './join-tokens.js';
import { LiveMeetings } from './live.js';
import { Links } from './links.js';
import { MeetingService } from './meetings.js';
import { ParticipantService } from './participants.js';
import { PresenceService } from './presence.js';
import { PresetService } from './presets.js';
import { ApiRateLimits, DEFAULT_RATE_LIMIT_PER_MINUTE } from './rate-limits.js';
import { RecordingService } from './recordings.js';
import { RoomRules } from './room.js';
import { ServiceControl, type AddressDetector } from './service.js';
import { TurnCredentials, type TurnSettings } from './turn.js';
import { UserService } from './users.js';
import { Webhooks, type WebhookOptions } from './webhooks/index.js';

export { CoreError, type CoreErrorCode } from './errors.js';
export { IN_PROCESS, type Coordination, type Limiter, type NodeState } from './coordination.js';
export { rateLimited } from './attempts.js';
export type { CoreEvents } from './events.js';
export type { AccountCredentials, AccountPatch, LiveboxCaller, LiveMinutesProof, RotatableSecret } from './accounts.js';
export type { CreateMeetingInput, MeetingInput, MeetingResult } from './meetings.js';
export type { ParticipantInput } from './participants.js';
export type { Actor, AddressDetector, MediaPlane, MediaStatus, ServiceStatus } from './service.js';
export type { Availability } from './status.js';
export type { AuditActor, AuditChange, AuditFilter } from './audit.js';
export type { Admission, Credentials, LinkRef, LinkState, ResolvedLink, WaysIn } from './access.js';
export { EARLY_JOIN_MS } from './access.js';
export type { JoinGrant } from './join-tokens.js';
export { joinForm, type JoinWayForm } from './join-form.js';
export type { AdminSession } from './admin-sessions.js';
export type { LiveKnock, LiveMeeting, OperatorLiveMeeting, LiveOutcome, LivePerson, LiveRoomView, LiveRooms, LiveSeat, LiveSource } from './live.js';
export { ICE_RESTART_LIMIT, invitationOf, MEDIA_RESTART_LIMIT, RestartBudget, seatReconnecting, type TransportHealth, type Entry, type Publishable, type SeatMedia, type SeatSource, type StartTime } from './room.js';
export { DEFAULT_PRESET, PERMISSION_FIELDS } from './presets.js';
export { mayRecord, DOWNLOAD_URL_TTL_S, MAX_DOWNLOAD_URL_TTL_S, type RecordedTrackFile, type RecordingActor, type RecordingPlane } from './recordings.js';
export { ROLES } from './participants.js';
export { LIMITS, PATTERNS } from './limits.js';
export { checkOrigin, MAX_CORS_ORIGINS } from './cors.js';
export { DEFAULT_RATE_LIMIT_PER_MINUTE } from './rate-limits.js';
export { MEETING_STATUS, PARTICIPANT_STATUS } from './status.js';
export { isLive } from './status.js';
export { TurnCredentials, turnCredential } from './turn.js';
export type { TurnServer, TurnSettings } from './turn.js';
export * as time from './time.js';
export { WEBHOOK_EVENT_TYPES, WEBHOOK_LIMITS, Webhooks, delivered, retryDelayMs } from './webhooks/index.js';
export type { AttemptOutcome, DeliveryWithAttempts, DueDelivery, Moderator, RetryPolicy, WebhookEndpointInput, WebhookEventType, WebhookOptions, WebhookPayload } from './webhooks/index.js';

export interface CoreOptions {
  store: Store;
  publicUrl: string;
  /** Server secret from which link tokens are derived. */
  secret: Buffer;
  /** Default time zone of new accounts. */
  timeZone: string;
  maxMeetings: number;
  maxUsers: number;
  /** The addresses media should announce, as configured or detected now (validated by the core). */
  detectAddresses: AddressDetector;
  /** How long after its scheduled end a meeting still runs before it is ended. */
  scheduleGraceMs: number;
  /** How often schedules are checked. */
  sweepIntervalMs?: number;
  /** An empty meeting ends (12, idle) after this long; default 5 minutes (IDLE_TIMEOUT_SECONDS). */
  idleTimeoutMs?: number;
  /** A join token opens a socket within this long (after its notBefore); default 60 s. */
  joinTokenTtlMs?: number;
  webhooks?: WebhookOptions;
  /** Where recordings are written (`$DATA_DIR/recordings`). */
  recordingsDir: string;
  /** The clock signed download links expire by (tests move it forward); default Date.now. */
  recordingClock?: () => number;
  /** Origins that may read every account's API answers from a browser (CORS_ORIGINS). */
  corsOrigins?: readonly string[];
  /** API requests per minute per account unless the account has its own; 0: none (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute?: number;
  /** The TURN relay whose credentials the room hands out (TURN_URLS, TURN_SECRET); none by default. */
  turn?: TurnSettings;
  /** The clock TURN credentials expire by (tests pass one). */
  turnClock?: () => Date;
  /** Counters, leases and meeting ownership shared with other nodes; default: this process alone. */
  coordination?: Coordination;
  onError?: (error: unknown, where: string) => void;
}

export class Core {
  readonly events: CoreEventBus;
  readonly links: Links;
  readonly presets: PresetService;
  readonly accounts: AccountService;
  readonly users: UserService;
  readonly participants: ParticipantService;
  readonly meetings: MeetingService;
  readonly presence: PresenceService;
  readonly access: AccessService;
  readonly service: ServiceControl;
  readonly admin: AdminService;
  /** Operator console sessions (per process). */
  readonly adminSessions: AdminSessions;
  readonly idempotency: IdempotencyService;
  readonly joinTokens: JoinTokens;
  readonly room: RoomRules;
  readonly live: LiveMeetings;
  readonly webhooks: Webhooks;
  readonly cors: CorsPolicy;
  readonly rateLimits: ApiRateLimits;
  readonly audit: AuditTrail;
  readonly turn: TurnCredentials;
  readonly recordings: RecordingService;
  private timer?: NodeJS.Timeout;
  private purgedAt = 0;

  private readonly coordination: Coordination;

  constructor(private readonly options: CoreOptions) {
    const { store } = options;
    this.coordination = options.coordination ?? IN_PROCESS;
    this.events = new CoreEventBus((error, event) => options.onError?.(error, `listener of ${event}`));
    this.links = new Links(options.publicUrl, options.secret);
    this.webhooks = new Webhooks(store, this.events, options.secret, options.webhooks);
    const { outbox } = this.webhooks;
    this.presets = new PresetService(store, this.events);
    this.cors = new CorsPolicy(store, options.corsOrigins ?? []);
    this.rateLimits = new ApiRateLimits(options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE, this.coordination);
    this.accounts = new AccountService(store, this.presets, {
      timeZone: options.timeZone, maxMeetings: options.maxMeetings, maxUsers: options.maxUsers,
    }, this.cors);
    this.users = new UserService(store);
    this.participants = new ParticipantService(store, this.accounts, this.presets, this.links, this.events, outbox);
    this.service = new ServiceControl(store, this.events, () => this.meetings, options.detectAddresses);
    this.meetings = new MeetingService(store, this.accounts, this.presets, this.participants, this.links, this.events, () => this.service.running, outbox);
    this.presence = new PresenceService(store, this.meetings, this.participants, (error, where) => options.onError?.(error, where));
    this.access = new AccessService(store, this.accounts, this.meetings, this.participants, this.users, this.coordination);
    this.admin = new AdminService(store);
    this.adminSessions = new AdminSessions(this.admin);
    this.idempotency = new IdempotencyService(store);
    this.joinTokens = new JoinTokens(store, options.secret, options.joinTokenTtlMs ?? 60_000);
    this.room = new RoomRules(store, this.access, this.meetings, this.accounts, outbox);
    this.live = new LiveMeetings(this.meetings, this.participants, this.accounts, (local) => this.coordination.liveRooms(local));
    this.audit = new AuditTrail(store);
    this.turn = new TurnCredentials(options.turn, options.turnClock);
    this.recordings = new RecordingService(store, this.events, outbox, options.secret, options.recordingsDir, () => this.links.base, options.recordingClock,
      {
        plane: (local, dirOf) => this.coordination.recordingPlane(local, dirOf),
        lease: (name, ttlMs) => this.coordination.holdLease(name, ttlMs),
        holdsFile: (id) => this.coordination.holdsFile(`recording:${id}`),
        fileAt: (id) => this.coordination.fileAt(`recording:${id}`),
      });
  }

  /**
   * Loads persisted state, settles the statuses a previous process left behind (see
   * PresenceService.reconcile: the meetings no other live node holds) and starts the schedule
   * sweeper.
   */
  async start(): Promise<void> {
    await this.service.load();
    await this.cors.refresh();
    await this.presence.reconcile(this.options.idleTimeoutMs ?? 300_000, (ids) => this.coordination.unheld(ids));
    await this.recordings.reconcile();
    await this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? 5000);
    this.timer.unref();
  }

  /**
   * Where a person who was just admitted to the meeting takes their seat: the address of the node
   * that runs its live room (placed now if it runs nowhere); undefined with one node.
   * `unreachableNode`: the person's page could not reach that address (its node may have died).
   */
  placeMeeting(meetingId: string, unreachableNode?: string): Promise<string | undefined> {
    return this.coordination.placeMeeting(meetingId, unreachableNode);
  }

  /** The addresses of the cluster's live nodes, where a room's socket may go; none with one node. */
  nodeAddresses(): Promise<readonly string[]> {
    return this.coordination.nodeAddresses();
  }

  /** Throws when the database does not answer (readiness). */
  async ping(): Promise<void> {
    await this.options.store.settings.get('service.running');
  }

  /** Meetings in progress (status 8 or 11) and people connected (10), as recorded: every node's (metrics). */
  async liveCounts(): Promise<{ meetings: number; participants: number }> {
    const { store } = this.options;
    const [meetings, participants] = await Promise.all([store.meetings.listLive(), store.participants.listConnected()]);
    return { meetings: meetings.length, participants: participants.length };
  }

  /**
   * The cluster as the operator sees it: each live node with the meetings in progress placed on
   * it (empty with one node: `single`).
   */
  async clusterView(): Promise<{ single: boolean; nodes: (NodeState & { meetings: MeetingRecord[] })[] }> {
    const nodes = await this.coordination.nodes();
    if (nodes.length === 0) return { single: true, nodes: [] };
    const live = await this.options.store.meetings.listLive();
    const placed = await this.coordination.placements(live.map((m) => m.id));
    return { single: false, nodes: nodes.map((n) => ({ ...n, meetings: live.filter((m) => placed.get(m.id) === n.id) })) };
  }

  /** The ids of the meetings in progress (8 or 11), on every node (operator views). */
  async liveMeetingIds(): Promise<string[]> {
    return (await this.options.store.meetings.listLive()).map((m) => m.id);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.presence.stop();
  }

  private async sweep(): Promise<void> {
    try {
      // Once for the cluster: the node holding the lease sweeps (a lease outlives two rounds so a
      // slow round does not hand it over).
      if (!await this.coordination.holdLease('sweep', 2 * (this.options.sweepIntervalMs ?? 5000) + 1000)) {
        await this.cors.refreshIfStale();
        return;
      }
      await this.presence.settleOrphans((ids) => this.coordination.orphaned(ids), this.options.idleTimeoutMs ?? 300_000, (ids) => this.coordination.unheld(ids));
      await this.meetings.sweep(new Date(), this.options.scheduleGraceMs);
      await this.idempotency.purgeExpired();
      await this.joinTokens.purgeExpired();
      if (Date.now() - this.purgedAt > 3600_000) {
        this.purgedAt = Date.now();
        await this.webhooks.purge();
      }
      await this.cors.refreshIfStale();
    } catch (error) {
      this.options.onError?.(error, 'schedule sweep');
    }
  }
}
