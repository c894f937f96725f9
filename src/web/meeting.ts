import {
  CHAT_MAX_LENGTH, INVITATION_PATH, JOIN_PATH, MEDIA_RESET_LIMIT, PING_INTERVAL_MS, RESUME_WINDOW_MS, WS_PATH,
  type ClientMessage, type EmbedEventName, type IceServer, type InvitationRequest, type InvitationResponse, type JoinRefusal,
  type JoinRequest, type JoinResponse, type ParticipantInfo, type RoomBootstrap, type RoomState, type ServerMessage, type StartTime,
  type TrackSource,
} from '../protocol/messages.ts';
import { readBootstrap, waysOf } from './bootstrap.ts';
import { LocalMedia } from './local-media.ts';
import { iceUfrags, Publisher, Subscriber, type ReceivedTrack } from './peers.ts';
import type { AppState, FormField, JoinForm, JoinProblem, JoinWay, Panel, Phase, RemoteMedia } from './state.ts';
import { Store } from './store.ts';
import { storage, tabStorage } from './util.ts';

const NAME_PREF = 'parley.name';
/** No welcome this long after opening a socket: give up on that socket. */
const WELCOME_TIMEOUT_MS = 10_000;
/** Nothing heard from the server for this long: the socket is dead even if the browser has not noticed. */
const SILENCE_LIMIT_MS = 2.5 * PING_INTERVAL_MS;
/** The first publish waits for the server's first subscriber offer (its media session is then ready), at most this long. */
const FIRST_OFFER_WAIT_MS = 1_500;
/** A transport 'disconnected' this long is treated as failed. */
const DISCONNECTED_LIMIT_MS = 8_000;
const TOAST_MS = 6_000;
/**
 * Media restarts in a row (each within RESTART_STABLE_MS of the one before) wait 0, 1, 2, 4, 8 s…
 * (at most RESTART_MAX_DELAY_MS); after MEDIA_RESET_LIMIT.count of them the page stops trying
 * and says so. Over any minute there are never more than the server accepts.
 */
const RESTART_BASE_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 15_000;
const RESTART_STABLE_MS = 30_000;
/** Our clock and the server's may count the minute a little differently. */
const RESTART_WINDOW_MARGIN_MS = 5_000;

/** Phases after which nothing more happens until the person joins again (or the page reloads). */
const FINAL_PHASES = new Set<Phase>([
  'countdown', 'left', 'connection_lost', 'not_started', 'ended', 'cancelled', 'disabled', 'service_stopped',
  'full', 'invitation_cancelled', 'removed', 'joined_elsewhere', 'not_found', 'declined',
]);
/** Session endings that end the meeting itself (not just this person's part in it). */
const MEETING_OVER = new Set<RoomState>(['ended', 'cancelled', 'disabled', 'service_stopped']);
/** The countdown reloads up to this long after the start, so a crowd does not arrive at once. */
const START_JITTER_MS = 2_000;
/** The server still said "not started" at the start (clocks differ): ask again this often, growing. */
const START_RECHECK_MS = [2_000, 3_000, 5_000, 10_000, 15_000];
/** A setTimeout cannot wait longer than ~24.8 days; long countdowns wake up daily to re-aim. */
const MAX_TIMER_MS = 86_400_000;

const FIELD_LABELS: Record<FormField, string> = { name: 'your name', pin: 'the PIN', username: 'the username', password: 'the password', email: 'the e-mail address' };

/** A server's reason as a sentence: capitalised, ending with a full stop. */
function sentence(text: string): string {
  const t = text.trim();
  if (!t) return '';
  return t[0]!.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/** The form field a server's field name points at. */
function fieldOf(name: string | undefined): FormField | undefined {
  if (!name) return undefined;
  const n = name.toLowerCase();
  if (n.includes('username')) return 'username';
  if (n.includes('password')) return 'password';
  if (n.includes('email')) return 'email';
  if (n.includes('pin')) return 'pin';
  if (n.includes('name')) return 'name';
  return undefined;
}

function waitWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** Hears what the room does, for the embedding page (see embed.ts). */
export type MeetingListener = (event: EmbedEventName, data?: Record<string, unknown>) => void;

/**
 * The meeting as this page lives it: the join request, the signaling socket (with keep-alive and
 * resume), the two peer connections and local media. The UI reads `store` and calls the methods.
 */
/** The answer to a join request; `fresh()` is the reply while it can still be used, else undefined. */
type JoinReply =
  /** `notBefore`: the token opens the room from this time on (ms epoch, our clock). */
  | { kind: 'token'; token: string; notBefore: number; fresh(): JoinReply | undefined }
  | { kind: 'refused'; state: RoomState; start: StartTime; fresh(): JoinReply | undefined }
  | { kind: 'failed'; problem: Omit<JoinProblem, 'seq'>; retryAfterSeconds?: number; fresh(): JoinReply | undefined };

const failed = (message: string, field?: FormField, clearPassword = false, retryAfterSeconds?: number): JoinReply => ({
  kind: 'failed',
  problem: { message, ...(field ? { field } : {}), ...(clearPassword ? { clearPassword } : {}) },
  ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  fresh: () => undefined,
});

/** The fields of a join request beyond the link, as the chosen way needs them. */
type Credentials = Omit<JoinRequest, 'link'>;

export class Meeting {
  readonly store: Store<AppState>;
  readonly local: LocalMedia;
  private ws: WebSocket | undefined;
  private publisher: Publisher | undefined;
  private subscriber: Subscriber | undefined;
  private iceServers: IceServer[] = [];
  private resumeToken: string | undefined;
  private name: string | undefined;
  private leaving = false;
  /** Set while reconnecting: when the socket dropped. */
  private droppedAt: number | undefined;
  private reconnectAttempt = 0;
  private lastHeard = 0;
  /** What the server last knew of our mute state, so we only tell it about changes. */
  private told = { microphone: true, camera: true, screen: true };
  /** Bumped whenever the peer connections are replaced; callbacks of older ones are ignored. */
  private mediaGeneration = 0;
  /** When media restarts were sent (newest last), for the backoff and the per-minute cap. */
  private restarts: number[] = [];
  /** Restarts in a row without a stable period between them. */
  private restartStreak = 0;
  /**
   * Too many restarts in a row: media is left as it is until the person presses "Try again" or
   * the server resets it (see retryMedia).
   */
  private mediaGaveUp = false;
  /** The media generation when the person (or the server) asked to try again after giving up. */
  private retriedAt = -1;
  /** How long the server keeps a dropped seat (its welcome says). */
  private resumeWindowMs = RESUME_WINDOW_MS;
  /** The media generation whose publisher was started (once per generation). */
  private publishedGeneration = -1;
  /** ICE credentials of server transports we abandoned (see fromAbandonedTransport). */
  private readonly staleUfrags = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private toastId = 0;
  private problemSeq = 0;
  /** The last form used to join (without the password), so a rejoin can use it again. */
  private lastForm: JoinForm | undefined;
  private readonly listeners = new Set<MeetingListener>();

  constructor(bootstrap: RoomBootstrap) {
    this.local = new LocalMedia((local) => {
      const before = this.store.get().local;
      this.store.set({ local });
      this.tellMuteState();
      // In the room there is no device notice on screen: say it once.
      if (this.phase === 'room' || this.phase === 'reconnecting') {
        if (local.micError && local.micError !== before.micError) this.toast(local.micError);
        if (local.camError && local.camError !== before.camError && local.camError !== local.micError) this.toast(local.camError);
      }
    });
    this.local.onTrack = (source, track) => this.localTrackChanged(source, track);
    const countdown = bootstrap.state === 'not_started';
    const invitation = bootstrap.link.kind === 'personal' ? bootstrap.person?.invitation : undefined;
    // "You accepted" survives the countdown's reload (the server's 'invited' is also "accepted").
    const answered = invitation === 'invited' && bootstrap.link.kind === 'personal' && tabStorage.get(`parley.accepted.${bootstrap.link.token}`) === '1';
    this.store = new Store<AppState>({
      // Before the start: a countdown (no pre-join, no camera) while the start time is known.
      phase: countdown ? (bootstrap.meeting.startsAt ? 'countdown' : 'not_started') : 'prejoin',
      bootstrap,
      ...(invitation ? { invitation: { answer: invitation, answered, busy: false } } : {}),
      waiting: [],
      title: bootstrap.meeting.title,
      others: [],
      remote: new Map(),
      activeSpeaker: null,
      chat: [],
      unreadChat: 0,
      panel: null,
      toasts: [],
      announcement: '',
      audioBlocked: false,
      local: this.local.snapshot,
    });
    this.name = bootstrap.person?.name;
    if (this.phase === 'countdown') this.aimCountdown(-1);
    if (this.phase === 'prejoin') this.prefetchJoin();
    // A viewer's link: no camera or microphone is even asked for.
    if (this.isViewer) this.local.allow(false, false);
    window.addEventListener('online', () => this.retryNow());
    window.addEventListener('pagehide', () => {
      // Closing the tab is leaving: the others should not wait for the resume window.
      if (this.ws) this.leave();
    });
  }

  /** The link is a viewer's: they watch and listen only. */
  get isViewer(): boolean {
    return this.store.get().bootstrap.person?.role === 'viewer';
  }

  /** The name this page joins (or joined) with, once known. */
  get joiningAs(): string | undefined {
    return this.name;
  }

  get phase(): Phase {
    return this.store.get().phase;
  }

  /** The phase now (unlike `this.phase`, not narrowed by earlier checks across an await). */
  private at(phase: Phase): boolean {
    return this.store.get().phase === phase;
  }

  savedName(): string {
    return storage.get(NAME_PREF) ?? '';
  }

  // ---- joining -------------------------------------------------------------------------------

  /** The ways in this page offers, in the order the pre-join screen lists them (none on personal links). */
  ways(): JoinWay[] {
    const { bootstrap } = this.store.get();
    if (!bootstrap.needsName) return [];
    const w = waysOf(bootstrap);
    // Where only sign-ups are taken, those who registered before sign in again (after Register).
    const order = w.usernamePassword ? (['guest', 'pin', 'login', 'signup'] as const) : (['guest', 'pin', 'signup', 'login'] as const);
    return order.filter((way) =>
      way === 'guest' ? w.guest : way === 'pin' ? w.pin : way === 'login' ? w.usernamePassword || w.signup : w.signup);
  }

  /** What the pre-join form starts with: the last form used on this page, else the saved name. */
  initialForm(): JoinForm {
    const ways = this.ways();
    const last = this.lastForm;
    if (last && ways.includes(last.way)) return { ...last, password: '' };
    return { way: ways[0] ?? 'guest', name: this.savedName(), pin: '', username: '', password: '', email: '' };
  }

  /**
   * Pre-join → join request → (the start, for an early token) → socket → lobby or welcome.
   * `form` is what the pre-join screen holds; personal links need none.
   */
  async join(form?: JoinForm): Promise<void> {
    if (this.phase !== 'prejoin') return;
    const { bootstrap, retryAt } = this.store.get();
    if (retryAt !== undefined && Date.now() < retryAt) return;
    let credentials: Credentials = {};
    if (bootstrap.needsName) {
      const checked = this.credentials(form);
      if ('problem' in checked) return this.joinFailed(checked.problem);
      credentials = checked.credentials;
      if (credentials.name) {
        this.name = credentials.name;
        storage.set(NAME_PREF, credentials.name);
      }
      // Kept for a rejoin, without the password (after registering, a rejoin signs in).
      const way = checked.way === 'signup' && this.ways().includes('login') ? 'login' : checked.way;
      this.lastForm = { ...form!, way, password: '' };
    }
    this.store.set({ phase: 'joining', joinError: undefined, retryAt: undefined, opensAt: undefined });
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    const reply = (prefetched && !bootstrap.needsName ? await prefetched : undefined)?.fresh() ?? await this.requestJoin(credentials, form?.way);
    if (!this.at('joining')) return;
    if (reply.kind === 'refused') return this.finish(reply.state, undefined, reply.start);
    if (reply.kind === 'failed') {
      if (reply.retryAfterSeconds) this.store.set({ retryAt: Date.now() + reply.retryAfterSeconds * 1000 });
      return this.joinFailed(reply.problem);
    }
    if (credentials.login) this.name = credentials.login.username;
    // A token fetched before the start opens the room only from then on (at most a minute).
    const wait = reply.notBefore - Date.now();
    if (wait > 0) {
      this.store.set({ opensAt: reply.notBefore });
      await new Promise<void>((resolve) => this.setTimer('notBefore', wait, resolve));
      if (!this.at('joining')) return;
      this.store.set({ opensAt: undefined });
    }
    this.leaving = false;
    this.openSocket(`${WS_PATH}?token=${encodeURIComponent(reply.token)}`);
  }

  /** The join request's fields for the chosen way, or what is missing. */
  private credentials(form: JoinForm | undefined): { credentials: Credentials; way: JoinWay } | { problem: Omit<JoinProblem, 'seq'> } {
    const ways = this.ways();
    if (!form || ways.length === 0) return { problem: { message: 'This meeting admits invited people only. Open the personal link from your invitation.' } };
    const way = ways.includes(form.way) ? form.way : ways[0]!;
    const name = form.name.trim();
    const username = form.username.trim();
    const missing = (field: FormField, message: string) => ({ problem: { message, field } });
    if (way === 'login') {
      if (!username) return missing('username', 'Enter your username to sign in.');
      if (!form.password) return missing('password', 'Enter your password to sign in.');
      return { way, credentials: { login: { username, password: form.password } } };
    }
    if (way === 'signup') {
      if (!username) return missing('username', 'Choose a username to register.');
      if (form.password.length < 8) return missing('password', 'Choose a password of at least 8 characters.');
      const email = form.email.trim();
      if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) return missing('email', 'Check the e-mail address (or leave it empty).');
      if (!name) return missing('name', 'Enter your name to join.');
      return { way, credentials: { name, signup: { username, password: form.password, ...(email ? { email } : {}) } } };
    }
    if (!name) return missing('name', 'Enter your name to join.');
    if (way === 'pin') {
      const pin = form.pin.replace(/\s+/g, '');
      if (!pin) return missing('pin', 'Enter the meeting’s PIN to join.');
      return { way, credentials: { name, pin } };
    }
    return { way, credentials: { name } };
  }

  /**
   * A personal link needs no answer from the person before joining, so its join token is asked
   * for while the pre-join screen shows: pressing Join then goes straight to the socket.
   */
  private prefetched?: Promise<JoinReply>;

  private prefetchJoin(): void {
    if (this.store.get().bootstrap.link.kind === 'personal') this.prefetched = this.requestJoin({});
  }

  private async requestJoin(credentials: Credentials, way?: JoinWay): Promise<JoinReply> {
    const { bootstrap } = this.store.get();
    const request: JoinRequest = { link: bootstrap.link, ...credentials };
    let response: Response;
    try {
      response = await fetch(JOIN_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        credentials: 'same-origin',
      });
    } catch {
      return failed('The server could not be reached. Check your connection and try again.');
    }
    if (!response.ok) return this.refusal(response, way);
    const answer = (await response.json().catch(() => undefined)) as JoinResponse | undefined;
    if (!answer?.joinToken) return failed('The server gave an unexpected answer. Try again.');
    // The token's times are the server's, and a browser's clock may be off by minutes: measure
    // them against the server's clock as it answered (late by at most the answer's trip here).
    const serverTime = Date.parse(answer.serverTime ?? '');
    const offset = Number.isNaN(serverTime) ? 0 : serverTime - Date.now();
    const usableUntil = Date.parse(answer.expiresAt) - offset - 5000; // leave time to open the socket
    const notBefore = Date.parse(answer.notBefore ?? '') - offset;
    const reply: JoinReply = {
      kind: 'token',
      token: answer.joinToken,
      notBefore: Number.isNaN(notBefore) ? 0 : notBefore,
      fresh: () => (Date.now() < usableUntil ? reply : undefined),
    };
    return reply;
  }

  /** A refused join request, in words for the person (and the field to fix). */
  private async refusal(response: Response, way: JoinWay | undefined): Promise<JoinReply> {
    const refusal = (await response.json().catch(() => undefined)) as JoinRefusal | undefined;
    const e = refusal?.error;
    if (e?.state) return { kind: 'refused', state: e.state, start: { startsAt: e.startsAt, startsAtText: e.startsAtText }, fresh: () => undefined };
    const reason = sentence(e?.message ?? '');
    const field = fieldOf(e?.field);
    switch (e?.code) {
      case 'unauthenticated':
        if (way === 'pin' || field === 'pin') return failed('That PIN is not right. Check it and try again.', 'pin');
        if (way === 'login') return failed('That username or password is not right. Try again.', 'password', true);
        return failed(reason || 'You could not be let in. Try again.', field, true);
      case 'invalid':
        return failed(field ? `Check ${FIELD_LABELS[field]}: ${reason}` : reason || 'Check what you entered and try again.', field, field === 'password');
      case 'conflict':
        if (way === 'signup') {
          const orSignIn = this.ways().includes('login') ? ', or sign in if it is yours' : '';
          return failed(`That username is already taken. Choose another one${orSignIn}.`, 'username', true);
        }
        return failed(reason || 'Could not join. Try again.', field, true);
      case 'rate_limited': {
        const header = Number(response.headers.get('retry-after'));
        const seconds = Math.max(1, Math.ceil(e.retryAfterSeconds ?? (Number.isFinite(header) && header > 0 ? header : 60)));
        // Wrong PINs/passwords, or too many joins or checks at once from here (see docs/room.md).
        const what = /wrong/.test(e.message) ? 'Too many wrong attempts' : 'Too many people are joining from here right now';
        return failed(`${what}. Try again in ${waitWords(seconds)}.`, undefined, true, seconds);
      }
      default:
        return failed(reason ? `Could not join: ${reason}` : `Could not join (the server answered ${response.status}). Try again.`);
    }
  }

  // ---- invitations ---------------------------------------------------------------------------

  /** A personal link's holder accepts or declines before joining (and may change their mind). */
  async answerInvitation(answer: 'accept' | 'decline'): Promise<void> {
    const { bootstrap, invitation } = this.store.get();
    if (bootstrap.link.kind !== 'personal' || !invitation || invitation.busy) return;
    this.store.set({ invitation: { ...invitation, busy: true, error: undefined } });
    const request: InvitationRequest = { token: bootstrap.link.token, answer };
    const done = (patch: Partial<NonNullable<AppState['invitation']>>) => {
      const now = this.store.get().invitation;
      if (now) this.store.set({ invitation: { ...now, busy: false, ...patch } });
    };
    try {
      const response = await fetch(INVITATION_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        credentials: 'same-origin',
      });
      if (!response.ok) {
        const refusal = (await response.json().catch(() => undefined)) as JoinRefusal | undefined;
        const state = refusal?.error?.state;
        // The invitation was cancelled or the meeting is over: that page says so.
        if (state && state !== 'not_started' && (this.phase === 'prejoin' || this.phase === 'countdown')) return this.finish(state);
        const reason = sentence(refusal?.error?.message ?? '');
        return done({ error: `Your answer was not saved. ${reason || 'Try again.'}` });
      }
      const result = (await response.json().catch(() => undefined)) as InvitationResponse | undefined;
      const saved = result?.invitation === 'declined' || result?.invitation === 'invited' ? result.invitation : answer === 'decline' ? 'declined' : 'invited';
      done({ answer: saved, answered: true });
      tabStorage.set(`parley.accepted.${request.token}`, saved === 'invited' ? '1' : '0');
    } catch {
      done({ error: 'Your answer was not saved: the server could not be reached. Try again.' });
    }
  }

  // ---- the countdown -------------------------------------------------------------------------

  /**
   * Before the start: at the start (plus up to 2 s, so not everyone comes at once) ask the server
   * whether the room is open, and reload into it. `attempt` counts checks that found it still
   * closed (our clock runs ahead of the server's): those ask again a little later each time.
   */
  private aimCountdown(attempt: number): void {
    const startsAt = Date.parse(this.store.get().bootstrap.meeting.startsAt ?? '');
    if (Number.isNaN(startsAt)) return;
    const delay = attempt < 0
      ? Math.max(0, startsAt - Date.now()) + Math.random() * START_JITTER_MS
      : START_RECHECK_MS[Math.min(attempt, START_RECHECK_MS.length - 1)]!;
    if (delay > MAX_TIMER_MS) return this.setTimer('countdown', MAX_TIMER_MS, () => this.aimCountdown(-1));
    this.setTimer('countdown', delay, () => void this.checkStarted(Math.max(0, attempt)));
  }

  private async checkStarted(attempt: number): Promise<void> {
    if (this.phase !== 'countdown') return;
    let next: RoomBootstrap | undefined;
    try {
      const response = await fetch(location.href, { cache: 'no-store', credentials: 'same-origin' });
      next = readBootstrap(new DOMParser().parseFromString(await response.text(), 'text/html'));
    } catch {
      // Offline for a moment: ask again shortly rather than reloading into an error page.
      return this.aimCountdown(attempt + 1);
    }
    if (this.phase !== 'countdown') return;
    if (next?.state === 'not_started' && next.meeting.startsAt) {
      const { bootstrap } = this.store.get();
      const moved = next.meeting.startsAt !== bootstrap.meeting.startsAt;
      if (moved) this.store.set({ bootstrap: { ...bootstrap, meeting: { ...bootstrap.meeting, startsAt: next.meeting.startsAt, startsAtText: next.meeting.startsAtText } } });
      // Rescheduled: count to the new time. Else the clocks differ: keep counting, ask again soon.
      return this.aimCountdown(moved && Date.parse(next.meeting.startsAt) > Date.now() ? -1 : attempt + 1);
    }
    // Open (or ended, cancelled…: the server's page says so): load the page as it is now.
    location.reload();
  }

  /**
   * From the "You left" / "Connection lost" pages: back in with the same name and devices. A
   * person who signed in (or registered) signs in again on the pre-join screen: the password
   * is not kept.
   */
  async rejoin(): Promise<void> {
    this.resetRoom();
    this.store.set({ phase: 'prejoin', pageMessage: undefined });
    const form = this.lastForm;
    if (form?.way === 'login' || form?.way === 'signup') {
      void this.local.start();
      return;
    }
    await this.local.start();
    await this.join(form);
  }

  private joinFailed(problem: Omit<JoinProblem, 'seq'>): void {
    this.closeSocket();
    this.clearTimer('notBefore');
    this.store.set({ phase: 'prejoin', joinError: { ...problem, seq: ++this.problemSeq }, opensAt: undefined });
  }

  // ---- the socket ----------------------------------------------------------------------------

  private openSocket(pathAndQuery: string): void {
    this.closeSocket();
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${pathAndQuery}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let welcomed = false;
    ws.addEventListener('message', (e) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      let message: ServerMessage;
      try {
        message = JSON.parse(String(e.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'welcome' || message.type === 'lobby') welcomed = true;
      this.onMessage(message);
    });
    ws.addEventListener('close', () => {
      if (this.ws === ws) this.socketLost();
    });
    this.setTimer('welcome', WELCOME_TIMEOUT_MS, () => {
      if (this.ws === ws && !welcomed) this.socketLost();
    });
  }

  /** Forgets the current socket (closing it) without treating it as a drop. */
  private closeSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    this.clearTimer('welcome');
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000);
  }

  private send(message: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** The socket closed or went silent without the session being over. */
  private socketLost(): void {
    const phase = this.phase;
    this.closeSocket();
    if (this.leaving || FINAL_PHASES.has(phase)) return;
    if (phase === 'joining') return this.joinFailed({ message: 'Could not connect to the meeting. Try again.' });
    if (phase === 'lobby') {
      return this.joinFailed({ message: 'The connection was lost while you were waiting to be let in. Join again to ask once more.' });
    }
    if (phase !== 'room' && phase !== 'reconnecting') return;
    if (this.droppedAt === undefined) {
      this.droppedAt = Date.now();
      this.reconnectAttempt = 0;
      this.store.set({ phase: 'reconnecting' });
      this.setTimer('resumeWindow', this.resumeWindowMs, () => this.connectionLost());
    }
    const left = this.resumeWindowMs - (Date.now() - this.droppedAt);
    if (left <= 0) return this.connectionLost();
    const delay = Math.min(300 * 2 ** this.reconnectAttempt, 4_000, left);
    this.reconnectAttempt++;
    this.setTimer('reconnect', delay, () => this.resume());
  }

  private resume(): void {
    if (this.phase !== 'reconnecting') return;
    if (!this.resumeToken) return this.connectionLost();
    this.openSocket(`${WS_PATH}?resume=${encodeURIComponent(this.resumeToken)}`);
  }

  /** The network came back: try at once instead of waiting for the next backoff step. */
  private retryNow(): void {
    if (this.phase !== 'reconnecting' || this.ws) return;
    this.clearTimer('reconnect');
    this.resume();
  }

  private connectionLost(): void {
    if (this.phase !== 'reconnecting') return;
    this.teardown();
    this.store.set({ phase: 'connection_lost', waiting: [] });
    this.emit('left', { reason: 'connection_lost' });
  }

  private startPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) return this.socketLost();
      this.send({ type: 'ping', t: Date.now() });
    }, PING_INTERVAL_MS);
  }

  // ---- server messages -----------------------------------------------------------------------

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'welcome':
        return this.onWelcome(m);
      case 'publishAnswer':
        if (!this.fromAbandonedTransport(m.sdp)) this.publisher?.onAnswer(m.sdp);
        return;
      case 'subscriberOffer': {
        if (this.fromAbandonedTransport(m.sdp)) return;
        // Publishing waits until the first offer is answered: both negotiations at once made the
        // browser slower at the one that shows the others (seen: ~100 ms later first frame).
        const generation = this.mediaGeneration;
        void this.subscriber?.handleOffer(m.sdp, m.tracks).then(() => this.startPublishing(generation));
        return;
      }
      case 'participantJoined': {
        const s = this.store.get();
        const known = m.participant.id === s.self?.id || s.others.some((p) => p.id === m.participant.id);
        this.upsert(m.participant);
        if (known) return;
        this.emit('participantJoined', { participantId: m.participant.id, name: m.participant.name });
        return this.announce(`${m.participant.name} joined`);
      }
      case 'participantUpdated':
        return this.upsert(m.participant);
      case 'participantLeft': {
        const { others, remote } = this.store.get();
        const gone = others.find((p) => p.id === m.participantId);
        const rest = new Map(remote);
        rest.delete(m.participantId);
        this.store.set({ others: others.filter((p) => p.id !== m.participantId), remote: rest });
        if (gone) {
          this.announce(`${gone.name} left`);
          this.emit('participantLeft', { participantId: gone.id, name: gone.name });
        }
        return;
      }
      case 'activeSpeaker':
        return this.store.set({ activeSpeaker: m.participantId });
      case 'chat': {
        const s = this.store.get();
        const unseen = s.panel !== 'chat' && m.message.from !== s.self?.id;
        this.store.set({ chat: [...s.chat, m.message].slice(-500), unreadChat: unseen ? s.unreadChat + 1 : s.unreadChat });
        if (unseen) this.announce(`New message from ${m.message.name}`);
        return;
      }
      case 'mediaReset':
        // Once given up, the server's reset is news worth a fresh try.
        return this.mediaGaveUp ? this.retryMedia() : this.restartMedia();
      case 'permissions':
        return this.onPermissions(m.permissions);
      case 'muteRequested':
        this.told.microphone = true; // the server already marked us muted
        this.local.setMicOn(false);
        return this.toast(`${m.by} muted your microphone. You can unmute yourself when you need to.`);
      case 'closed':
        if (this.leaving) return;
        // A resume the server no longer holds a seat for: our connection was lost too long.
        if (this.phase === 'reconnecting' && m.state === 'not_found') return this.connectionLost();
        return this.finish(m.state, m.message, m);
      case 'error':
        // `full`: a moderator let someone in past the meeting's capacity (the message says who).
        if (m.code === 'forbidden' || m.code === 'not_found' || m.code === 'full') this.toast(sentence(m.message));
        else console.warn(`parley: server error ${m.code}: ${m.message}`);
        return;
      case 'pong':
        return;
      case 'lobby':
        return this.enterLobby();
      case 'lobbyQueue':
        return this.lobbyQueue(m.waiting);
    }
  }

  /** The meeting has a lobby: we wait (socket open, preview on) until a host lets us in. */
  private enterLobby(): void {
    if (!this.at('joining')) return;
    this.clearTimer('welcome');
    this.lastHeard = Date.now();
    this.startPing();
    this.store.set({ phase: 'lobby', joinError: undefined });
  }

  /** Moderators: the people waiting in the lobby now (the whole list, on every change). */
  private lobbyQueue(waiting: { id: string; name: string }[]): void {
    const list = Array.isArray(waiting)
      ? waiting.filter((w) => w && typeof w.id === 'string').map((w) => ({ id: w.id, name: String(w.name ?? '') }))
      : [];
    this.store.set({ waiting: list });
  }

  /** Moderators: let someone in from the lobby, or turn them away. */
  answerKnock(participantId: string, admit: boolean): void {
    if (this.phase !== 'room') return;
    this.send({ type: admit ? 'admit' : 'decline', participantId });
    // Shown as handled at once; the server's next lobbyQueue is the truth.
    this.store.set((s) => ({ waiting: s.waiting.filter((w) => w.id !== participantId) }));
  }

  private onWelcome(m: Extract<ServerMessage, { type: 'welcome' }>): void {
    const wasReconnecting = this.droppedAt !== undefined;
    const handBefore = this.store.get().self?.handRaised;
    this.clearTimer('welcome');
    this.clearTimer('resumeWindow');
    this.clearTimer('reconnect');
    this.droppedAt = undefined;
    this.resumeToken = m.resumeToken;
    if (typeof m.resumeWindowMs === 'number' && m.resumeWindowMs > 0) this.resumeWindowMs = m.resumeWindowMs;
    this.iceServers = m.iceServers;
    this.name = m.self.name || this.name;
    this.told = { microphone: m.self.audioMuted, camera: m.self.videoMuted, screen: !m.self.screenSharing };
    this.store.set({
      phase: 'room',
      invitation: undefined,
      self: m.self,
      others: m.participants,
      permissions: m.permissions,
      title: m.meeting.title || this.store.get().bootstrap.meeting.title,
      chat: m.chat,
      activeSpeaker: m.activeSpeaker,
      joinError: undefined,
    });
    this.lastHeard = Date.now();
    this.startPing();

    if (!wasReconnecting) {
      this.startMedia();
      void this.local.applyPermissions(m.permissions);
      this.announce(`You joined ${this.store.get().title}`);
      this.emit('joined', {
        participantId: m.self.id,
        name: m.self.name,
        participants: m.participants.map((p) => ({ participantId: p.id, name: p.name })),
      });
    } else if (!m.resumed) {
      // A new seat after all: fresh transports, nothing to reset on the server.
      this.startMedia();
    } else if (this.publisher?.broken || this.subscriber?.broken) {
      this.restartMedia();
    } else {
      this.publisher?.resume();
      // Still recovering by itself? Give it the usual time, then start over.
      if ([this.publisher, this.subscriber].some((t) => t?.pc.connectionState === 'disconnected')) this.transportState('disconnected');
      // Our hand may have changed while away.
      if (handBefore !== undefined && handBefore !== m.self.handRaised) {
        this.store.set({ self: { ...m.self, handRaised: handBefore } });
        this.send({ type: 'raiseHand', raised: handBefore });
      }
    }
    this.tellMuteState();
  }

  private upsert(p: ParticipantInfo): void {
    const s = this.store.get();
    if (p.id === s.self?.id) {
      this.told = { microphone: p.audioMuted, camera: p.videoMuted, screen: !p.screenSharing };
      this.store.set({ self: p });
      this.tellMuteState();
      return;
    }
    const others = s.others.some((o) => o.id === p.id) ? s.others.map((o) => (o.id === p.id ? p : o)) : [...s.others, p];
    this.store.set({ others });
  }

  // ---- media ---------------------------------------------------------------------------------

  /** New peer connections for this seat; we publish once the server's media session is ready. */
  private startMedia(): void {
    this.closeMedia();
    const generation = ++this.mediaGeneration;
    const { send, watch, current } = this.mediaCallbacks(generation);
    this.subscriber = new Subscriber(this.iceServers, send, watch);
    this.subscriber.onTracks = (tracks) => {
      if (current()) this.remoteTracks(tracks);
    };
    this.subscriber.onError = (error) => {
      console.warn('parley: subscriber offer failed', error);
      if (current()) this.restartMedia();
    };
    this.setTimer('firstOffer', FIRST_OFFER_WAIT_MS, () => this.startPublishing(generation));
  }

  /** Callbacks for the transports of one media generation: silent once it is replaced. */
  private mediaCallbacks(generation: number) {
    const current = () => generation === this.mediaGeneration;
    return {
      current,
      send: (message: ClientMessage) => {
        if (current()) this.send(message);
      },
      watch: (state: RTCPeerConnectionState) => {
        if (current()) this.transportState(state);
      },
    };
  }

  /** The publisher transport, for the sources we may send (none for a viewer: no transport). */
  private startPublishing(generation: number): void {
    const { permissions, local } = this.store.get();
    if (generation !== this.mediaGeneration || this.publishedGeneration === generation || !permissions) return;
    this.clearTimer('firstOffer');
    const tracks: Partial<Record<TrackSource, MediaStreamTrack | null>> = {};
    if (permissions.publishAudio) tracks.microphone = local.audioTrack ?? null;
    if (permissions.publishVideo) tracks.camera = local.videoTrack ?? null;
    if (permissions.shareScreen && local.screenTrack) tracks.screen = local.screenTrack;
    // Nothing to send (yet): a later permission change may start the publisher.
    if (Object.keys(tracks).length === 0) return;
    this.publishedGeneration = generation;
    const { send, watch, current } = this.mediaCallbacks(generation);
    const publisher = new Publisher(this.iceServers, send, watch);
    publisher.onError = (error) => {
      console.warn('parley: publishing failed', error);
      // A broken negotiation leaves the connection unusable: start over (with backoff, capped).
      if (current()) this.restartMedia();
    };
    this.publisher = publisher;
    void publisher.start(tracks);
  }

  /**
   * The media session is lost (a transport failed, an offer could not be applied, or the server
   * said so): start it over, same seat. Restarts in a row back off and stop after a few, so a
   * page that cannot get media does not keep the server rebuilding it.
   */
  private restartMedia(): void {
    if (this.phase !== 'room' || this.mediaGaveUp || this.timers.has('restartMedia')) return;
    const now = Date.now();
    const last = this.restarts.at(-1);
    if (last === undefined || now - last > RESTART_STABLE_MS) this.restartStreak = 0;
    if (this.restartStreak >= MEDIA_RESET_LIMIT.count) {
      this.mediaGaveUp = true;
      this.store.set({ mediaProblem: 'gaveUp' }); // the room offers "Try again"
      return;
    }
    this.restarts = this.restarts.filter((t) => t > now - MEDIA_RESET_LIMIT.windowMs - RESTART_WINDOW_MARGIN_MS);
    const backoff = this.restartStreak === 0 ? 0 : Math.min(RESTART_BASE_DELAY_MS * 2 ** (this.restartStreak - 1), RESTART_MAX_DELAY_MS);
    // The server takes MEDIA_RESET_LIMIT.count a minute: past that, wait for the oldest to age out.
    const budget = this.restarts.length >= MEDIA_RESET_LIMIT.count
      ? this.restarts[this.restarts.length - MEDIA_RESET_LIMIT.count]! + MEDIA_RESET_LIMIT.windowMs + RESTART_WINDOW_MARGIN_MS - now
      : 0;
    const delay = Math.max(backoff, budget);
    this.restartStreak++;
    this.restarts.push(now + delay);
    const restart = () => {
      if (this.phase !== 'room') return;
      this.closeMedia();
      this.send({ type: 'resetMedia' });
      this.startMedia();
    };
    if (delay <= 0) restart();
    else this.setTimer('restartMedia', delay, restart);
  }

  /**
   * After giving up on media: start over with a fresh run of restarts (still backing off, and
   * never more a minute than the server takes). The person's "Try again", or the server's own
   * `mediaReset` (its side was rebuilt, e.g. a media worker came back).
   */
  retryMedia(): void {
    if (this.phase !== 'room' || !this.mediaGaveUp) return;
    this.mediaGaveUp = false;
    this.restartStreak = 0;
    this.retriedAt = this.mediaGeneration;
    this.store.set({ mediaProblem: 'retrying' });
    this.restartMedia();
  }

  /**
   * After a media reset, an offer or answer of the server's previous transports can still arrive
   * (it was on the wire, or is re-sent on resume); it carries their ICE credentials, and is skipped.
   */
  private fromAbandonedTransport(sdp: string): boolean {
    return iceUfrags(sdp).some((u) => this.staleUfrags.has(u));
  }

  private closeMedia(): void {
    for (const t of [this.publisher, this.subscriber]) for (const ufrag of t?.remoteUfrags() ?? []) this.staleUfrags.add(ufrag);
    this.mediaGeneration++;
    this.clearTimer('firstOffer');
    this.clearTimer('disconnected');
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = undefined;
    this.subscriber = undefined;
    this.store.set({ remote: new Map() });
  }

  private transportState(state: RTCPeerConnectionState): void {
    if (state === 'failed') {
      console.warn('parley: a media transport failed');
      // With the socket down, the resumed welcome decides (it sees `broken`).
      if (this.phase === 'room') this.restartMedia();
    } else if (state === 'disconnected') {
      this.setTimer('disconnected', DISCONNECTED_LIMIT_MS, () => {
        const stuck = [this.publisher, this.subscriber].some((t) => t?.pc.connectionState === 'disconnected');
        if (stuck && this.phase === 'room') this.restartMedia();
      });
    } else if (state === 'connected') {
      this.clearTimer('disconnected');
      // Connected on transports made after "Try again": the trouble is over.
      if (this.store.get().mediaProblem === 'retrying' && this.mediaGeneration > this.retriedAt) this.store.set({ mediaProblem: undefined });
    }
  }

  private remoteTracks(tracks: ReceivedTrack[]): void {
    const remote = new Map<string, RemoteMedia>();
    for (const { info, track } of tracks) {
      const media = remote.get(info.participantId) ?? {};
      media[info.source] = track;
      remote.set(info.participantId, media);
    }
    this.store.set({ remote });
  }

  private localTrackChanged(source: TrackSource, track: MediaStreamTrack | null): void {
    const permissions = this.store.get().permissions;
    if (!permissions) return;
    const allowed = source === 'microphone' ? permissions.publishAudio : source === 'camera' ? permissions.publishVideo : permissions.shareScreen;
    if (!allowed && track) return;
    if (!this.publisher) {
      // Allowed to send only since a settings change: the first track starts the publisher.
      if (track && this.phase === 'room' && this.subscriber) this.startPublishing(this.mediaGeneration);
      return;
    }
    this.publisher.setTrack(source, track).catch((error: unknown) => console.warn(`parley: could not switch the ${source}`, error));
  }

  /** The organiser changed what we may do while we are in the room; the server already enforces it. */
  private onPermissions(permissions: NonNullable<AppState['permissions']>): void {
    const before = this.store.get().permissions;
    if (!before || this.phase !== 'room') return;
    this.store.set({ permissions });
    this.local.setAllowed(permissions.publishAudio, permissions.publishVideo);
    if (!permissions.shareScreen) this.local.stopScreen();
    if (!permissions.moderate) this.store.set({ waiting: [] });
    const names: [keyof typeof permissions, string][] = [
      ['publishAudio', 'your microphone'], ['publishVideo', 'your camera'], ['shareScreen', 'screen sharing'], ['chat', 'the chat'], ['moderate', 'the host controls'],
    ];
    const gained = names.filter(([k]) => permissions[k] && !before[k]).map(([, n]) => n);
    const lost = names.filter(([k]) => !permissions[k] && before[k]).map(([, n]) => n);
    const parts = [gained.length ? `you can now use ${gained.join(', ')}` : '', lost.length ? `you can no longer use ${lost.join(', ')}` : ''].filter(Boolean);
    if (parts.length) this.toast(sentence(`The organiser changed this meeting: ${parts.join('; ')}`));
  }

  /** Tells the server what we send, whenever that differs from what it last knew. */
  private tellMuteState(): void {
    const { phase, permissions, local } = this.store.get();
    if (phase !== 'room' || !permissions) return;
    const want = {
      microphone: !(local.micOn && local.audioTrack),
      camera: !local.videoTrack,
      screen: !local.screenTrack,
    };
    const may = { microphone: permissions.publishAudio, camera: permissions.publishVideo, screen: permissions.shareScreen };
    for (const source of ['microphone', 'camera', 'screen'] as const) {
      if (may[source] && want[source] !== this.told[source]) {
        this.told[source] = want[source];
        this.send({ type: 'setMuted', source, muted: want[source] });
      }
    }
  }

  // ---- what the person does in the room -----------------------------------------------------

  toggleMic(): void {
    const { permissions, local } = this.store.get();
    if (permissions && !permissions.publishAudio) return;
    // As the button shows it: on only with a working microphone (else a click retries it).
    this.local.setMicOn(!(local.micOn && local.audioTrack));
  }

  /** Microphone on or off (the embedding page's mute / unmute; before joining: how to join). */
  setMic(on: boolean): void {
    const { permissions, local } = this.store.get();
    if (FINAL_PHASES.has(this.phase) || (on && (this.isViewer || (permissions && !permissions.publishAudio)))) return;
    if (on ? local.micOn && local.audioTrack : !local.micOn) return;
    this.local.setMicOn(on);
  }

  /** Camera on or off (the embedding page's cameraOn / cameraOff; before joining: how to join). */
  setCam(on: boolean): void {
    const { permissions, local } = this.store.get();
    if (FINAL_PHASES.has(this.phase) || (on && (this.isViewer || (permissions && !permissions.publishVideo)))) return;
    if (on ? local.camOn && local.videoTrack : !local.camOn && !local.videoTrack) return;
    void this.local.setCamOn(on);
  }

  toggleCam(): void {
    const { permissions, local } = this.store.get();
    if (permissions && !permissions.publishVideo) return;
    void this.local.setCamOn(!(local.camOn && local.videoTrack));
  }

  async toggleScreen(): Promise<void> {
    const { permissions, local } = this.store.get();
    if (!permissions?.shareScreen) return;
    if (local.screenTrack) return this.local.stopScreen();
    try {
      await this.local.startScreen();
    } catch {
      this.toast('Your screen could not be shared.');
    }
  }

  toggleHand(): void {
    const self = this.store.get().self;
    if (!self) return;
    const raised = !self.handRaised;
    this.store.set({ self: { ...self, handRaised: raised } });
    this.send({ type: 'raiseHand', raised });
  }

  /** Returns false when the text cannot be sent (empty, too long, not allowed, offline). */
  sendChat(text: string): boolean {
    const trimmed = text.trim();
    const { permissions, phase } = this.store.get();
    if (!trimmed || trimmed.length > CHAT_MAX_LENGTH || !permissions?.chat || phase !== 'room') return false;
    this.send({ type: 'chat', text: trimmed });
    return true;
  }

  moderate(action: 'mute' | 'remove', participantId: string): void {
    this.send({ type: 'moderate', action, participantId });
  }

  endForAll(): void {
    this.send({ type: 'endForAll' });
  }

  leave(): void {
    const phase = this.phase;
    if (FINAL_PHASES.has(phase) || phase === 'prejoin') return;
    this.leaving = true;
    this.send({ type: 'leave' });
    this.teardown();
    this.store.set({ phase: 'left', waiting: [], opensAt: undefined });
    if (phase !== 'joining') this.emit('left', { reason: 'left' });
  }

  setPanel(panel: Panel): void {
    this.store.set((s) => ({ panel, unreadChat: panel === 'chat' ? 0 : s.unreadChat }));
  }

  setAudioBlocked(blocked: boolean): void {
    if (this.store.get().audioBlocked !== blocked) this.store.set({ audioBlocked: blocked });
  }

  dismissToast(id: number): void {
    this.store.set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
  }

  // ---- endings -------------------------------------------------------------------------------

  /**
   * Shows a state page: the session is over for this page. `start`: with `not_started`, when the
   * meeting starts as the server said it (it may have been rescheduled since the page loaded).
   */
  private finish(state: RoomState, message?: string, start?: StartTime): void {
    const before = this.phase;
    this.teardown();
    if (state === 'not_started') {
      const { bootstrap } = this.store.get();
      const told = typeof start?.startsAt === 'string' && !Number.isNaN(Date.parse(start.startsAt)) ? start.startsAt : undefined;
      const startsAt = told ?? bootstrap.meeting.startsAt;
      if (startsAt) {
        // Count down to it (showing it in both time zones), then open by itself.
        const text = told ? (typeof start?.startsAtText === 'string' ? start.startsAtText : undefined) : bootstrap.meeting.startsAtText;
        const meeting = { title: bootstrap.meeting.title, startsAt, ...(text ? { startsAtText: text } : {}) };
        this.store.set({ phase: 'countdown', bootstrap: { ...bootstrap, meeting }, pageMessage: undefined, opensAt: undefined, waiting: [] });
        // Still ahead: aim at it. Else our wait for an early token fell short (clocks differ): ask again soon.
        this.aimCountdown(Date.parse(startsAt) > Date.now() ? -1 : 0);
        return;
      }
    }
    this.store.set({ phase: state, pageMessage: message, waiting: [], opensAt: undefined });
    if (before === 'room' || before === 'reconnecting' || before === 'lobby') {
      this.emit('left', { reason: state });
      if (MEETING_OVER.has(state)) this.emit('meetingEnded', { state });
    }
  }

  /** Stops everything live: socket, timers, peer connections, camera and microphone. */
  private teardown(): void {
    this.closeSocket();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.droppedAt = undefined;
    this.closeMedia();
    this.local.stopAll();
    this.store.set({ audioBlocked: false, activeSpeaker: null });
  }

  private resetRoom(): void {
    this.teardown();
    this.local.allow(!this.isViewer, !this.isViewer);
    this.leaving = false;
    this.resumeToken = undefined;
    this.restarts = [];
    this.restartStreak = 0;
    this.mediaGaveUp = false;
    this.store.set({
      self: undefined, others: [], permissions: undefined, chat: [], unreadChat: 0, panel: null, toasts: [], waiting: [], mediaProblem: undefined,
    });
  }

  // ---- the embedding page --------------------------------------------------------------------

  /** Hears what happens to this page's session (joined, left, others joining…); returns an unsubscribe. */
  onEvent(listener: MeetingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: EmbedEventName, data?: Record<string, unknown>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, data);
      } catch (error) {
        console.warn('parley: an event listener failed', error);
      }
    }
  }

  // ---- small helpers -------------------------------------------------------------------------

  private toast(text: string): void {
    const id = ++this.toastId;
    this.store.set((s) => ({ toasts: [...s.toasts, { id, text }].slice(-3) }));
    setTimeout(() => this.dismissToast(id), TOAST_MS);
  }

  private announce(text: string): void {
    // A live region only speaks changes: make a repeated sentence differ.
    const same = this.store.get().announcement.trimEnd() === text;
    this.store.set({ announcement: same ? `${text}\u00a0` : text });
  }

  private setTimer(name: string, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      fn();
    }, ms));
  }

  private clearTimer(name: string): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }

  // ---- test hooks ----------------------------------------------------------------------------

  /** `window.__parley`: read-only views for tests, and a way to simulate a network drop. */
  testHooks() {
    return {
      state: (): string => this.phase,
      participants: (): ParticipantInfo[] => {
        const { self, others } = this.store.get();
        return self ? [self, ...others] : [...others];
      },
      selfId: (): string | undefined => this.store.get().self?.id,
      remoteSources: (): { participantId: string; source: TrackSource }[] => {
        const list: { participantId: string; source: TrackSource }[] = [];
        for (const [participantId, media] of this.store.get().remote) {
          for (const source of ['microphone', 'camera', 'screen'] as const) if (media[source]) list.push({ participantId, source });
        }
        return list;
      },
      waiting: (): { id: string; name: string }[] => this.store.get().waiting,
      resumeWindowMs: (): number => this.resumeWindowMs,
      publisher: (): RTCPeerConnection | undefined => this.publisher?.pc,
      subscriber: (): RTCPeerConnection | undefined => this.subscriber?.pc,
      dropSocket: (): void => {
        // As a network drop: the socket goes away without a `leave`; the app resumes.
        const ws = this.ws;
        if (!ws) return;
        ws.close(4000, 'dropped');
        this.socketLost();
      },
    };
  }
}
