import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Core } from '../core/index.js';
import { randomBase62 } from '../core/secrets.js';
import type { IceServer, RoomState, ServerMessage, StartTime } from '../protocol/messages.js';
import type { MediaBridge } from './media-bridge.js';
import type { PresenceReports } from './presence-reports.js';
import { LiveRoom, Session } from './session.js';

/** Why a page's session ends, as the page shows it. */
export interface Closing {
  state: RoomState;
  message: string;
}

/** What the older page shows when the same person takes their seat from another window or tab. */
export const JOINED_ELSEWHERE: Closing = { state: 'joined_elsewhere', message: 'You joined this meeting from another window or tab.' };

/** Refuses a socket: tells the page which state to show, then closes it. */
export function refuse(socket: WebSocket, state: RoomState, message: string, start: StartTime = {}): void {
  const closed: ServerMessage = { type: 'closed', state, message, ...start };
  socket.send(JSON.stringify(closed));
  socket.close(4001, state);
}

export interface RoomsOptions {
  core: Core;
  media: MediaBridge;
  presence: PresenceReports;
  /** STUN servers (ICE_SERVERS); TURN entries are minted per seat by the core. */
  iceServers: IceServer[];
  idleTimeoutMs: number;
  resumeWindowMs: number;
  log: FastifyBaseLogger;
  /** Starts listening to a seated person's socket (see SignalingServer). */
  listen(session: Session, socket: WebSocket): void;
}

/**
 * The live rooms of this node: who holds a seat, taking and giving up seats, the resume tokens
 * of seats whose socket dropped, and the idle end of an empty room.
 */
export class Rooms {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly byResumeToken = new Map<string, Session>();
  /**
   * Seats closed while their page may still come back (its socket down, or the `closed` lost on
   * the way): resume token → what to tell it, kept for the resume window.
   */
  private readonly tombstones = new Map<string, Closing & { expires: number }>();
  /** Sockets between their token check and their seat, by meeting: the room is not empty for them. */
  private readonly arriving = new Map<string, number>();

  constructor(private readonly options: RoomsOptions) {}

  get(meetingId: string): LiveRoom | undefined {
    return this.rooms.get(meetingId);
  }

  all(): LiveRoom[] {
    return [...this.rooms.values()];
  }

  /** The meeting's live room, opened if needed; it is no longer idle. */
  open(meetingId: string, accountId: string, title: string): LiveRoom {
    let room = this.rooms.get(meetingId);
    if (!room) {
      room = new LiveRoom(meetingId, accountId, title);
      this.rooms.set(meetingId, room);
    }
    if (room.idleTimer) {
      clearTimeout(room.idleTimer);
      room.idleTimer = undefined;
    }
    return room;
  }

  /** This node's rooms, the people seated in them and those waiting in their lobbies (metrics). */
  counts(): { rooms: number; seated: number; waiting: number } {
    let seated = 0;
    let waiting = 0;
    for (const room of this.rooms.values()) {
      seated += room.sessions.size;
      waiting += room.lobby.size;
    }
    return { rooms: this.rooms.size, seated, waiting };
  }

  seated(meetingId: string): number {
    return this.rooms.get(meetingId)?.sessions.size ?? 0;
  }

  holds(meetingId: string, participantId: string): boolean {
    const room = this.rooms.get(meetingId);
    return room !== undefined && (room.sessions.has(participantId) || room.lobby.has(participantId));
  }

  /** Anyone in the meeting's room on this node, in its lobby, or on their way in. */
  occupied(meetingId: string): boolean {
    const room = this.rooms.get(meetingId);
    return (room !== undefined && !room.empty) || (this.arriving.get(meetingId) ?? 0) > 0;
  }

  /**
   * Runs `work` (a socket's way from its token to a seat) with the room counted as occupied, so
   * an idle end cannot run between the checks and the seat; an empty room goes idle again after.
   */
  async whileArriving<T>(meetingId: string, work: () => Promise<T>): Promise<T> {
    this.arriving.set(meetingId, (this.arriving.get(meetingId) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.arriving.get(meetingId) ?? 1) - 1;
      if (left > 0) this.arriving.set(meetingId, left);
      else this.arriving.delete(meetingId);
      const room = this.rooms.get(meetingId);
      if (room) this.idleIfEmpty(room);
    }
  }

  /**
   * Takes a seat in the room: welcome, the others told, media started. Returns false (and does
   * nothing) when the room already seats `capacity` people; the same person moving to another
   * window keeps their seat.
   */
  async seat(room: LiveRoom, session: Session, socket: WebSocket, capacity: number | null): Promise<boolean> {
    const previous = room.sessions.get(session.id);
    if (!previous && !this.options.core.room.hasFreeSeat(capacity, room.sessions.size)) return false;
    // Not a removal: the person is still in, in that other window, and this one may take it back.
    if (previous) await this.endSession(previous, JOINED_ELSEWHERE, { moved: true });
    if (previous?.present) session.present = true; // the seat moved to this window; it was never left
    session.joinedAt = previous?.joinedAt ?? new Date();
    room.sessions.set(session.id, session);
    this.byResumeToken.set(session.resumeToken, session);
    this.options.listen(session, socket);

    session.send(this.welcome(room, session, false));
    this.refreshTurn(session);
    if (session.permissions.moderate && room.lobby.size > 0) room.lobbyChanged();
    room.broadcast({ type: 'participantJoined', participant: session.info }, session.id);
    await session.run(async () => { await this.options.media.start(room, session); });
    return true;
  }

  welcome(room: LiveRoom, session: Session, resumed: boolean): ServerMessage {
    return {
      type: 'welcome',
      self: session.info,
      participants: room.others(session.id),
      permissions: session.permissions,
      iceServers: this.iceServersFor(session),
      resumeToken: session.resumeToken,
      resumeWindowMs: this.options.resumeWindowMs,
      resumed,
      meeting: { title: room.title },
      chat: room.chat,
      activeSpeaker: room.activeSpeaker,
      recording: room.recordingId !== undefined,
    };
  }

  /** STUN as configured, and TURN credentials minted now for this person alone. */
  private iceServersFor(session: Session): IceServer[] {
    return [...this.options.iceServers, ...this.options.core.turn.forParticipant(session.id)];
  }

  /** While the seat lasts, fresh TURN credentials before the last ones expire (see TurnCredentials.refreshMs). */
  private refreshTurn(session: Session): void {
    const every = this.options.core.turn.refreshMs;
    if (every === undefined) return;
    session.turnTimer = setInterval(() => {
      if (!session.ended) session.send({ type: 'iceServers', iceServers: this.iceServersFor(session) });
    }, every);
    session.turnTimer.unref();
  }

  /**
   * A page coming back with its resume token: the seat (now under a new token), what to tell a
   * page whose seat was closed meanwhile, or nothing when the seat is no longer held.
   */
  resume(token: string, now: number): { session: Session; room: LiveRoom } | { closed: Closing } | undefined {
    const tombstone = this.tombstones.get(token);
    if (tombstone && tombstone.expires >= now) return { closed: tombstone };
    const session = this.byResumeToken.get(token);
    const room = session && this.rooms.get(session.meetingId);
    if (!session || !room || session.ended) return undefined;
    this.byResumeToken.delete(token);
    session.resumeToken = randomBase62(32);
    this.byResumeToken.set(session.resumeToken, session);
    if (session.resumeTimer) {
      clearTimeout(session.resumeTimer);
      session.resumeTimer = undefined;
    }
    return { session, room };
  }

  /** The seat's socket dropped: it is kept for the resume window, then given up. */
  holdForResume(session: Session): void {
    session.socket = undefined;
    this.rooms.get(session.meetingId)?.showConnection(session);
    session.resumeTimer = setTimeout(() => void this.endSession(session, undefined), this.options.resumeWindowMs);
    session.resumeTimer.unref();
  }

  /**
   * Gives up a seat: tells the page why (unless `closed` is undefined: the socket is already
   * gone), closes its media, records that the person left, and lets the room go idle. `moved`:
   * the same person takes the seat from another window; to the others and the core they never left.
   */
  async endSession(session: Session, closed: Closing | undefined, opts: { moved?: boolean } = {}): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    if (session.resumeTimer) clearTimeout(session.resumeTimer);
    clearInterval(session.turnTimer);
    this.byResumeToken.delete(session.resumeToken);
    const room = this.rooms.get(session.meetingId);
    if (room?.sessions.get(session.id) === session) room.sessions.delete(session.id);
    if (closed) {
      session.send({ type: 'closed', ...closed });
      this.tombstones.set(session.resumeToken, { ...closed, expires: Date.now() + this.options.resumeWindowMs });
    }
    session.socket?.close(1000, closed?.state ?? 'left');
    const peer = session.peer;
    session.peer = undefined;
    await peer?.close().catch(() => undefined);
    if (opts.moved) return;
    room?.broadcast({ type: 'participantLeft', participantId: session.id });
    if (session.present) await this.options.presence.report(session.meetingId, session.id, 'left');
    if (room && room.empty && !room.closed) this.startIdleTimer(room);
  }

  /** Closes a room: everyone in it and in its lobby is told why. */
  async close(meetingId: string, closed: Closing): Promise<void> {
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

  /**
   * Lets go of a room without ending anyone's part in it (a restart): each person in it or in its
   * lobby gets `farewell`, then their socket and media close; nothing is reported to the core.
   */
  async letGo(room: LiveRoom, farewell: (session: Session, inLobby: boolean) => ServerMessage): Promise<void> {
    room.closed = true;
    this.rooms.delete(room.meetingId);
    if (room.idleTimer) clearTimeout(room.idleTimer);
    const everyone = [...[...room.sessions.values()].map((s) => [s, false] as const), ...[...room.lobby.values()].map((s) => [s, true] as const)];
    for (const [session, inLobby] of everyone) {
      session.ended = true;
      if (session.resumeTimer) clearTimeout(session.resumeTimer);
      clearInterval(session.turnTimer);
      session.leaveLobby?.();
      session.send(farewell(session, inLobby));
      session.socket?.close(1012, 'restarting');
    }
    await Promise.all([...room.sessions.values()].map((s) => s.peer?.close().catch(() => undefined)));
    await room.media?.close().catch(() => undefined);
  }

  /** An empty room that is not already counting down starts its idle countdown. */
  idleIfEmpty(room: LiveRoom): void {
    if (room.empty && !room.closed && !room.idleTimer) this.startIdleTimer(room);
  }

  startIdleTimer(room: LiveRoom): void {
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

  /** Forgets tombstones whose resume window has passed. */
  forgetExpired(now: number): void {
    for (const [token, tombstone] of this.tombstones) if (tombstone.expires < now) this.tombstones.delete(token);
  }
}
