import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../core/index.js';
import { MediaError, type MediaPeer, type MediaRoom, type MediaService, type SubscriberOffer } from '../media/index.js';
import type { ServerMessage } from '../protocol/messages.js';
import type { PresenceReports } from './presence-reports.js';
import type { LiveRoom, Session } from './session.js';

/**
 * The bridge between a seat and its media peer in a worker: opens the meeting's media room,
 * relays SDP offers, reports a connected transport as presence, and applies what the core says
 * the seat may send and what is held back (muted on the server).
 */
export class MediaBridge {
  constructor(
    private readonly core: Core,
    private readonly media: MediaService,
    private readonly presence: PresenceReports,
    private readonly log: FastifyBaseLogger,
  ) {}

  get running(): boolean {
    return this.media.running;
  }

  /** The seat's media peer, started if it has none (or it closed). */
  async peerOf(room: LiveRoom, session: Session): Promise<MediaPeer> {
    if (session.peer && !session.peer.closed) return session.peer;
    return this.start(room, session);
  }

  /** Closes the seat's media peer and starts a fresh one (the browser rebuilds its transports). */
  async restart(room: LiveRoom, session: Session): Promise<void> {
    const old = session.peer;
    session.peer = undefined;
    if (old) await old.close().catch(() => undefined);
    await this.start(room, session);
  }

  async start(room: LiveRoom, session: Session): Promise<MediaPeer> {
    const media = await this.mediaRoom(room);
    const peer = await media.addPeer(session.id, { canPublish: this.core.room.publishable(session.permissions, session.mutedByHost), held: held(session) });
    if (session.ended) {
      await peer.close();
      throw new MediaError('closed', 'the seat was given up');
    }
    session.peer = peer;
    session.transports = { publisher: undefined, subscriber: undefined };
    room.showConnection(session);
    peer.on('subscriberOffer', (offer) => {
      if (session.peer === peer) session.send(subscriberOffer(offer));
    });
    peer.on('videoPaused', () => {
      if (session.peer === peer) this.sendVideoPaused(session);
    });
    peer.on('connectionState', (transport, state) => {
      if (session.ended || session.peer !== peer) return;
      session.transports[transport] = state;
      // The page restarts ICE on a transport the server gave up on (`failed`).
      session.send({ type: 'mediaTransport', transport, state });
      room.showConnection(session);
      if (state !== 'connected' || session.present) return;
      session.present = true;
      void this.presence.report(session.meetingId, session.id, 'connected');
    });
    peer.on('closed', (reason) => {
      if (session.peer !== peer || session.ended) return;
      session.peer = undefined;
      // The worker went away (crash, restart), or the room needs this seat to publish in another
      // codec (`codec-change`): the browser sets up fresh transports.
      if (reason === 'worker-died' || reason === 'room-closed' || reason === 'codec-change') session.send({ type: 'mediaReset' });
    });
    this.resendOffer(session);
    if (session.videoSizes.length > 0) void peer.setVideoSizes(session.videoSizes).catch(() => undefined);
    // A fresh peer: whatever the page knew of paused videos was about the one before.
    if (!peer.videoPaused.length) this.sendVideoPaused(session);
    // Flags may have changed while the peer was being added (a mute, a settings change).
    await this.apply(session);
    return peer;
  }

  /** What the page shows each video in, for its simulcast layers (no peer yet: told when it starts). */
  async sendVideoSizes(session: Session): Promise<void> {
    if (session.peer && !session.peer.closed) await session.peer.setVideoSizes(session.videoSizes);
  }

  /** New ICE credentials on the seat's transports: the subscriber's come in a new offer. */
  async restartIce(room: LiveRoom, session: Session): Promise<void> {
    await (await this.peerOf(room, session)).requestSubscriberOffer({ iceRestart: true });
  }

  /**
   * What the browser may have missed (its socket was away, or it arrived before the peer was
   * kept): the offer waiting for its answer, and the videos it does not receive.
   */
  resendOffer(session: Session): void {
    const pending = session.peer?.pendingSubscriberOffer;
    if (pending) session.send(subscriberOffer(pending));
    if (session.peer?.videoPaused.length) this.sendVideoPaused(session);
  }

  private sendVideoPaused(session: Session): void {
    const videos = (session.peer?.videoPaused ?? []).map((v) => ({ participantId: v.peerId, source: v.source, reason: v.reason }));
    session.send({ type: 'videoPaused', videos });
  }

  /**
   * Makes the worker forward what the seat may publish (its permissions) and hold back what is
   * muted on the server (start muted, a moderator's mute, the person's own mute) until the person
   * turns it on. Holding keeps the subscribers' m-lines: a mute costs no renegotiation.
   */
  async apply(session: Session): Promise<void> {
    const peer = session.peer;
    if (!peer || peer.closed) return;
    const warn = (error: unknown) => {
      if (!peer.closed) this.log.warn({ err: error }, 'signaling: could not apply what the seat may send');
    };
    const want = this.core.room.publishable(session.permissions, session.mutedByHost);
    const now = peer.canPublish;
    if (want.audio !== now.audio || want.video !== now.video || want.screen !== now.screen) {
      await peer.setCanPublish(want).catch(warn);
    }
    const hold = held(session);
    const before = peer.held;
    if (hold.audio !== before.audio || hold.video !== before.video) await peer.setHeld(hold).catch(warn);
  }

  async mediaRoom(room: LiveRoom): Promise<MediaRoom> {
    if (room.media && !room.media.closed) return room.media;
    room.mediaOpening ??= this.media.openRoom(room.meetingId).then((media) => {
      room.mediaOpening = undefined;
      if (room.closed) {
        // The meeting closed (ended, idle, stopped) while its media room was opening: nobody
        // will close it later.
        void media.close().catch(() => undefined);
        throw new MediaError('closed', 'the meeting closed');
      }
      room.media = media;
      media.on('activeSpeaker', (peerId) => {
        room.activeSpeaker = peerId;
        room.broadcast({ type: 'activeSpeaker', participantId: peerId });
      });
      return media;
    }, (error: unknown) => {
      room.mediaOpening = undefined;
      throw error;
    });
    return room.mediaOpening;
  }
}

function held(session: Session) {
  return { audio: session.info.audioMuted, video: session.info.videoMuted };
}

function subscriberOffer(offer: SubscriberOffer): ServerMessage {
  return {
    type: 'subscriberOffer', sdp: offer.sdp,
    tracks: offer.tracks.map(({ mid, peerId, source, kind }) => ({ mid, participantId: peerId, source, kind })),
  };
}
