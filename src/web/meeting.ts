import {
  CHAT_MAX_LENGTH, JOIN_PATH, PING_INTERVAL_MS, RESUME_WINDOW_MS, WS_PATH,
  type ClientMessage, type IceServer, type JoinRefusal, type JoinRequest, type JoinResponse,
  type ParticipantInfo, type RoomBootstrap, type RoomState, type ServerMessage, type TrackSource,
} from '../signaling/messages.ts';
import { LocalMedia } from './local-media.ts';
import { iceUfrags, Publisher, Subscriber, type ReceivedTrack } from './peers.ts';
import type { AppState, Panel, Phase, RemoteMedia } from './state.ts';
import { Store } from './store.ts';
import { storage } from './util.ts';

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
/** A media restart after a publishing failure is tried again only after this long. */
const RESTART_BACKOFF_MS = 30_000;

/** Phases after which nothing more happens until the person joins again. */
const FINAL_PHASES = new Set<Phase>([
  'left', 'connection_lost', 'not_started', 'ended', 'cancelled', 'disabled', 'service_stopped',
  'full', 'invitation_cancelled', 'removed', 'not_found',
]);

/**
 * The meeting as this page lives it: the join request, the signaling socket (with keep-alive and
 * resume), the two peer connections and local media. The UI reads `store` and calls the methods.
 */
/** The answer to a join request; `fresh()` is the reply while it can still be used, else undefined. */
type JoinReply =
  | { kind: 'token'; token: string; fresh(): JoinReply | undefined }
  | { kind: 'refused'; state: RoomState; fresh(): JoinReply | undefined }
  | { kind: 'failed'; message: string; fresh(): JoinReply | undefined };

const failed = (message: string): JoinReply => ({ kind: 'failed', message, fresh: () => undefined });

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
  private lastRestart = 0;
  /** The media generation whose publisher was started (once per generation). */
  private publishedGeneration = -1;
  /** ICE credentials of server transports we abandoned (see fromAbandonedTransport). */
  private readonly staleUfrags = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private toastId = 0;

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
    this.store = new Store<AppState>({
      phase: 'prejoin',
      bootstrap,
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
    this.prefetchJoin();
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

  get phase(): Phase {
    return this.store.get().phase;
  }

  savedName(): string {
    return storage.get(NAME_PREF) ?? '';
  }

  // ---- joining -------------------------------------------------------------------------------

  /** Pre-join → join request → socket → welcome. `name` is required when the bootstrap says so. */
  async join(name?: string): Promise<void> {
    if (this.phase !== 'prejoin') return;
    const { bootstrap } = this.store.get();
    if (bootstrap.needsName) {
      const trimmed = name?.trim() ?? '';
      if (!trimmed) {
        this.store.set({ joinError: 'Enter your name to join.' });
        return;
      }
      this.name = trimmed;
      storage.set(NAME_PREF, trimmed);
    }
    this.store.set({ phase: 'joining', joinError: undefined });
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    const reply = (prefetched && !bootstrap.needsName ? await prefetched : undefined)?.fresh() ?? await this.requestJoin(this.name);
    if (reply.kind === 'refused') return this.finish(reply.state);
    if (reply.kind === 'failed') return this.joinFailed(reply.message);
    this.leaving = false;
    this.openSocket(`${WS_PATH}?token=${encodeURIComponent(reply.token)}`);
  }

  /**
   * A personal link needs no answer from the person before joining, so its join token is asked
   * for while the pre-join screen shows: pressing Join then goes straight to the socket.
   */
  private prefetched?: Promise<JoinReply>;

  private prefetchJoin(): void {
    if (this.store.get().bootstrap.link.kind === 'personal') this.prefetched = this.requestJoin(undefined);
  }

  private async requestJoin(name: string | undefined): Promise<JoinReply> {
    const { bootstrap } = this.store.get();
    const request: JoinRequest = { link: bootstrap.link, ...(bootstrap.needsName ? { name } : {}) };
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
    if (!response.ok) {
      const refusal = (await response.json().catch(() => undefined)) as JoinRefusal | undefined;
      if (refusal?.error?.state) return { kind: 'refused', state: refusal.error.state, fresh: () => undefined };
      const reason = refusal?.error?.message;
      return failed(reason ? `Could not join: ${reason}.` : `Could not join (the server answered ${response.status}). Try again.`);
    }
    const answer = (await response.json().catch(() => undefined)) as JoinResponse | undefined;
    if (!answer?.joinToken) return failed('The server gave an unexpected answer. Try again.');
    const usableUntil = Date.parse(answer.expiresAt) - 5000; // leave time to open the socket
    const reply: JoinReply = { kind: 'token', token: answer.joinToken, fresh: () => (Date.now() < usableUntil ? reply : undefined) };
    return reply;
  }

  /** From the "You left" / "Connection lost" pages: back in with the same name and devices. */
  async rejoin(): Promise<void> {
    this.resetRoom();
    this.store.set({ phase: 'prejoin', pageMessage: undefined });
    await this.local.start();
    await this.join(this.name);
  }

  private joinFailed(message: string): void {
    this.closeSocket();
    this.store.set({ phase: 'prejoin', joinError: message });
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
      if (message.type === 'welcome') welcomed = true;
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
    if (phase === 'joining') return this.joinFailed('Could not connect to the meeting. Try again.');
    if (phase !== 'room' && phase !== 'reconnecting') return;
    if (this.droppedAt === undefined) {
      this.droppedAt = Date.now();
      this.reconnectAttempt = 0;
      this.store.set({ phase: 'reconnecting' });
      this.setTimer('resumeWindow', RESUME_WINDOW_MS, () => this.connectionLost());
    }
    const left = RESUME_WINDOW_MS - (Date.now() - this.droppedAt);
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
    this.store.set({ phase: 'connection_lost' });
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
      case 'participantJoined':
        this.upsert(m.participant);
        return this.announce(`${m.participant.name} joined`);
      case 'participantUpdated':
        return this.upsert(m.participant);
      case 'participantLeft': {
        const { others, remote } = this.store.get();
        const gone = others.find((p) => p.id === m.participantId);
        const rest = new Map(remote);
        rest.delete(m.participantId);
        this.store.set({ others: others.filter((p) => p.id !== m.participantId), remote: rest });
        if (gone) this.announce(`${gone.name} left`);
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
        return this.restartMedia();
      case 'muteRequested':
        this.told.microphone = true; // the server already marked us muted
        this.local.setMicOn(false);
        return this.toast(`${m.by} muted your microphone. You can unmute yourself when you need to.`);
      case 'closed':
        if (this.leaving) return;
        // A resume the server no longer holds a seat for: our connection was lost too long.
        if (this.phase === 'reconnecting' && m.state === 'not_found') return this.connectionLost();
        return this.finish(m.state, m.message);
      case 'error':
        if (m.code === 'forbidden' || m.code === 'not_found') this.toast(m.message);
        else console.warn(`parley: server error ${m.code}: ${m.message}`);
        return;
      case 'pong':
        return;
    }
  }

  private onWelcome(m: Extract<ServerMessage, { type: 'welcome' }>): void {
    const wasReconnecting = this.droppedAt !== undefined;
    const handBefore = this.store.get().self?.handRaised;
    this.clearTimer('welcome');
    this.clearTimer('resumeWindow');
    this.clearTimer('reconnect');
    this.droppedAt = undefined;
    this.resumeToken = m.resumeToken;
    this.iceServers = m.iceServers;
    this.told = { microphone: m.self.audioMuted, camera: m.self.videoMuted, screen: !m.self.screenSharing };
    this.store.set({
      phase: 'room',
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
    this.publishedGeneration = generation;
    this.clearTimer('firstOffer');
    const tracks: Partial<Record<TrackSource, MediaStreamTrack | null>> = {};
    if (permissions.publishAudio) tracks.microphone = local.audioTrack ?? null;
    if (permissions.publishVideo) tracks.camera = local.videoTrack ?? null;
    if (permissions.shareScreen && local.screenTrack) tracks.screen = local.screenTrack;
    if (Object.keys(tracks).length === 0) return;
    const { send, watch, current } = this.mediaCallbacks(generation);
    const publisher = new Publisher(this.iceServers, send, watch);
    publisher.onError = (error) => {
      console.warn('parley: publishing failed', error);
      if (!current()) return;
      // A broken negotiation leaves the connection unusable: start over once, then say so.
      if (Date.now() - this.lastRestart > RESTART_BACKOFF_MS) this.restartMedia();
      else this.toast('Your camera and microphone could not be sent to the meeting. Others may not see or hear you.');
    };
    this.publisher = publisher;
    void publisher.start(tracks);
  }

  /** The media session is lost (a transport failed, or the server said so): start it over, same seat. */
  private restartMedia(): void {
    if (this.phase !== 'room') return;
    this.lastRestart = Date.now();
    this.closeMedia();
    this.send({ type: 'resetMedia' });
    this.startMedia();
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
    if (!this.publisher || !permissions) return;
    const allowed = source === 'microphone' ? permissions.publishAudio : source === 'camera' ? permissions.publishVideo : permissions.shareScreen;
    if (!allowed) return;
    this.publisher.setTrack(source, track).catch((error: unknown) => console.warn(`parley: could not switch the ${source}`, error));
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
    if (FINAL_PHASES.has(this.phase)) return;
    this.leaving = true;
    this.send({ type: 'leave' });
    this.teardown();
    this.store.set({ phase: 'left' });
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

  /** Shows a state page: the session is over for this page. */
  private finish(state: RoomState, message?: string): void {
    this.teardown();
    this.store.set({ phase: state, pageMessage: message });
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
    this.store.set({ self: undefined, others: [], permissions: undefined, chat: [], unreadChat: 0, panel: null, toasts: [] });
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
