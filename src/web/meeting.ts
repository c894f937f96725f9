import type { EmbedEventName, ParticipantInfo, RoomBootstrap, RoomState, ServerMessage, StartTime, TrackSource } from '../protocol/messages.ts';
import { Connection } from './connection.ts';
import { Controls, savedView } from './controls.ts';
import { Countdown } from './countdown.ts';
import { acceptedHere, answerInvitation } from './invitation.ts';
import { checkForm, offeredWays, requestJoin, type Credentials, type JoinReply } from './join.ts';
import { LocalMedia } from './local-media.ts';
import { MediaSession } from './media-session.ts';
import { Notices, sentence } from './notices.ts';
import { reduceRoom } from './room-reducer.ts';
import { FINAL_PHASES, type AppState, type JoinForm, type JoinProblem, type JoinWay, type Phase } from './state.ts';
import { Store } from './store.ts';
import { refusedSourceText } from './texts.ts';
import { Timers } from './timers.ts';
import { storage } from './util.ts';
import { VideoSizeReporter } from './video-sizes.ts';

const NAME_PREF = 'parley.name';
/** Session endings that end the meeting itself (not just this person's part in it). */
const MEETING_OVER = new Set<RoomState>(['ended', 'cancelled', 'disabled', 'service_stopped']);

/** Hears what the room does, for the embedding page (see embed.ts). */
export type MeetingListener = (event: EmbedEventName, data?: Record<string, unknown>) => void;

/**
 * The meeting as this page lives it, from the link page to the end: joining, the session's
 * phases and endings. The parts live beside it: `Connection` (the socket), `MediaSession` (the
 * peer connections), `Controls` (what the person does in the room), `Countdown`, the join
 * request (join.ts) and `reduceRoom` (what server messages change). The UI reads `store`.
 */
export class Meeting {
  readonly store: Store<AppState>;
  readonly local: LocalMedia;
  readonly controls: Controls;
  private readonly notices: Notices;
  private readonly timers = new Timers();
  private readonly connection: Connection;
  private readonly media: MediaSession;
  private readonly countdown: Countdown;
  /** kept for the page's lifetime: it measures the video tiles on a timer */
  readonly videoSizes: VideoSizeReporter;
  private name: string | undefined;
  private leaving = false;
  private problemSeq = 0;
  /** Set while joining again because the meeting's node stopped answering (several nodes). */
  private unreachableNode: string | undefined;
  /** The last form used to join (without the password), so a rejoin can use it again. */
  private lastForm: JoinForm | undefined;
  /**
   * A personal link needs no answer from the person before joining, so its join token is asked
   * for while the pre-join screen shows: pressing Join then goes straight to the socket.
   */
  private prefetched?: Promise<JoinReply>;
  private readonly listeners = new Set<MeetingListener>();

  constructor(bootstrap: RoomBootstrap) {
    this.local = new LocalMedia((local) => {
      const before = this.store.get().local;
      this.store.set({ local });
      this.controls.tellMuteState();
      // In the room there is no device notice on screen: say it once.
      if (this.phase === 'room' || this.phase === 'reconnecting') {
        if (local.micError && local.micError !== before.micError) this.notices.toast(local.micError);
        if (local.camError && local.camError !== before.camError && local.camError !== local.micError) this.notices.toast(local.camError);
      }
    });
    this.local.onTrack = (source, track) => this.media.localTrackChanged(source, track);
    const countdown = bootstrap.state === 'not_started';
    const invitation = bootstrap.link.kind === 'personal' ? bootstrap.person?.invitation : undefined;
    const answered = invitation === 'invited' && bootstrap.link.kind === 'personal' && acceptedHere(bootstrap.link.token);
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
      featured: null,
      view: savedView(),
      pausedVideos: {},
      recording: bootstrap.recording ?? false,
      chat: [],
      unreadChat: 0,
      panel: null,
      toasts: [],
      announcement: '',
      audioBlocked: false,
      local: this.local.snapshot,
    });
    this.notices = new Notices(this.store);
    this.connection = new Connection(this.timers, {
      message: (m) => this.onMessage(m),
      lost: () => this.socketLost(),
      resumeFailed: () => this.connectionLost(),
    });
    const send = this.connection.send.bind(this.connection);
    this.media = new MediaSession(
      this.store, this.timers, send, () => this.phase === 'room', (source) => this.notices.toast(refusedSourceText(source)), () => this.connection.probe(),
    );
    this.controls = new Controls(this.store, this.local, this.notices, send, () => this.isViewer);
    this.countdown = new Countdown(this.store, this.timers);
    this.videoSizes = new VideoSizeReporter(send, () => this.phase === 'room', () => this.store.get().self?.id);
    this.name = bootstrap.person?.name;
    if (this.phase === 'countdown') this.countdown.aim(-1);
    if (this.phase === 'prejoin' && bootstrap.link.kind === 'personal') this.prefetched = requestJoin(bootstrap, {}, undefined, false);
    // A viewer's link: no camera or microphone is even asked for.
    if (this.isViewer) this.local.allow(false, false);
    window.addEventListener('online', () => {
      this.connection.retryNow();
      this.media.networkChanged();
    });
    // Where the browser has it (Chromium): a new network type or path.
    (navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener('change', () => this.media.networkChanged());
    window.addEventListener('pagehide', () => {
      // Closing the tab is leaving: the others should not wait for the resume window.
      if (this.connection.active) this.leave();
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

  /** The ways in this page offers, in the order the server lists them (none on personal links). */
  ways(): JoinWay[] {
    return offeredWays(this.store.get().bootstrap).map((w) => w.way);
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
    const unreachableNode = this.unreachableNode;
    this.unreachableNode = undefined;
    const { bootstrap, retryAt } = this.store.get();
    if (retryAt !== undefined && Date.now() < retryAt) return;
    let credentials: Credentials = {};
    if (bootstrap.needsName) {
      const checked = checkForm(form, offeredWays(bootstrap));
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
    if (unreachableNode) credentials = { ...credentials, unreachableNode };
    this.store.set({ phase: 'joining', joinError: undefined, retryAt: undefined, opensAt: undefined });
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    const reply = (prefetched && !bootstrap.needsName ? await prefetched : undefined)?.fresh()
      ?? await requestJoin(bootstrap, credentials, form?.way, this.ways().includes('login'));
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
      await new Promise<void>((resolve) => this.timers.set('notBefore', wait, resolve));
      if (!this.at('joining')) return;
      this.store.set({ opensAt: undefined });
    }
    this.leaving = false;
    this.connection.connect(reply.token, reply.nodeUrl);
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
    this.connection.close();
    this.timers.clear('notBefore');
    this.store.set({ phase: 'prejoin', joinError: { ...problem, seq: ++this.problemSeq }, opensAt: undefined });
  }

  /** A personal link's holder accepts or declines before joining (and may change their mind). */
  async answerInvitation(answer: 'accept' | 'decline'): Promise<void> {
    const { bootstrap, invitation } = this.store.get();
    if (bootstrap.link.kind !== 'personal' || !invitation || invitation.busy) return;
    this.store.set({ invitation: { ...invitation, busy: true, error: undefined } });
    const outcome = await answerInvitation(bootstrap.link.token, answer);
    // The invitation was cancelled or the meeting is over: that page says so.
    if ('state' in outcome && outcome.state && (this.phase === 'prejoin' || this.phase === 'countdown')) return this.finish(outcome.state);
    const now = this.store.get().invitation;
    const patch = 'saved' in outcome ? { answer: outcome.saved, answered: true } : { error: outcome.error };
    if (now) this.store.set({ invitation: { ...now, busy: false, ...patch } });
  }

  // ---- the connection ------------------------------------------------------------------------

  /** The socket closed or went silent without the session being over. */
  private socketLost(): void {
    const phase = this.phase;
    this.connection.close();
    if (this.leaving || FINAL_PHASES.has(phase)) return;
    if (phase === 'joining') return this.joinFailed({ message: 'Could not connect to the meeting. Try again.' });
    if (phase === 'lobby' && this.connection.restarting) {
      // The server restarts: wait for it, then knock again with the token it gave.
      if (!this.connection.scheduleResume()) this.joinFailed({ message: 'The server did not come back in time. Join again to ask once more.' });
      return;
    }
    if (phase === 'lobby') {
      return this.joinFailed({ message: 'The connection was lost while you were waiting to be let in. Join again to ask once more.' });
    }
    if (phase !== 'room' && phase !== 'reconnecting') return;
    if (!this.connection.resuming) this.store.set({ phase: 'reconnecting' });
    const gone = this.connection.restarting ? undefined : this.connection.unreachableNode;
    if (gone) return void this.joinElsewhere(gone);
    if (!this.connection.scheduleResume()) this.connectionLost();
  }

  /** The meeting's node died (several nodes): back in without a click, unless a password is needed (not kept). */
  private async joinElsewhere(unreachableNode: string): Promise<void> {
    const way = this.lastForm?.way;
    if (way === 'login' || way === 'signup') return this.connectionLost();
    this.unreachableNode = unreachableNode;
    await this.rejoin();
  }

  private connectionLost(): void {
    if (this.phase !== 'reconnecting') return;
    this.teardown();
    this.store.set({ phase: 'connection_lost', waiting: [] });
    this.emit('left', { reason: 'connection_lost' });
  }

  // ---- server messages -----------------------------------------------------------------------

  private onMessage(m: ServerMessage): void {
    const before = this.store.get();
    const update = reduceRoom(before, m);
    if (update) {
      this.store.set(update.patch);
      if (update.toast) this.notices.toast(update.toast);
      if (update.event) this.emit(update.event.name, update.event.data);
      if (update.announce) this.notices.announce(update.announce);
    }
    switch (m.type) {
      case 'welcome':
        return this.welcomed(m, before);
      case 'participantJoined':
      case 'participantUpdated':
        if (m.participant.id !== before.self?.id) return;
        this.controls.serverKnows(m.participant);
        return this.controls.tellMuteState();
      case 'permissions': {
        const { permissions } = m;
        if (!update?.patch.permissions) return;
        this.local.setAllowed(permissions.publishAudio, permissions.publishVideo);
        if (!permissions.shareScreen) this.local.stopScreen();
        return;
      }
      case 'iceServers':
        return this.media.setIceServers(m.iceServers);
      case 'publishAnswer':
        return this.media.onPublishAnswer(m.sdp);
      case 'subscriberOffer':
        return this.media.onSubscriberOffer(m.sdp, m.tracks);
      case 'mediaReset':
        return this.media.onServerReset();
      case 'mediaTransport':
        return this.media.onServerTransport(m.transport, m.state);
      case 'muteRequested':
        return this.controls.mutedBy(m.by, m.source, m.request);
      case 'closed':
        if (this.leaving) return;
        // A resume the server no longer holds a seat for: our connection was lost too long.
        if (this.phase === 'reconnecting' && m.state === 'not_found') return this.connectionLost();
        return this.finish(m.state, m.message, m);
      case 'error':
        // `full`: a moderator let someone in past the meeting's capacity (the message says who).
        if (m.code === 'forbidden' || m.code === 'not_found' || m.code === 'full') this.notices.toast(sentence(m.message));
        else console.warn(`parley: server error ${m.code}: ${m.message}`);
        return;
      case 'lobby':
        // The meeting has a lobby: we wait (socket open, preview on) until a host lets us in.
        if (this.at('lobby') && this.connection.resuming) {
          this.connection.backInLobby();
          return this.connection.settled();
        }
        if (!this.at('joining')) return;
        this.connection.settled();
        return this.store.set({ phase: 'lobby', joinError: undefined });
      case 'restarting':
        // The socket closes next; we take the same seat again on the server that comes back.
        this.connection.expectRestart(m.rejoinToken, m.rejoinWindowMs);
        this.notices.announce(m.message);
        if (this.phase === 'room') this.store.set({ phase: 'reconnecting' });
        return;
      default:
        return;
    }
  }

  /** In the room: first time, or back after a drop (same seat, or a new one). */
  private welcomed(m: Extract<ServerMessage, { type: 'welcome' }>, before: AppState): void {
    const wasReconnecting = this.connection.resuming;
    this.connection.settled(m);
    this.media.setIceServers(m.iceServers);
    this.name = m.self.name || this.name;
    this.controls.serverKnows(m.self);
    if (!wasReconnecting) {
      this.media.start();
      void this.local.applyPermissions(m.permissions);
      this.notices.announce(`You joined ${this.store.get().title}`);
      this.emit('joined', {
        participantId: m.self.id,
        name: m.self.name,
        participants: m.participants.map((p) => ({ participantId: p.id, name: p.name })),
      });
    } else if (!m.resumed) {
      // A new seat after all: fresh transports, nothing to reset on the server.
      this.media.start();
    } else if (this.media.resumed()) {
      // Our hand may have changed while away.
      const handBefore = before.self?.handRaised;
      if (handBefore !== undefined && handBefore !== m.self.handRaised) this.controls.setHand(handBefore);
    }
    this.controls.tellMuteState();
  }

  // ---- endings -------------------------------------------------------------------------------

  leave(): void {
    const phase = this.phase;
    if (FINAL_PHASES.has(phase) || phase === 'prejoin') return;
    this.leaving = true;
    this.connection.send({ type: 'leave' });
    this.teardown();
    this.store.set({ phase: 'left', waiting: [], opensAt: undefined });
    if (phase !== 'joining') this.emit('left', { reason: 'left' });
  }

  /** After giving up on media: the person's "Try again". */
  retryMedia(): void {
    this.media.retry();
  }

  /**
   * Shows a state page: the session is over for this page. `start`: with `not_started`, when the
   * meeting starts as the server said it (it may have been rescheduled since the page loaded).
   */
  private finish(state: RoomState, message?: string, start?: StartTime): void {
    const before = this.phase;
    this.teardown();
    if (state === 'not_started' && this.countdown.begin(start)) return;
    this.store.set({ phase: state, pageMessage: message, waiting: [], opensAt: undefined });
    if (before === 'room' || before === 'reconnecting' || before === 'lobby') {
      this.emit('left', { reason: state });
      if (MEETING_OVER.has(state)) this.emit('meetingEnded', { state });
    }
  }

  /** Stops everything live: socket, timers, peer connections, camera and microphone. */
  private teardown(): void {
    this.connection.stop();
    this.timers.clearAll();
    this.media.close();
    this.local.stopAll();
    this.store.set({ audioBlocked: false, activeSpeaker: null, featured: null, pausedVideos: {} });
  }

  private resetRoom(): void {
    this.teardown();
    this.local.allow(!this.isViewer, !this.isViewer);
    this.leaving = false;
    this.connection.forgetSeat();
    this.media.forget();
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
      // `trackId`: the MediaStreamTrack's id, which getStats reports as `trackIdentifier`.
      remoteSources: (): { participantId: string; source: TrackSource; trackId: string }[] => {
        const list: { participantId: string; source: TrackSource; trackId: string }[] = [];
        for (const [participantId, media] of this.store.get().remote) {
          for (const source of ['microphone', 'camera', 'screen'] as const) {
            const track = media[source];
            if (track) list.push({ participantId, source, trackId: track.id });
          }
        }
        return list;
      },
      waiting: (): { id: string; name: string }[] => this.store.get().waiting,
      resumeWindowMs: (): number => this.connection.resumeWindowMs,
      publisher: (): RTCPeerConnection | undefined => this.media.publisherPc,
      subscriber: (): RTCPeerConnection | undefined => this.media.subscriberPc,
      sender: (source: TrackSource): RTCRtpSender | undefined => this.media.senderOf(source),
      dropSocket: (): void => this.connection.simulateDrop(),
      // An ICE restart on both transports without a network drop (the same call the recovery makes).
      restartIce: (): void => this.media.restartIce(),
    };
  }
}
