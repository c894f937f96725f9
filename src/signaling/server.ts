import type {} from '@fastify/websocket'; // its types add { websocket: true } routes to Fastify
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CoreError, type Core, type CoreEvents } from '../core/index.js';
import { randomBase62 } from '../core/secrets.js';
import { MediaError, type MediaService } from '../media/index.js';
import { PING_INTERVAL_MS, RESUME_WINDOW_MS, WS_PATH, type ClientMessage, type IceServer } from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/parse.js';
import { CLOSING_TEXT, fullExplanation, STATE_TEXT } from '../protocol/states.js';
import { MessageHandlers } from './handlers.js';
import { LiveControl } from './live-control.js';
import { Lobby } from './lobby.js';
import { MediaBridge } from './media-bridge.js';
import { Moderation } from './moderation.js';
import { PresenceReports } from './presence-reports.js';
import { RecordingRelay } from './recording-relay.js';
import { refuse, Rooms, type Closing } from './rooms.js';
import { Session } from './session.js';
import { SettingsRelay } from './settings.js';

export interface SignalingOptions {
  core: Core;
  media: MediaService;
  log: FastifyBaseLogger;
  /** Given to browsers (and used by media) — none unless the operator configures some. */
  iceServers: IceServer[];
  /** An empty room ends (status 12) after this long. */
  idleTimeoutMs: number;
  resumeWindowMs?: number;
}

/** What a page shows when the core closes a live meeting, by the core's reason (the one wording). */
const CLOSED_STATE: Record<CoreEvents['meeting.closed']['reason'], Closing> = CLOSING_TEXT;

const RESTARTING = 'The server is restarting. You will be back in the meeting in a moment.';

// The page's heading already says the invitation was cancelled: the message says what it means.
const INVITATION_CANCELLED: Closing = { state: 'invitation_cancelled', message: STATE_TEXT.invitation_cancelled.explanation };

/**
 * Browser ↔ server over WebSocket: a join token (checked by the core) opens a socket, which takes
 * a seat or waits in the lobby; a dropped socket may resume its seat. The pieces: Rooms (seats,
 * resume, idle), Lobby, MessageHandlers, Moderation, MediaBridge (seat ↔ media peer), SettingsRelay,
 * PresenceReports, and LiveControl (the core's view into the rooms, for the API's live endpoints). It keeps only live, in-memory state; the core decides and records.
 */
export class SignalingServer {
  private readonly rooms: Rooms;
  private readonly lobby: Lobby;
  private readonly handlers: MessageHandlers;
  private readonly media: MediaBridge;
  private readonly settings: SettingsRelay;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SignalingOptions) {
    const { core, log } = options;
    const presence = new PresenceReports(core, log);
    this.media = new MediaBridge(core, options.media, presence, log);
    this.rooms = new Rooms({
      core, media: this.media, presence, log, iceServers: options.iceServers, idleTimeoutMs: options.idleTimeoutMs,
      resumeWindowMs: options.resumeWindowMs ?? RESUME_WINDOW_MS,
      listen: (session, socket) => this.listen(session, socket),
    });
    this.lobby = new Lobby(core, this.rooms, log);
    const moderation = new Moderation(core, this.rooms, this.media);
    this.handlers = new MessageHandlers(core, this.rooms, this.lobby, this.media, moderation);
    this.settings = new SettingsRelay(core, this.rooms, this.lobby, this.media, log);
    this.unsubscribe.push(
      new RecordingRelay(core, this.rooms, this.media, log).attach(),
      core.presence.attachRooms({ occupied: (id) => this.rooms.occupied(id), seated: (id) => this.rooms.seated(id), holds: (id, pid) => this.rooms.holds(id, pid) }),
      core.live.attachRooms(new LiveControl(this.rooms, this.lobby, moderation)),
      core.events.on('meeting.closed', (e) => this.rooms.close(e.meetingId, CLOSED_STATE[e.reason])),
      core.events.on('meeting.changed', (e) => this.settings.changed((room) => room.meetingId === e.meetingId)),
      // Any preset of the account may be someone's (their own, the meeting's, guests'…): recompute all.
      core.events.on('preset.changed', (e) => this.settings.changed((room) => room.accountId === e.accountId)),
      core.events.on('participant.revoked', (e) => {
        const room = this.rooms.get(e.meetingId);
        const session = room?.sessions.get(e.participantId);
        if (session) void this.rooms.endSession(session, INVITATION_CANCELLED);
        const waiting = room?.lobby.get(e.participantId);
        if (waiting) {
          waiting.send({ type: 'closed', ...INVITATION_CANCELLED });
          waiting.socket?.close(1000, 'invitation cancelled');
        }
      }),
    );
    this.sweeper = setInterval(() => this.sweep(), PING_INTERVAL_MS);
    this.sweeper.unref();
  }

  register(app: FastifyInstance): void {
    app.get(WS_PATH, { websocket: true }, (socket, request) => {
      void this.accept(socket, request).catch((error: unknown) => {
        this.options.log.error({ err: error }, 'signaling: could not accept a socket');
        socket.close(1011, 'internal error');
      });
    });
  }

  /** Closes every room (server shutdown). */
  /** This node's live rooms and the people in them (for metrics). */
  counts(): { rooms: number; seated: number; waiting: number } {
    return this.rooms.counts();
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    clearInterval(this.sweeper);
    await Promise.all(this.rooms.all().map((room) => this.rooms.close(room.meetingId, { state: 'service_stopped', message: 'The server is shutting down.' })));
  }

  /**
   * This process is about to restart: no one new gets in, and everyone in a room or lobby is
   * handed a token to take the same seat on the process that comes back (within `rejoinWindowMs`)
   * and let go without being recorded as gone. The core keeps their statuses until then.
   */
  async restart(rejoinWindowMs: number): Promise<void> {
    const { core } = this.options;
    core.room.stopAdmitting();
    for (const off of this.unsubscribe) off();
    clearInterval(this.sweeper);
    await core.presence.markRestart(new Date(Date.now() + rejoinWindowMs));
    await Promise.all(this.rooms.all().map((room) => this.rooms.letGo(room, (session, inLobby) => ({
      type: 'restarting',
      rejoinToken: core.joinTokens.reissue({
        meetingId: room.meetingId, accountId: room.accountId, participantId: session.id, link: session.link,
        permissions: session.permissions, lobby: inLobby, admitted: !inLobby,
      }, rejoinWindowMs),
      rejoinWindowMs,
      message: RESTARTING,
    }))));
  }

  /** The media service stopped: everyone in a room is told, whatever the meeting's status. */
  async serviceStopped(): Promise<void> {
    await Promise.all(this.rooms.all().map((room) => this.rooms.close(room.meetingId, CLOSED_STATE.service_stopped)));
  }

  private async accept(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const query = request.query as { token?: string; resume?: string };
    // Restarting: refused before the token is used, so that the page can use it on the new process.
    if (!this.options.core.room.admitting) return socket.close(1012, 'restarting');
    if (query.resume) return this.resume(socket, query.resume);
    let grant;
    try {
      grant = await this.options.core.joinTokens.redeem(query.token ?? '');
    } catch (error) {
      if (error instanceof CoreError) return refuse(socket, 'not_found', error.message);
      throw error;
    }
    await this.rooms.whileArriving(grant.meetingId, async () => {
      if (!this.media.running) return refuse(socket, 'service_stopped', 'The video service is stopped.');
      const entry = await this.options.core.room.enter(grant);
      if (entry.kind === 'refused') return refuse(socket, entry.state, entry.message, entry.start);
      const room = this.rooms.open(entry.meeting.id, entry.meeting.accountId, entry.title);
      const { participant } = entry;
      const session = new Session(entry.meeting.id, grant.link, {
        id: participant.id, name: participant.name, role: participant.role,
        ...this.options.core.room.startingMedia(grant.permissions), handRaised: false,
      }, grant.permissions, randomBase62(32));
      if (entry.kind === 'lobby' && !room.sessions.has(session.id)) return this.lobby.wait(room, session, socket);
      if (!(await this.rooms.seat(room, session, socket, entry.capacity))) {
        refuse(socket, 'full', fullExplanation(entry.capacity));
      }
    });
  }

  private resume(socket: WebSocket, token: string): void {
    const found = this.rooms.resume(token, Date.now());
    if (!found) return refuse(socket, 'not_found', 'This seat is no longer held; join the meeting again.');
    if ('closed' in found) return refuse(socket, found.closed.state, found.closed.message);
    const { session, room } = found;
    if (session.socket) {
      session.socket.removeAllListeners();
      session.socket.close(4000, 'replaced by a resumed connection');
    }
    this.listen(session, socket);
    room.showConnection(session);
    session.send(this.rooms.welcome(room, session, true));
    this.media.resendOffer(session); // one the browser may have missed while away
  }

  /** A seated person's socket: messages in arrival order, errors back as `error`, a drop keeps the seat. */
  private listen(session: Session, socket: WebSocket): void {
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
      const done = message.type === 'ping' ? this.handlers.handle(session, message) : session.run(() => this.handlers.handle(session, message));
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
      this.rooms.holdForResume(session); // the browser comes back with its resume token, or the seat is given up
    });
    socket.on('error', (error) => this.options.log.warn({ err: error }, 'signaling: socket error'));
  }

  /** Drops sockets that stopped talking (no ping for three intervals); their seat waits for a resume. */
  private sweep(): void {
    const limit = Date.now() - 3 * PING_INTERVAL_MS;
    for (const room of this.rooms.all()) {
      for (const session of [...room.sessions.values(), ...room.lobby.values()]) {
        if (session.socket && session.lastSeen < limit) session.socket.terminate();
      }
    }
    this.rooms.forgetExpired(Date.now());
  }
}
