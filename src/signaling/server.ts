import type {} from '@fastify/websocket'; // its types add { websocket: true } routes to Fastify
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CoreError, type Core, type CoreEvents, type LinkState } from '../core/index.js';
import { randomBase62 } from '../core/secrets.js';
import { MediaError, type MediaPeer, type MediaRoom, type MediaService } from '../media/index.js';
import type { ParticipantRecord } from '../store/index.js';
import {
  JOIN_PATH, PING_INTERVAL_MS, RESUME_WINDOW_MS, WS_PATH,
  type ClientMessage, type IceServer, type JoinResponse, type Permissions, type RoomLink, type RoomState,
} from './messages.js';
import { parseClientMessage, parseJoinRequest, ProtocolError } from './parse.js';
import { LiveRoom, Session } from './session.js';

export interface SignalingOptions {
  core: Core;
  media: MediaService;
  log: FastifyBaseLogger;
  /** Given to browsers (and used by media) — none unless the operator configures some. */
  iceServers: IceServer[];
  /** An empty room ends (status 12) after this long. */
  idleTimeoutMs: number;
  resumeWindowMs?: number;
  joinTokenTtlMs?: number;
}

interface PendingJoin {
  link: RoomLink;
  meetingId: string;
  participant: ParticipantRecord;
  permissions: Permissions;
  title: string;
  expires: number;
}

/** What a page shows when the core closes a live meeting, by the core's reason. */
const CLOSED_STATE: Record<CoreEvents['meeting.closed']['reason'], { state: RoomState; message: string }> = {
  host_ended: { state: 'ended', message: 'The host ended the meeting for everyone.' },
  scheduled_end: { state: 'ended', message: 'The meeting’s scheduled time is over.' },
  idle: { state: 'ended', message: 'The meeting ended.' },
  cancelled: { state: 'cancelled', message: 'The meeting was cancelled.' },
  disabled: { state: 'disabled', message: 'The meeting was disabled.' },
  service_stopped: { state: 'service_stopped', message: 'The video service was stopped.' },
  removed: { state: 'ended', message: 'The meeting was deleted.' },
  reset: { state: 'ended', message: 'The meeting was reset by its organiser.' },
};

/**
 * Browser ↔ server: join tokens, one WebSocket per person, SDP relay to the media workers, and
 * presence reported to the core. It keeps only live, in-memory state; the core decides who may
 * enter and records what happened.
 */
export class SignalingServer {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly pendingJoins = new Map<string, PendingJoin>();
  private readonly byResumeToken = new Map<string, Session>();
  private readonly resumeWindowMs: number;
  private readonly joinTokenTtlMs: number;
  private readonly unsubscribe: (() => void)[] = [];
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly options: SignalingOptions) {
    this.resumeWindowMs = options.resumeWindowMs ?? RESUME_WINDOW_MS;
    this.joinTokenTtlMs = options.joinTokenTtlMs ?? 60_000;
    const { core } = options;
    this.unsubscribe.push(
      core.events.on('meeting.closed', (e) => this.closeRoom(e.meetingId, CLOSED_STATE[e.reason])),
      core.events.on('participant.revoked', (e) => {
        const session = this.rooms.get(e.meetingId)?.sessions.get(e.participantId);
        if (session) void this.endSession(session, { state: 'invitation_cancelled', message: 'Your invitation was cancelled.' });
      }),
    );
    this.sweeper = setInterval(() => this.sweep(), PING_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** People in a meeting's room on this node now. */
  connectedCount(meetingId: string): number {
    return this.rooms.get(meetingId)?.sessions.size ?? 0;
  }

  register(app: FastifyInstance): void {
    app.post(JOIN_PATH, async (request, reply) => {
      try {
        const { link, name } = parseJoinRequest(request.body);
        const resolved = await this.options.core.access.resolve(link);
        const admission = await this.options.core.access.admit(link, name, resolved ? this.connectedCount(resolved.meeting.id) : 0);
        const joinToken = randomBase62(32);
        const expires = Date.now() + this.joinTokenTtlMs;
        this.pendingJoins.set(joinToken, {
          link,
          meetingId: admission.meeting.id,
          participant: admission.participant,
          permissions: admission.permissions,
          title: admission.meeting.title || admission.meeting.key,
          expires,
        });
        const answer: JoinResponse = { joinToken, expiresAt: new Date(expires).toISOString() };
        return answer;
      } catch (error) {
        if (error instanceof ProtocolError) return reply.status(400).send({ error: { code: 'invalid', message: error.message } });
        if (error instanceof CoreError) {
          const state = error.details?.state as LinkState | undefined;
          const status = error.code === 'invalid' ? 400 : error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 403;
          return reply.status(status).send({ error: { code: error.code, message: error.messageFor(), ...(state && state !== 'room' ? { state } : {}) } });
        }
        throw error;
      }
    });

    app.get(WS_PATH, { websocket: true }, (socket, request) => {
      void this.accept(socket, request).catch((error: unknown) => {
        this.options.log.error({ err: error }, 'signaling: could not accept a socket');
        socket.close(1011, 'internal error');
      });
    });
  }

  /** Closes every room (server shutdown). */
  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.all([...this.rooms.keys()].map((id) => this.closeRoom(id, { state: 'service_stopped', message: 'The server is shutting down.' })));
  }

  /** The media service stopped: everyone in a room is told, whatever the meeting's status. */
  async serviceStopped(): Promise<void> {
    await Promise.all([...this.rooms.keys()].map((id) => this.closeRoom(id, CLOSED_STATE.service_stopped)));
  }

  // ---- sockets -------------------------------------------------------------------------------

  private async accept(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const query = request.query as { token?: string; resume?: string };
    if (query.resume) return this.resume(socket, query.resume);
    const pending = query.token ? this.pendingJoins.get(query.token) : undefined;
    if (query.token) this.pendingJoins.delete(query.token);
    if (!pending || pending.expires < Date.now()) {
      return this.refuse(socket, 'not_found', 'This join token is unknown or expired; open the link again.');
    }
    if (!this.options.media.running) return this.refuse(socket, 'service_stopped', 'The video service is stopped.');
    // The token may have been fetched a while ago (the page asks for it before Join is pressed):
    // the meeting may have ended or the invitation been cancelled since.
    const now = await this.options.core.access.resolve(pending.link);
    const state = now?.state ?? 'not_found';
    if (state !== 'room') return this.refuse(socket, state, 'This meeting can no longer be joined from this link.');

    let room = this.rooms.get(pending.meetingId);
    if (!room) {
      room = new LiveRoom(pending.meetingId, pending.title);
      this.rooms.set(pending.meetingId, room);
    }
    if (room.idleTimer) {
      clearTimeout(room.idleTimer);
      room.idleTimer = undefined;
    }
    const previous = room.sessions.get(pending.participant.id);
    if (previous) await this.endSession(previous, { state: 'removed', message: 'You joined this meeting from another window.' }, { recordLeave: false });

    const p = pending.participant;
    const session = new Session(pending.meetingId, {
      id: p.id, name: p.name, role: p.role,
      audioMuted: pending.permissions.startAudioMuted || !pending.permissions.publishAudio,
      videoMuted: pending.permissions.startVideoOff || !pending.permissions.publishVideo,
      screenSharing: false, handRaised: false,
    }, pending.permissions, randomBase62(32));
    if (previous?.present) session.present = true; // the seat moved to this window; it was never left
    room.sessions.set(session.id, session);
    this.byResumeToken.set(session.resumeToken, session);
    this.attach(session, socket);

    session.send(this.welcome(room, session, false));
    room.broadcast({ type: 'participantJoined', participant: session.info }, session.id);
    await session.run(async () => { await this.startMedia(room, session); });
  }

  private async resume(socket: WebSocket, token: string): Promise<void> {
    const session = this.byResumeToken.get(token);
    const room = session && this.rooms.get(session.meetingId);
    if (!session || !room || session.ended) {
      return this.refuse(socket, 'not_found', 'This seat is no longer held; join the meeting again.');
    }
    this.byResumeToken.delete(token);
    session.resumeToken = randomBase62(32);
    this.byResumeToken.set(session.resumeToken, session);
    if (session.resumeTimer) {
      clearTimeout(session.resumeTimer);
      session.resumeTimer = undefined;
    }
    if (session.socket) {
      session.socket.removeAllListeners();
      session.socket.close(4000, 'replaced by a resumed connection');
    }
    this.attach(session, socket);
    session.send(this.welcome(room, session, true));
    // An offer the browser may have missed while away.
    const offer = session.peer?.pendingSubscriberOffer;
    if (offer) session.send({ type: 'subscriberOffer', sdp: offer.sdp, tracks: offer.tracks.map(({ mid, peerId, source, kind }) => ({ mid, participantId: peerId, source, kind })) });
  }

  private refuse(socket: WebSocket, state: RoomState, message: string): void {
    socket.send(JSON.stringify({ type: 'closed', state, message }));
    socket.close(4001, state);
  }

  private attach(session: Session, socket: WebSocket): void {
    session.socket = socket;
    session.lastSeen = Date.now();
    socket.on('message', (data, isBinary) => {
      session.lastSeen = Date.now();
      if (isBinary) return session.send({ type: 'error', code: 'invalid', message: 'messages must be JSON text' });
      let message: ClientMessage;
      try {
        message = parseClientMessage(data.toString());
      } catch (error) {
        return session.send({ type: 'error', code: 'invalid', message: (error as Error).message });
      }
      // Pings answer at once; everything else waits its turn.
      const done = message.type === 'ping' ? this.handle(session, message) : session.run(() => this.handle(session, message));
      void done.catch((error: unknown) => {
        if (error instanceof MediaError || error instanceof CoreError) {
          session.send({ type: 'error', code: error.code, message: error.message });
        } else {
          this.options.log.error({ err: error, type: message.type }, 'signaling: message failed');
          session.send({ type: 'error', code: 'internal', message: 'the server could not handle that message' });
        }
      });
    });
    socket.on('close', () => {
      if (session.socket !== socket || session.ended) return;
      session.socket = undefined;
      // Keep the seat: the browser comes back with its resume token, or the seat is given up.
      session.resumeTimer = setTimeout(() => {
        void this.endSession(session, undefined);
      }, this.resumeWindowMs);
      session.resumeTimer.unref();
    });
    socket.on('error', (error) => this.options.log.warn({ err: error }, 'signaling: socket error'));
  }

  private welcome(room: LiveRoom, session: Session, resumed: boolean) {
    return {
      type: 'welcome' as const,
      self: session.info,
      participants: room.others(session.id),
      permissions: session.permissions,
      iceServers: this.options.iceServers,
      resumeToken: session.resumeToken,
      resumed,
      meeting: { title: room.title },
      chat: room.chat,
      activeSpeaker: room.activeSpeaker,
    };
  }

  /** Drops sockets that stopped talking (no ping for three intervals); their seat waits for a resume. */
  private sweep(): void {
    const limit = Date.now() - 3 * PING_INTERVAL_MS;
    for (const room of this.rooms.values()) {
      for (const session of room.sessions.values()) {
        if (session.socket && session.lastSeen < limit) session.socket.terminate();
      }
    }
    const now = Date.now();
    for (const [token, pending] of this.pendingJoins) if (pending.expires < now) this.pendingJoins.delete(token);
  }

  // ---- messages ------------------------------------------------------------------------------

  private async handle(session: Session, m: ClientMessage): Promise<void> {
    const room = this.rooms.get(session.meetingId);
    if (!room || session.ended) return;
    switch (m.type) {
      case 'ping':
        return session.send({ type: 'pong', t: m.t });
      case 'publish': {
        const peer = await this.requirePeer(room, session);
        const answer = await peer.publish(m.sdp, m.sources);
        session.send({ type: 'publishAnswer', sdp: answer.sdp });
        return;
      }
      case 'subscriberAnswer':
        return (await this.requirePeer(room, session)).subscriberAnswer(m.sdp);
      case 'ice':
        return (await this.requirePeer(room, session)).addIceCandidate(m.transport, m.candidate);
      case 'resetMedia': {
        const old = session.peer;
        session.peer = undefined;
        if (old) await old.close().catch(() => undefined);
        await this.startMedia(room, session);
        return;
      }
      case 'setMuted': {
        if (m.source === 'microphone') session.info.audioMuted = m.muted || !session.permissions.publishAudio;
        if (m.source === 'camera') session.info.videoMuted = m.muted || !session.permissions.publishVideo;
        if (m.source === 'screen') session.info.screenSharing = !m.muted && session.permissions.shareScreen;
        room.broadcast({ type: 'participantUpdated', participant: session.info });
        return;
      }
      case 'raiseHand':
        session.info.handRaised = m.raised;
        room.broadcast({ type: 'participantUpdated', participant: session.info });
        return;
      case 'chat': {
        if (!session.permissions.chat) return session.send({ type: 'error', code: 'forbidden', message: 'you may not chat in this meeting' });
        const message = { id: randomBase62(12), from: session.id, name: session.info.name, text: m.text, at: new Date().toISOString() };
        room.addChat(message);
        room.broadcast({ type: 'chat', message });
        return;
      }
      case 'moderate': {
        if (!session.permissions.moderate) return session.send({ type: 'error', code: 'forbidden', message: 'only hosts and moderators may do that' });
        const target = room.sessions.get(m.participantId);
        if (!target || target === session) return session.send({ type: 'error', code: 'not_found', message: 'no such participant in the room' });
        if (m.action === 'mute') {
          target.info.audioMuted = true;
          target.send({ type: 'muteRequested', by: session.info.name });
          room.broadcast({ type: 'participantUpdated', participant: target.info });
        } else {
          await this.endSession(target, { state: 'removed', message: `${session.info.name} removed you from the meeting.` });
        }
        return;
      }
      case 'endForAll': {
        if (!session.permissions.moderate) return session.send({ type: 'error', code: 'forbidden', message: 'only hosts and moderators may end the meeting' });
        const meeting = await this.options.core.store.meetings.get(session.meetingId);
        if (meeting) await this.options.core.meetings.endForAll(meeting); // the core's meeting.closed event closes the room
        return;
      }
      case 'leave':
        return this.endSession(session, { state: 'ended', message: 'You left the meeting.' });
    }
  }

  // ---- media -------------------------------------------------------------------------------

  private async mediaRoom(room: LiveRoom): Promise<MediaRoom> {
    if (room.media && !room.media.closed) return room.media;
    room.mediaOpening ??= this.options.media.openRoom(room.meetingId).then((media) => {
      room.media = media;
      room.mediaOpening = undefined;
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

  private async requirePeer(room: LiveRoom, session: Session): Promise<MediaPeer> {
    if (session.peer && !session.peer.closed) return session.peer;
    return this.startMedia(room, session);
  }

  private async startMedia(room: LiveRoom, session: Session): Promise<MediaPeer> {
    const media = await this.mediaRoom(room);
    const { permissions } = session;
    const peer = await media.addPeer(session.id, {
      canPublish: { audio: permissions.publishAudio, video: permissions.publishVideo, screen: permissions.shareScreen },
    });
    if (session.ended) {
      await peer.close();
      throw new MediaError('closed', 'the seat was given up');
    }
    session.peer = peer;
    peer.on('subscriberOffer', (offer) => {
      if (session.peer !== peer) return;
      session.send({
        type: 'subscriberOffer', sdp: offer.sdp,
        tracks: offer.tracks.map(({ mid, peerId, source, kind }) => ({ mid, participantId: peerId, source, kind })),
      });
    });
    peer.on('connectionState', (_transport, state) => {
      if (state !== 'connected' || session.present || session.ended || session.peer !== peer) return;
      session.present = true;
      void this.options.core.presence.connected(session.meetingId, session.id)
        .catch((error: unknown) => this.options.log.warn({ err: error }, 'signaling: presence.connected failed'));
    });
    peer.on('closed', (reason) => {
      if (session.peer !== peer || session.ended) return;
      session.peer = undefined;
      // The worker went away (crash, restart): the browser sets up fresh transports.
      if (reason === 'worker-died' || reason === 'room-closed') session.send({ type: 'mediaReset' });
    });
    const pending = peer.pendingSubscriberOffer;
    if (pending) {
      session.send({
        type: 'subscriberOffer', sdp: pending.sdp,
        tracks: pending.tracks.map(({ mid, peerId, source, kind }) => ({ mid, participantId: peerId, source, kind })),
      });
    }
    return peer;
  }

  // ---- leaving -----------------------------------------------------------------------------

  /**
   * Gives up a seat: tells the page why (unless `closed` is undefined: the socket is already
   * gone), closes its media, records that the person left, and lets the room go idle.
   */
  private async endSession(
    session: Session,
    closed: { state: RoomState; message: string } | undefined,
    opts: { recordLeave?: boolean } = {},
  ): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    if (session.resumeTimer) clearTimeout(session.resumeTimer);
    this.byResumeToken.delete(session.resumeToken);
    const room = this.rooms.get(session.meetingId);
    if (room?.sessions.get(session.id) === session) room.sessions.delete(session.id);
    if (closed) session.send({ type: 'closed', ...closed });
    session.socket?.close(1000, closed?.state ?? 'left');
    const peer = session.peer;
    session.peer = undefined;
    await peer?.close().catch(() => undefined);
    room?.broadcast({ type: 'participantLeft', participantId: session.id });
    if (session.present && opts.recordLeave !== false) {
      await this.options.core.presence.left(session.meetingId, session.id)
        .catch((error: unknown) => this.options.log.warn({ err: error }, 'signaling: presence.left failed'));
    }
    if (room && room.sessions.size === 0 && !room.closed) this.startIdleTimer(room);
  }

  private startIdleTimer(room: LiveRoom): void {
    if (room.idleTimer) clearTimeout(room.idleTimer);
    room.idleTimer = setTimeout(() => {
      if (room.sessions.size > 0) return;
      this.rooms.delete(room.meetingId);
      room.closed = true;
      void room.media?.close().catch(() => undefined);
      void this.options.core.presence.idle(room.meetingId)
        .catch((error: unknown) => this.options.log.warn({ err: error }, 'signaling: presence.idle failed'));
    }, this.options.idleTimeoutMs);
    room.idleTimer.unref();
  }

  private async closeRoom(meetingId: string, closed: { state: RoomState; message: string }): Promise<void> {
    const room = this.rooms.get(meetingId);
    if (!room) return;
    room.closed = true;
    this.rooms.delete(meetingId);
    if (room.idleTimer) clearTimeout(room.idleTimer);
    await Promise.all([...room.sessions.values()].map((s) => this.endSession(s, closed)));
    await room.media?.close().catch(() => undefined);
  }
}
