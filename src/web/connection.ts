import { PING_INTERVAL_MS, RESUME_WINDOW_MS, WS_PATH, type ClientMessage, type ServerMessage } from '../protocol/messages.ts';
import type { Timers } from './timers.ts';

/** No welcome this long after opening a socket: give up on that socket. */
const WELCOME_TIMEOUT_MS = 10_000;
/** Nothing heard from the server for this long: the socket is dead even if the browser has not noticed. */
const SILENCE_LIMIT_MS = 2.5 * PING_INTERVAL_MS;
/**
 * A probe (see `probe`) not answered this long: the socket died with the network (an address
 * change leaves a TCP connection that will never deliver again, and it takes SILENCE_LIMIT_MS to
 * notice otherwise).
 */
const PROBE_TIMEOUT_MS = 1_500;
/** Reconnect attempts after a drop wait 300 ms, 600 ms… up to this long. */
const RECONNECT_MAX_DELAY_MS = 4_000;

export interface ConnectionEvents {
  message(message: ServerMessage): void;
  /** The socket closed, went silent, or was not welcomed in time (not after `close()`). */
  lost(): void;
  /** A dropped seat could not be resumed within the server's resume window. */
  resumeFailed(): void;
}

/**
 * The signaling socket: opening it with a join token, keep-alive pings, and after a drop,
 * resuming the same seat with the resume token while the server keeps it.
 */
/** ws(s)://host of the meeting's node, or of the page's own server. */
function socketBase(nodeUrl?: string): string {
  const u = nodeUrl ? new URL(nodeUrl, location.href) : location;
  return `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
}

export class Connection {
  private ws: WebSocket | undefined;
  private wsBase = socketBase();
  /** The meeting's node, when the join answer named one (several nodes). */
  private nodeUrl: string | undefined;
  /** Sockets to it in a row that closed without ever opening. */
  private refusedInARow = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private resumeToken: string | undefined;
  /** How long the server keeps a dropped seat (its welcome says). */
  resumeWindowMs = RESUME_WINDOW_MS;
  /** The server is restarting: after the drop, take the seat again with this join token. */
  private rejoin: { token: string; windowMs: number } | undefined;
  /** Set while resuming: when the socket dropped. */
  private droppedAt: number | undefined;
  private reconnectAttempt = 0;
  /** Called with the first message after a probe's ping (see `probe`). */
  private probeAnswered: (() => void) | undefined;

  constructor(private readonly timers: Timers, private readonly events: ConnectionEvents) {}

  /** A socket is open (or opening). */
  get active(): boolean {
    return this.ws !== undefined;
  }

  /** The socket dropped and the seat is being resumed. */
  get resuming(): boolean {
    return this.droppedAt !== undefined;
  }

  /** The server said it restarts, and we have not been let back in yet. */
  get restarting(): boolean {
    return this.rejoin !== undefined;
  }

  /**
   * Several nodes: the meeting's node refused three sockets in a row (not just slow): its address,
   * to join again through the page's own server, which checks it and places the meeting on a
   * live node. Undefined otherwise.
   */
  get unreachableNode(): string | undefined {
    return this.nodeUrl !== undefined && this.refusedInARow >= 3 ? this.nodeUrl : undefined;
  }

  /** Back in the lobby after a restart: no more attempts. */
  backInLobby(): void {
    this.rejoin = undefined;
    this.droppedAt = undefined;
    this.timers.clear('resumeWindow');
    this.timers.clear('reconnect');
  }

  /** `nodeUrl`: the node that runs the meeting (several nodes); the socket and its resumes go there. */
  connect(joinToken: string, nodeUrl?: string): void {
    this.wsBase = socketBase(nodeUrl);
    this.nodeUrl = nodeUrl;
    this.refusedInARow = 0;
    this.open(`${WS_PATH}?token=${encodeURIComponent(joinToken)}`);
  }

  send(message: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** In the lobby or the room: the socket is good; keep it alive. `welcome`: resume with it after a drop. */
  settled(welcome?: { resumeToken: string; resumeWindowMs: number }): void {
    this.timers.clear('welcome');
    if (welcome) {
      this.rejoin = undefined;
      this.timers.clear('resumeWindow');
      this.timers.clear('reconnect');
      this.droppedAt = undefined;
      this.resumeToken = welcome.resumeToken;
      if (typeof welcome.resumeWindowMs === 'number' && welcome.resumeWindowMs > 0) this.resumeWindowMs = welcome.resumeWindowMs;
    }
    this.lastHeard = Date.now();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) return this.events.lost();
      this.send({ type: 'ping', t: Date.now() });
    }, PING_INTERVAL_MS);
  }

  /**
   * The server said it restarts: the coming drop is resumed with `token` (a join token for the
   * same seat) on the server that comes back, for up to `windowMs`.
   */
  expectRestart(token: string, windowMs: number): void {
    this.rejoin = { token, windowMs };
  }

  /**
   * After a drop in the room: the next attempt to resume, backing off. False when the resume
   * window is over.
   */
  scheduleResume(): boolean {
    const windowMs = this.rejoin?.windowMs ?? this.resumeWindowMs;
    if (this.droppedAt === undefined) {
      this.droppedAt = Date.now();
      this.reconnectAttempt = 0;
      this.timers.set('resumeWindow', windowMs, () => this.events.resumeFailed());
    }
    const left = windowMs - (Date.now() - this.droppedAt);
    if (left <= 0) return false;
    const delay = Math.min(300 * 2 ** this.reconnectAttempt, RECONNECT_MAX_DELAY_MS, left);
    this.reconnectAttempt++;
    this.timers.set('reconnect', delay, () => this.resume());
    return true;
  }

  /**
   * Media lost its path: is the socket still alive? If nothing is heard soon after a ping, it is
   * treated as lost (and resumed); else `answered` runs.
   */
  probe(answered?: () => void): void {
    if (!this.ws || this.resuming) return;
    if (answered) this.probeAnswered = answered;
    if (this.timers.has('probe')) return;
    const sentAt = Date.now();
    this.send({ type: 'ping', t: sentAt });
    const ws = this.ws;
    this.timers.set('probe', PROBE_TIMEOUT_MS, () => {
      this.probeAnswered = undefined;
      if (this.ws !== ws || this.lastHeard >= sentAt) return;
      console.info('parley: the socket did not answer a probe; reconnecting it');
      this.events.lost();
    });
  }

  /** The network came back: try at once instead of waiting for the next backoff step. */
  retryNow(): void {
    if (!this.resuming || this.ws) return;
    this.timers.clear('reconnect');
    this.resume();
  }

  /** Forgets the current socket (closing it) without treating it as a drop. */
  close(): void {
    const ws = this.ws;
    this.ws = undefined;
    this.timers.clear('welcome');
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000);
  }

  /** Closes the socket and stops resuming (the session is over for this page). */
  stop(): void {
    this.close();
    this.droppedAt = undefined;
  }

  /** A new seat next time: the old one cannot be resumed. */
  forgetSeat(): void {
    this.resumeToken = undefined;
  }

  /** Test hook: as a network drop, the socket goes away without a `leave`. */
  simulateDrop(): void {
    const ws = this.ws;
    if (!ws) return;
    ws.close(4000, 'dropped');
    this.events.lost();
  }

  private resume(): void {
    if (!this.resuming) return;
    if (this.rejoin) return this.open(`${WS_PATH}?token=${encodeURIComponent(this.rejoin.token)}`);
    if (!this.resumeToken) return this.events.resumeFailed();
    this.open(`${WS_PATH}?resume=${encodeURIComponent(this.resumeToken)}`);
  }

  private open(pathAndQuery: string): void {
    this.close();
    const url = `${this.wsBase}${pathAndQuery}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let welcomed = false;
    ws.addEventListener('message', (e) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      if (this.timers.has('probe')) {
        const answered = this.probeAnswered;
        this.probeAnswered = undefined;
        this.timers.clear('probe');
        answered?.();
      }
      let message: ServerMessage;
      try {
        message = JSON.parse(String(e.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'welcome' || message.type === 'lobby' || message.type === 'restarting') welcomed = true;
      this.events.message(message);
    });
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.refusedInARow = 0;
    });
    ws.addEventListener('close', () => {
      if (!opened) this.refusedInARow++;
      if (this.ws === ws) this.events.lost();
    });
    this.timers.set('welcome', WELCOME_TIMEOUT_MS, () => {
      if (this.ws === ws && !welcomed) this.events.lost();
    });
  }
}
