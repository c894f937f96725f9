import type {} from '@fastify/websocket'; // its types add { websocket: true } routes to Fastify
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_STATUS } from '../api/http/errors.js';
import type { WebSocket } from 'ws';
import { CoreError, time, type Core, type CoreEvents, type LinkState } from '../core/index.js';
import { randomBase62 } from '../core/secrets.js';
import { MediaError, type CanPublish, type HeldSources, type MediaPeer, type MediaRoom, type MediaService } from '../media/index.js';
import type { MeetingRecord, ParticipantRecord } from '../store/index.js';
import {
  INVITATION_PATH, JOIN_PATH, MEDIA_RESET_LIMIT, PING_INTERVAL_MS, RESUME_WINDOW_MS, WS_PATH,
  type ClientMessage, type IceServer, type InvitationResponse, type JoinResponse, type Permissions, type RoomLink, type RoomState,
  type StartTime,
} from '../protocol/messages.js';
import { parseClientMessage, parseInvitationRequest, parseJoinRequest, ProtocolError } from './parse.js';
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
  accountId: string;
  /** The meeting has a lobby and this person must be let in. */
  lobby: boolean;
  /** ms epoch before which the token does not open a socket */
  notBefore: number;
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

/** What the older page shows when the same person takes their seat from another window or tab. */
const JOINED_ELSEWHERE = { state: 'joined_elsewhere', message: 'You joined this meeting from another window or tab.' } as const;

/**
 * Browser ↔ server: join tokens, one WebSocket per person, SDP relay to the media workers, and
 * presence reported to the core. It keeps only live, in-memory state; the core decides who may
 * enter and records what happened.
 */
export class SignalingServer {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly pendingJoins = new Map<string, PendingJoin>();
  private readonly byResumeToken = new Map<string, Session>();
  /**
   * Seats closed while their page may still come back (its socket down, or the `closed` lost on
   * the way): resume token → what to tell it, kept for the resume window.
   */
  private readonly tombstones = new Map<string, { state: RoomState; message: string; expires: number }>();
  private readonly resumeWindowMs: number;
  private readonly joinTokenTtlMs: number;
  private readonly unsubscribe: (() => void)[] = [];
  private sweeper?: NodeJS.Timeout;
  /** Sockets between their token check and their seat, by meeting: the room is not empty for them. */
  private readonly arriving = new Map<string, number>();
  /**
   * Each seat's presence reports to the core, in order (key: meeting and participant): a
   * "left" never overtakes the "connected" before it, whatever the database's timing.
   */
  private readonly presenceChains = new Map<string, Promise<void>>();

  constructor(private readonly options: SignalingOptions) {
    this.resumeWindowMs = options.resumeWindowMs ?? RESUME_WINDOW_MS;
    this.joinTokenTtlMs = options.joinTokenTtlMs ?? 60_000;
    const { core } = options;
    this.unsubscribe.push(
      core.presence.attachRooms({ occupied: (meetingId) => this.occupied(meetingId) }),
      core.events.on('meeting.closed', (e) => this.closeRoom(e.meetingId, CLOSED_STATE[e.reason])),
      core.events.on('meeting.changed', (e) => this.settingsChanged((room) => room.meetingId === e.meetingId)),
      // Any preset of the account may be someone's (their own, the meeting's, guests'…): recompute all.
      core.events.on('preset.changed', (e) => this.settingsChanged((room) => room.accountId === e.accountId)),
      core.events.on('participant.revoked', (e) => {
        const room = this.rooms.get(e.meetingId);
        const session = room?.sessions.get(e.participantId);
        if (session) void this.endSession(session, { state: 'invitation_cancelled', message: 'Your invitation was cancelled.' });
        const waiting = room?.lobby.get(e.participantId);
        if (waiting) {
          waiting.send({ type: 'closed', state: 'invitation_cancelled', message: 'Your invitation was cancelled.' });
          waiting.socket?.close(1000, 'invitation cancelled');
        }
      }),
    );
    this.sweeper = setInterval(() => this.sweep(), PING_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** People in a meeting's room on this node now. */
  connectedCount(meetingId: string): number {
    return this.rooms.get(meetingId)?.sessions.size ?? 0;
  }

  /** Anyone in the meeting's room on this node, in its lobby, or on their way in. */
  private occupied(meetingId: string): boolean {
    const room = this.rooms.get(meetingId);
    return (room !== undefined && !room.empty) || (this.arriving.get(meetingId) ?? 0) > 0;
  }

  register(app: FastifyInstance): void {
    app.post(JOIN_PATH, async (request, reply) => {
      let resolved: Awaited<ReturnType<Core['access']['resolve']>>;
      try {
        const { link, name, pin, login, signup } = parseJoinRequest(request.body);
        resolved = await this.options.core.access.resolve(link);
        const connected = resolved ? this.connectedCount(resolved.meeting.id) : 0;
        const admission = await this.options.core.access.admit(link, { name, pin, login, signup }, connected, request.ip);
        const joinToken = randomBase62(32);
        const expires = Math.max(Date.now(), admission.notBefore.getTime()) + this.joinTokenTtlMs;
        this.pendingJoins.set(joinToken, {
          link,
          meetingId: admission.meeting.id,
          accountId: admission.meeting.accountId,
          participant: admission.participant,
          permissions: admission.permissions,
          title: admission.meeting.title || admission.meeting.key,
          lobby: admission.lobby,
          notBefore: admission.notBefore.getTime(),
          expires,
        });
        const answer: JoinResponse = {
          joinToken, notBefore: admission.notBefore.toISOString(), expiresAt: new Date(expires).toISOString(), serverTime: new Date().toISOString(),
        };
        return answer;
      } catch (error) {
        return this.refuseHttp(error, reply, resolved?.meeting);
      }
    });

    app.post(INVITATION_PATH, async (request, reply) => {
      try {
        const { token, answer } = parseInvitationRequest(request.body);
        const participant = await this.options.core.access.respond(token, answer === 'accept' ? 'accepted' : 'declined');
        const response: InvitationResponse = { invitation: participant.status === 3 ? 'declined' : 'invited' };
        return response;
      } catch (error) {
        return this.refuseHttp(error, reply);
      }
    });

    app.get(WS_PATH, { websocket: true }, (socket, request) => {
      void this.accept(socket, request).catch((error: unknown) => {
        this.options.log.error({ err: error }, 'signaling: could not accept a socket');
        socket.close(1011, 'internal error');
      });
    });
  }

  /**
   * A refused join or invitation answer, as JoinRefusal. `meeting`: the one the link leads to,
   * so that "not started" says when it starts.
   */
  private async refuseHttp(error: unknown, reply: FastifyReply, meeting?: MeetingRecord) {
    if (error instanceof ProtocolError) return reply.status(400).send({ error: { code: 'invalid', message: error.message } });
    if (!(error instanceof CoreError)) throw error;
    const state = error.details?.state as LinkState | undefined;
    const retryAfterSeconds = error.details?.retryAfterSeconds as number | undefined;
    if (retryAfterSeconds) reply.header('Retry-After', String(retryAfterSeconds));
    const start = state === 'not_started' ? await this.startTime(meeting) : {};
    return reply.status(HTTP_STATUS[error.code]).send({
      error: {
        code: error.code, message: error.messageFor(),
        ...(state && state !== 'room' ? { state } : {}),
        ...(error.field ? { field: error.field } : {}),
        ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
        ...start,
      },
    });
  }

  /** When a meeting starts, as a page that must wait for it shows it (none: it has no start time). */
  private async startTime(meeting: MeetingRecord | undefined): Promise<StartTime> {
    if (!meeting?.startsAt) return {};
    const { timeZone } = await this.options.core.accounts.get(meeting.accountId);
    return { startsAt: meeting.startsAt.toISOString(), startsAtText: time.formatStart(meeting.startsAt, timeZone) };
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
    // From here until the seat is taken (or refused), the room counts as occupied: an idle
    // end must not run between our checks and the seat.
    const meetingId = pending.meetingId;
    this.arriving.set(meetingId, (this.arriving.get(meetingId) ?? 0) + 1);
    try {
      await this.arrive(socket, pending);
    } finally {
      const left = (this.arriving.get(meetingId) ?? 1) - 1;
      if (left > 0) this.arriving.set(meetingId, left);
      else this.arriving.delete(meetingId);
      const room = this.rooms.get(meetingId);
      // Refused after all: an empty room goes idle again.
      if (room && room.empty && !room.closed && !room.idleTimer) this.startIdleTimer(room);
    }
  }

  private async arrive(socket: WebSocket, pending: PendingJoin): Promise<void> {
    if (!this.options.media.running) return this.refuse(socket, 'service_stopped', 'The video service is stopped.');
    // The token may have been fetched a while ago (the page asks for it before Join is pressed):
    // the meeting may have ended or the invitation been cancelled since.
    const now = await this.options.core.access.resolve(pending.link);
    const state = now?.state ?? 'not_found';
    if (Date.now() < pending.notBefore - 1000 || state === 'not_started') {
      // Early, or rescheduled since the token was issued: the page counts down to the start.
      return this.refuse(socket, 'not_started', 'The meeting has not started yet.', await this.startTime(now?.meeting));
    }
    if (state !== 'room') return this.refuse(socket, state, 'This meeting can no longer be joined from this link.');

    let room = this.rooms.get(pending.meetingId);
    if (!room) {
      room = new LiveRoom(pending.meetingId, pending.accountId, pending.title);
      this.rooms.set(pending.meetingId, room);
    }
    if (room.idleTimer) {
      clearTimeout(room.idleTimer);
      room.idleTimer = undefined;
    }
    const p = pending.participant;
    const session = new Session(pending.meetingId, {
      id: p.id, name: p.name, role: p.role,
      audioMuted: pending.permissions.startAudioMuted || !pending.permissions.publishAudio,
      videoMuted: pending.permissions.startVideoOff || !pending.permissions.publishVideo,
      screenSharing: false, handRaised: false,
    }, pending.permissions, randomBase62(32));
    // The lobby as the meeting has it now (it may have been turned on or off since the token).
    const lobby = now ? now.meeting.lobby && !pending.permissions.moderate : pending.lobby;
    if (lobby && !room.sessions.has(session.id)) return this.wait(room, session, socket);
    const capacity = now?.meeting.maxParticipants ?? null;
    if (!(await this.seat(room, session, socket, capacity))) {
      this.refuse(socket, 'full', `The meeting is full (${capacity} people).`);
    }
  }

  /** Into the lobby: the socket stays open, nothing else happens until a moderator decides. */
  private wait(room: LiveRoom, session: Session, socket: WebSocket): void {
    const before = room.lobby.get(session.id);
    if (before?.socket) this.refuse(before.socket, JOINED_ELSEWHERE.state, JOINED_ELSEWHERE.message);
    room.lobby.set(session.id, session);
    session.socket = socket;
    const onMessage = (data: Buffer) => {
      session.lastSeen = Date.now();
      let message: ClientMessage;
      try {
        message = parseClientMessage(data.toString());
      } catch {
        return;
      }
      if (message.type === 'ping') session.send({ type: 'pong', t: message.t });
      if (message.type === 'leave') socket.close(1000, 'left the lobby');
    };
    const onClose = () => {
      if (room.lobby.get(session.id) !== session) return;
      room.lobby.delete(session.id);
      room.lobbyChanged();
      if (room.empty && !room.closed) this.startIdleTimer(room);
    };
    socket.on('message', onMessage);
    socket.on('close', onClose);
    session.leaveLobby = () => {
      socket.off('message', onMessage);
      socket.off('close', onClose);
    };
    session.send({ type: 'lobby' });
    room.lobbyChanged();
  }

  /** A moderator's answer to someone in the lobby. */
  private async answerKnock(room: LiveRoom, moderator: Session, participantId: string, admit: boolean): Promise<void> {
    if (!moderator.permissions.moderate) return moderator.send({ type: 'error', code: 'forbidden', message: 'only hosts and moderators may do that' });
    const capacity = admit ? await this.options.core.presence.capacity(room.meetingId) : null;
    const waiting = room.lobby.get(participantId);
    if (!waiting?.socket) return moderator.send({ type: 'error', code: 'not_found', message: 'nobody with that id is waiting' });
    // Checked here and again as the seat is taken (nothing can come between those two).
    const full = () => moderator.send({
      type: 'error', code: 'full',
      message: `The meeting is full (${capacity} people): ${waiting.info.name} can be let in once someone leaves.`,
    });
    if (admit && !room.sessions.has(participantId) && !this.options.core.presence.hasFreeSeat(capacity, room.sessions.size)) return full();
    room.lobby.delete(participantId);
    waiting.leaveLobby?.();
    room.lobbyChanged();
    if (admit) {
      if (!(await this.seat(room, waiting, waiting.socket, capacity))) full();
      return;
    }
    waiting.send({ type: 'closed', state: 'declined', message: `${moderator.info.name} did not let you in.` });
    waiting.socket.close(1000, 'declined');
  }

  /**
   * Takes a seat in the room: welcome, the others told, media started. Returns false (and does
   * nothing) when the room already seats `capacity` people; the same person moving to another
   * window keeps their seat.
   */
  private async seat(room: LiveRoom, session: Session, socket: WebSocket, capacity: number | null): Promise<boolean> {
    const previous = room.sessions.get(session.id);
    if (!previous && !this.options.core.presence.hasFreeSeat(capacity, room.sessions.size)) return false;
    // Not a removal: the person is still in, in that other window, and this one may take it back.
    if (previous) await this.endSession(previous, JOINED_ELSEWHERE, { moved: true });
    if (previous?.present) session.present = true; // the seat moved to this window; it was never left
    room.sessions.set(session.id, session);
    this.byResumeToken.set(session.resumeToken, session);
    this.attach(session, socket);

    session.send(this.welcome(room, session, false));
    if (session.permissions.moderate && room.lobby.size > 0) room.lobbyChanged();
    room.broadcast({ type: 'participantJoined', participant: session.info }, session.id);
    await session.run(async () => { await this.startMedia(room, session); });
    return true;
  }

  private async resume(socket: WebSocket, token: string): Promise<void> {
    const tombstone = this.tombstones.get(token);
    if (tombstone && tombstone.expires >= Date.now()) return this.refuse(socket, tombstone.state, tombstone.message);
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

  private refuse(socket: WebSocket, state: RoomState, message: string, start: StartTime = {}): void {
    socket.send(JSON.stringify({ type: 'closed', state, message, ...start }));
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
      resumeWindowMs: this.resumeWindowMs,
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
      for (const session of [...room.sessions.values(), ...room.lobby.values()]) {
        if (session.socket && session.lastSeen < limit) session.socket.terminate();
      }
    }
    const now = Date.now();
    for (const [token, pending] of this.pendingJoins) if (pending.expires < now) this.pendingJoins.delete(token);
    for (const [token, tombstone] of this.tombstones) if (tombstone.expires < now) this.tombstones.delete(token);
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
        // A page stuck in a restart loop must not keep the worker rebuilding transports.
        const now = Date.now();
        while (session.mediaResets.length > 0 && session.mediaResets[0]! <= now - MEDIA_RESET_LIMIT.windowMs) session.mediaResets.shift();
        if (session.mediaResets.length >= MEDIA_RESET_LIMIT.count) {
          return session.send({ type: 'error', code: 'rate_limited', message: `media may be restarted at most ${MEDIA_RESET_LIMIT.count} times a minute` });
        }
        session.mediaResets.push(now);
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
        await this.applyGate(session);
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
          // Enforced here, not left to the page: its microphone stops reaching anyone until it unmutes.
          await this.applyGate(target);
          target.send({ type: 'muteRequested', by: session.info.name });
          room.broadcast({ type: 'participantUpdated', participant: target.info });
        } else {
          await this.endSession(target, { state: 'removed', message: `${session.info.name} removed you from the meeting.` });
        }
        return;
      }
      case 'admit':
      case 'decline':
        return this.answerKnock(room, session, m.participantId, m.type === 'admit');
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

  private async requirePeer(room: LiveRoom, session: Session): Promise<MediaPeer> {
    if (session.peer && !session.peer.closed) return session.peer;
    return this.startMedia(room, session);
  }

  private async startMedia(room: LiveRoom, session: Session): Promise<MediaPeer> {
    const media = await this.mediaRoom(room);
    const peer = await media.addPeer(session.id, { canPublish: this.gate(session), held: this.held(session) });
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
      void this.report(session.meetingId, session.id, 'connected');
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
    // Flags may have changed while the peer was being added (a mute, a settings change).
    await this.applyGate(session);
    return peer;
  }

  /** What the media worker may forward from this seat at all: what its permissions allow. */
  private gate(session: Session): CanPublish {
    const p = session.permissions;
    return { audio: p.publishAudio, video: p.publishVideo, screen: p.shareScreen };
  }

  /**
   * What the worker holds back because it is muted on the server (start muted / camera off
   * from the preset, a moderator's mute, the person's own mute) until the person turns it on
   * with `setMuted`. Holding keeps the subscribers' m-lines: a mute costs no renegotiation.
   */
  private held(session: Session): HeldSources {
    return { audio: session.info.audioMuted, video: session.info.videoMuted };
  }

  private async applyGate(session: Session): Promise<void> {
    const peer = session.peer;
    if (!peer || peer.closed) return;
    const warn = (error: unknown) => {
      if (!peer.closed) this.options.log.warn({ err: error }, 'signaling: could not apply what the seat may send');
    };
    const want = this.gate(session);
    const now = peer.canPublish;
    if (want.audio !== now.audio || want.video !== now.video || want.screen !== now.screen) {
      await peer.setCanPublish(want).catch(warn);
    }
    const hold = this.held(session);
    const held = peer.held;
    if (hold.audio !== held.audio || hold.video !== held.video) await peer.setHeld(hold).catch(warn);
  }

  // ---- settings changed ----------------------------------------------------------------------

  private settingsChanged(affects: (room: LiveRoom) => boolean): void {
    for (const room of this.rooms.values()) {
      if (!affects(room)) continue;
      room.refreshing = room.refreshing
        .then(() => this.refreshPermissions(room))
        .then(() => this.openLobby(room))
        .catch((error: unknown) => {
          this.options.log.warn({ err: error, meetingId: room.meetingId }, 'signaling: could not apply changed settings');
        });
    }
  }

  /** Recomputes, through the core, what everyone in the room (and its lobby) may do, and applies it. */
  private async refreshPermissions(room: LiveRoom): Promise<void> {
    if (room.closed) return;
    const { core } = this.options;
    const meeting = await core.store.meetings.get(room.meetingId);
    if (!meeting) return;
    for (const session of [...room.sessions.values(), ...room.lobby.values()]) {
      const participant = await core.store.participants.findById(room.meetingId, session.id);
      if (!participant || session.ended) continue;
      const permissions = await core.access.permissions(meeting, participant);
      await this.applyPermissions(room, session, permissions);
    }
  }

  /**
   * Lets in whoever no longer has to wait: everyone, once the meeting's lobby is turned off (and
   * someone whose new rights let them moderate), in the order they came, as long as there are
   * seats; the others are told the meeting is full.
   */
  private async openLobby(room: LiveRoom): Promise<void> {
    if (room.closed || room.lobby.size === 0) return;
    const meeting = await this.options.core.store.meetings.get(room.meetingId);
    if (!meeting) return;
    const capacity = meeting.maxParticipants;
    let changed = false;
    for (const waiting of [...room.lobby.values()]) {
      if (meeting.lobby && !waiting.permissions.moderate) continue;
      const socket = waiting.socket;
      if (room.closed || room.lobby.get(waiting.id) !== waiting || !socket) continue;
      room.lobby.delete(waiting.id);
      waiting.leaveLobby?.();
      changed = true;
      try {
        if (!(await this.seat(room, waiting, socket, capacity))) this.refuse(socket, 'full', `The meeting is full (${capacity} people).`);
      } catch (error) {
        // Seated, but their media did not start: the page restarts it (or they rejoin).
        this.options.log.warn({ err: error, meetingId: room.meetingId }, 'signaling: could not start the media of someone let in');
      }
    }
    if (changed) room.lobbyChanged();
    if (room.empty && !room.closed && !room.idleTimer) this.startIdleTimer(room);
  }

  private async applyPermissions(room: LiveRoom, session: Session, permissions: Permissions): Promise<void> {
    const before = session.permissions;
    if ((Object.keys(permissions) as (keyof Permissions)[]).every((k) => permissions[k] === before[k])) return;
    session.permissions = permissions;
    const { info } = session;
    const flags = `${info.audioMuted}${info.videoMuted}${info.screenSharing}`;
    // What may no longer be sent is off; what may now be sent stays off until the person turns it on.
    if (!permissions.publishAudio) info.audioMuted = true;
    if (!permissions.publishVideo) info.videoMuted = true;
    if (!permissions.shareScreen) info.screenSharing = false;
    if (room.lobby.get(session.id) === session) return; // the welcome will carry them
    await this.applyGate(session);
    session.send({ type: 'permissions', permissions });
    if (flags !== `${info.audioMuted}${info.videoMuted}${info.screenSharing}`) room.broadcast({ type: 'participantUpdated', participant: info });
    if (permissions.moderate && !before.moderate && room.lobby.size > 0) room.lobbyChanged();
  }

  // ---- leaving -----------------------------------------------------------------------------

  /**
   * Gives up a seat: tells the page why (unless `closed` is undefined: the socket is already
   * gone), closes its media, records that the person left, and lets the room go idle. `moved`:
   * the same person takes the seat from another window; to the others and the core they never left.
   */
  private async endSession(
    session: Session,
    closed: { state: RoomState; message: string } | undefined,
    opts: { moved?: boolean } = {},
  ): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    if (session.resumeTimer) clearTimeout(session.resumeTimer);
    this.byResumeToken.delete(session.resumeToken);
    const room = this.rooms.get(session.meetingId);
    if (room?.sessions.get(session.id) === session) room.sessions.delete(session.id);
    if (closed) {
      session.send({ type: 'closed', ...closed });
      this.tombstones.set(session.resumeToken, { ...closed, expires: Date.now() + this.resumeWindowMs });
    }
    session.socket?.close(1000, closed?.state ?? 'left');
    const peer = session.peer;
    session.peer = undefined;
    await peer?.close().catch(() => undefined);
    if (opts.moved) return;
    room?.broadcast({ type: 'participantLeft', participantId: session.id });
    if (session.present) await this.report(session.meetingId, session.id, 'left');
    if (room && room.empty && !room.closed) this.startIdleTimer(room);
  }

  /** Tells the core that a seat's media connected or that it left, after its earlier reports. */
  private report(meetingId: string, participantId: string, what: 'connected' | 'left'): Promise<void> {
    const key = `${meetingId}/${participantId}`;
    const before = this.presenceChains.get(key) ?? Promise.resolve();
    const presence = this.options.core.presence;
    const next = before
      .then(() => (what === 'connected' ? presence.connected(meetingId, participantId) : presence.left(meetingId, participantId)))
      .then(() => undefined, (error: unknown) => this.options.log.warn({ err: error }, `signaling: presence.${what} failed`));
    this.presenceChains.set(key, next);
    void next.then(() => {
      if (this.presenceChains.get(key) === next) this.presenceChains.delete(key);
    });
    return next;
  }

  private startIdleTimer(room: LiveRoom): void {
    if (room.idleTimer) clearTimeout(room.idleTimer);
    room.idleTimer = setTimeout(() => {
      room.idleTimer = undefined;
      if (!room.empty || this.occupied(room.meetingId)) return; // someone on their way in re-arms it if refused
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
    for (const waiting of room.lobby.values()) {
      waiting.leaveLobby?.();
      waiting.send({ type: 'closed', ...closed });
      waiting.socket?.close(1000, closed.state);
    }
    room.lobby.clear();
    await Promise.all([...room.sessions.values()].map((s) => this.endSession(s, closed)));
    await room.media?.close().catch(() => undefined);
  }
}
