import type { WebSocket } from 'ws';
import { ICE_RESTART_LIMIT, RestartBudget, seatReconnecting, type LinkRef, type SeatSource } from '../core/index.js';
import type { MediaPeer, MediaRoom, TransportRole, TransportState, VideoSize } from '../media/index.js';
import type { ChatMessage, ParticipantInfo, Permissions, ServerMessage } from '../protocol/messages.js';

/**
 * One person's seat in a live room (or their place in its lobby): survives a dropped socket for
 * the resume window.
 */
export class Session {
  socket?: WebSocket;
  peer?: MediaPeer;
  /** presence.connected was recorded (their media connected); left must follow. */
  present = false;
  resumeTimer?: NodeJS.Timeout;
  /** Hands the page fresh TURN credentials before its current ones expire. */
  turnTimer?: NodeJS.Timeout;
  /** Set once the seat is given up: later events for it are ignored. */
  ended = false;
  lastSeen = Date.now();
  /** While in the lobby: removes the lobby's socket listeners. */
  leaveLobby?: () => void;
  /** When they took their seat (or knocked, while in the lobby). */
  joinedAt = new Date();
  /** Sources a moderator (or the API) turned off; each clears when the person turns it on again. */
  readonly mutedByHost: Record<SeatSource, boolean> = { microphone: false, camera: false, screen: false };
  /** How many mute requests this seat was sent (`muteRequested.request`). */
  muteRequests = 0;
  /** Who sent the latest of them (their name, as `muteRequested.by` says it). */
  lastMutedBy = '';
  /** This seat's media restarts (`resetMedia`), limited by the core. */
  readonly restarts = new RestartBudget();
  /** This seat's ICE restarts (`restartIce`), limited by the core. */
  readonly iceRestarts = new RestartBudget(ICE_RESTART_LIMIT);
  /** What the page said about its video tiles (`videoSizes`); a fresh media peer is told again. */
  videoSizes: VideoSize[] = [];
  /** How media last reported each transport of the current peer (undefined: not connected yet). */
  transports: Record<TransportRole, TransportState | undefined> = { publisher: undefined, subscriber: undefined };
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly meetingId: string,
    /** The link the person came through: a restart hands them a token for it again. */
    readonly link: LinkRef,
    readonly info: ParticipantInfo,
    public permissions: Permissions,
    public resumeToken: string,
  ) {}

  get id(): string {
    return this.info.id;
  }

  /**
   * Runs one person's media work in arrival order: a `resetMedia` followed by a `publish` must
   * not build two media peers, nor a `publish` race the seat's first peer.
   */
  run(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  send(message: ServerMessage): void {
    if (this.socket && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

/** A meeting with people in it on this node: its sessions, chat and media room. */
export class LiveRoom {
  readonly sessions = new Map<string, Session>();
  /** People waiting to be let in (the meeting has a lobby); not in the room yet. */
  readonly lobby = new Map<string, Session>();
  readonly chat: ChatMessage[] = [];
  media?: MediaRoom;
  mediaOpening?: Promise<MediaRoom>;
  activeSpeaker: string | null = null;
  /** The recording running in this room's media, if any (signaling/recording-relay.ts). */
  recordingId?: string;
  idleTimer?: NodeJS.Timeout;
  closed = false;
  /** Permission refreshes after settings changes, one after another. */
  refreshing: Promise<void> = Promise.resolve();

  constructor(readonly meetingId: string, readonly accountId: string, readonly title: string) {}

  broadcast(message: ServerMessage, except?: string): void {
    for (const session of this.sessions.values()) if (session.id !== except) session.send(message);
  }

  /**
   * Whether `session` shows as reconnecting (the core's rule, from its socket and transports):
   * the others are told when that changes.
   */
  showConnection(session: Session): void {
    if (session.ended || this.sessions.get(session.id) !== session) return;
    const reconnecting = seatReconnecting({ socket: session.socket !== undefined, transports: [session.transports.publisher, session.transports.subscriber] });
    if ((session.info.reconnecting ?? false) === reconnecting) return;
    if (reconnecting) session.info.reconnecting = true;
    else delete session.info.reconnecting;
    this.broadcast({ type: 'participantUpdated', participant: session.info }, session.id);
  }

  /** Tells the moderators in the room who is waiting. */
  lobbyChanged(): void {
    const waiting = [...this.lobby.values()].map((s) => ({ id: s.id, name: s.info.name }));
    for (const session of this.sessions.values()) {
      if (session.permissions.moderate) session.send({ type: 'lobbyQueue', waiting });
    }
  }

  get empty(): boolean {
    return this.sessions.size === 0 && this.lobby.size === 0;
  }

  others(selfId: string): ParticipantInfo[] {
    return [...this.sessions.values()].filter((s) => s.id !== selfId).map((s) => s.info);
  }

  addChat(message: ChatMessage): void {
    this.chat.push(message);
    if (this.chat.length > 200) this.chat.shift(); // late joiners see the recent conversation
  }
}
