import { MEDIA_RESET_LIMIT, type ClientMessage, type IceServer, type RemoteTrack, type TrackSource } from '../protocol/messages.ts';
import { IceRecovery } from './ice-recovery.ts';
import { iceUfrags, Publisher, Subscriber, type ReceivedTrack } from './peers.ts';
import { StallWatch } from './stall-watch.ts';
import type { AppState, RemoteMedia } from './state.ts';
import type { Store } from './store.ts';
import type { Timers } from './timers.ts';

/** The first publish waits for the server's first subscriber offer (its media session is then ready), at most this long. */
const FIRST_OFFER_WAIT_MS = 1_500;
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

type TransportRole = 'publisher' | 'subscriber';
type ServerView = 'connected' | 'disconnected' | 'failed';

/**
 * This seat's audio and video: the publisher and subscriber transports, restarting ICE on them
 * when the network drops or changes (IceRecovery), and starting them over (backing off, within
 * the server's limit) when that does not bring them back.
 */
export class MediaSession {
  private publisher: Publisher | undefined;
  private subscriber: Subscriber | undefined;
  private iceServers: IceServer[] = [];
  /** Bumped whenever the peer connections are replaced; callbacks of older ones are ignored. */
  private generation = 0;
  /** The generation whose publisher was started (once per generation). */
  private publishedGeneration = -1;
  /** When media restarts were sent (newest last), for the backoff and the per-minute cap. */
  private restarts: number[] = [];
  /** Restarts in a row without a stable period between them. */
  private restartStreak = 0;
  /**
   * Too many restarts in a row: media is left as it is until the person presses "Try again" or
   * the server resets it (see retry).
   */
  private gaveUp = false;
  /** The generation when the person (or the server) asked to try again after giving up. */
  private retriedAt = -1;
  /** ICE credentials of server transports we abandoned (see fromAbandonedTransport). */
  private readonly staleUfrags = new Set<string>();
  /** How the server last said it sees each transport (`mediaTransport`). */
  private serverView: Partial<Record<TransportRole, ServerView>> = {};
  private readonly recovery: IceRecovery;
  private stallWatch: StallWatch | undefined;

  constructor(
    private readonly store: Store<AppState>,
    private readonly timers: Timers,
    private readonly send: (message: ClientMessage) => void,
    /** Media runs in the room only (not while reconnecting: the resumed welcome decides). */
    private readonly inRoom: () => boolean,
    /** The server refused a source the person sends: the room tells them. */
    private readonly onRefused: (source: TrackSource) => void,
    /** Checks that the signaling socket still answers (it may have died with the network). */
    private readonly probeSocket: (answered?: () => void) => void,
  ) {
    this.recovery = new IceRecovery(timers, {
      healthy: (view) => this.healthy(view),
      online: () => navigator.onLine !== false,
      restartIce: () => this.restartIce(),
      rebuild: () => this.restart(),
      probeSocket: () => probeSocket(),
    });
  }

  get publisherPc(): RTCPeerConnection | undefined {
    return this.publisher?.pc;
  }

  get subscriberPc(): RTCPeerConnection | undefined {
    return this.subscriber?.pc;
  }

  senderOf(source: TrackSource): RTCRtpSender | undefined {
    return this.publisher?.senderOf(source);
  }

  /**
   * STUN and this seat's TURN credentials: for transports made from now on, and for the live ones'
   * next ICE restart (their allocations made with older credentials keep working).
   */
  setIceServers(iceServers: IceServer[]): void {
    this.iceServers = iceServers;
    for (const pc of [this.publisher?.pc, this.subscriber?.pc]) {
      if (!pc || pc.signalingState === 'closed') continue;
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
      } catch (error) {
        console.warn('parley: new ICE servers refused', error);
      }
    }
  }

  /** New peer connections for this seat; we publish once the server's media session is ready. */
  start(): void {
    this.close();
    const generation = ++this.generation;
    const { send, watch, current } = this.callbacks(generation);
    this.subscriber = new Subscriber(this.iceServers, send, watch);
    this.subscriber.onTracks = (tracks) => {
      if (current()) this.remoteTracks(tracks);
    };
    // Nothing arrives any more: a socket that still answers means the media path alone is gone.
    this.stallWatch = new StallWatch(this.timers, this.subscriber.pc, () => {
      if (!current()) return;
      this.recovery.stalled();
      this.probeSocket(() => this.recovery.stalledWithSocket());
    }, () => this.recovery.flowing());
    this.subscriber.onError = (error) => {
      console.warn('parley: subscriber offer failed', error);
      if (current()) this.restart();
    };
    this.timers.set('firstOffer', FIRST_OFFER_WAIT_MS, () => this.startPublishing(generation));
  }

  close(): void {
    for (const t of [this.publisher, this.subscriber]) for (const ufrag of t?.remoteUfrags() ?? []) this.staleUfrags.add(ufrag);
    this.generation++;
    this.timers.clear('firstOffer');
    this.recovery.reset();
    this.stallWatch?.stop();
    this.stallWatch = undefined;
    this.serverView = {};
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = undefined;
    this.subscriber = undefined;
    this.store.set({ remote: new Map() });
  }

  /** A new seat: the restarts of the last one no longer count. */
  forget(): void {
    this.restarts = [];
    this.restartStreak = 0;
    this.gaveUp = false;
  }

  onPublishAnswer(sdp: string): void {
    if (!this.fromAbandonedTransport(sdp)) this.publisher?.onAnswer(sdp);
  }

  onSubscriberOffer(sdp: string, tracks: RemoteTrack[]): void {
    if (this.fromAbandonedTransport(sdp)) return;
    // Publishing waits until the first offer is answered: both negotiations at once made the
    // browser slower at the one that shows the others (seen: ~100 ms later first frame).
    const generation = this.generation;
    void this.subscriber?.handleOffer(sdp, tracks).then(() => this.startPublishing(generation));
  }

  /** The server rebuilt its side (`mediaReset`); once given up, that is news worth a fresh try. */
  onServerReset(): void {
    if (this.gaveUp) this.retry();
    else this.restart();
  }

  /**
   * The socket came back on the same seat: go on with the transports we have (true), restarting
   * ICE on any that is not connected; start over if they are closed (false).
   */
  resumed(): boolean {
    if (this.publisher?.closed || this.subscriber?.closed || !this.subscriber) {
      this.restart();
      return false;
    }
    this.publisher?.resume();
    this.recovery.resumed();
    return true;
  }

  /** The server's view of one of our transports (`mediaTransport`): it may ask for an ICE restart. */
  onServerTransport(transport: TransportRole, state: ServerView): void {
    this.serverView[transport] = state;
    this.recovery.transportState(state);
  }

  /** The browser's network came back or changed (`online`, `navigator.connection` change). */
  networkChanged(): void {
    if (this.inRoom() && this.subscriber) this.recovery.networkChanged();
  }

  /**
   * Every transport we have is connected, and the server hears them. `ours`: our own view only,
   * and the server's only if it gave up (`failed`); right after a socket resumes, its
   * `disconnected` of the drop may still be on its way and is not news.
   */
  private healthy(view: 'both' | 'ours' = 'both'): boolean {
    const ours = [this.subscriber, this.publisher?.isStarted ? this.publisher : undefined];
    if (ours.some((t) => t && t.pc.connectionState !== 'connected')) return false;
    return !Object.values(this.serverView).some((s) => s === 'failed' || (view === 'both' && s !== 'connected'));
  }

  /** New ICE credentials on both transports: the server re-offers the subscriber, we re-offer the publisher. */
  restartIce(): void {
    if (!this.inRoom() || this.gaveUp || !this.subscriber) return;
    this.send({ type: 'restartIce' });
    void this.publisher?.restartIce();
  }

  /**
   * The media session is lost (a transport failed, an offer could not be applied, or the server
   * said so): start it over, same seat. Restarts in a row back off and stop after a few, so a
   * page that cannot get media does not keep the server rebuilding it.
   */
  restart(): void {
    if (!this.inRoom() || this.gaveUp || this.timers.has('restartMedia')) return;
    const now = Date.now();
    const last = this.restarts.at(-1);
    if (last === undefined || now - last > RESTART_STABLE_MS) this.restartStreak = 0;
    if (this.restartStreak >= MEDIA_RESET_LIMIT.count) {
      this.gaveUp = true;
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
      if (!this.inRoom()) return;
      this.close();
      this.send({ type: 'resetMedia' });
      this.start();
    };
    if (delay <= 0) restart();
    else this.timers.set('restartMedia', delay, restart);
  }

  /**
   * After giving up on media: start over with a fresh run of restarts (still backing off, and
   * never more a minute than the server takes). The person's "Try again", or the server's own
   * `mediaReset` (its side was rebuilt, e.g. a media worker came back).
   */
  retry(): void {
    if (!this.inRoom() || !this.gaveUp) return;
    this.gaveUp = false;
    this.restartStreak = 0;
    this.retriedAt = this.generation;
    this.store.set({ mediaProblem: 'retrying' });
    this.restart();
  }

  /** A local track came or went (device switch, screen share, mute): send it, if we may. */
  localTrackChanged(source: TrackSource, track: MediaStreamTrack | null): void {
    const permissions = this.store.get().permissions;
    if (!permissions) return;
    const allowed = source === 'microphone' ? permissions.publishAudio : source === 'camera' ? permissions.publishVideo : permissions.shareScreen;
    if (!allowed && track) return;
    if (!this.publisher) {
      // Allowed to send only since a settings change: the first track starts the publisher.
      if (track && this.inRoom() && this.subscriber) this.startPublishing(this.generation);
      return;
    }
    this.publisher.setTrack(source, track).catch((error: unknown) => console.warn(`parley: could not switch the ${source}`, error));
  }

  /** Callbacks for the transports of one generation: silent once it is replaced. */
  private callbacks(generation: number) {
    const current = () => generation === this.generation;
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
    if (generation !== this.generation || this.publishedGeneration === generation || !permissions) return;
    this.timers.clear('firstOffer');
    const tracks: Partial<Record<TrackSource, MediaStreamTrack | null>> = {};
    if (permissions.publishAudio) tracks.microphone = local.audioTrack ?? null;
    if (permissions.publishVideo) tracks.camera = local.videoTrack ?? null;
    if (permissions.shareScreen && local.screenTrack) tracks.screen = local.screenTrack;
    // Nothing to send (yet): a later permission change may start the publisher.
    if (Object.keys(tracks).length === 0) return;
    this.publishedGeneration = generation;
    const { send, watch, current } = this.callbacks(generation);
    const publisher = new Publisher(this.iceServers, send, watch);
    publisher.onRefused = (source) => {
      if (current()) this.onRefused(source);
    };
    publisher.onError = (error) => {
      console.warn('parley: publishing failed', error);
      // A broken negotiation leaves the connection unusable: start over (with backoff, capped).
      if (current()) this.restart();
    };
    this.publisher = publisher;
    void publisher.start(tracks);
  }

  /**
   * After a media reset, an offer or answer of the server's previous transports can still arrive
   * (it was on the wire, or is re-sent on resume); it carries their ICE credentials, and is skipped.
   */
  private fromAbandonedTransport(sdp: string): boolean {
    return iceUfrags(sdp).some((u) => this.staleUfrags.has(u));
  }

  private transportState(state: RTCPeerConnectionState): void {
    if (state === 'failed') console.warn('parley: a media transport failed; restarting ICE');
    // With the socket down, the resumed welcome decides (resumed()).
    if (this.inRoom() && (state === 'failed' || state === 'disconnected' || state === 'connected')) this.recovery.transportState(state);
    if (state === 'connected') {
      // Connected on transports made after "Try again": the trouble is over.
      if (this.store.get().mediaProblem === 'retrying' && this.generation > this.retriedAt) this.store.set({ mediaProblem: undefined });
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
}
