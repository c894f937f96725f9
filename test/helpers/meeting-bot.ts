import WebSocket from 'ws';
import { BotHost, type BotOptions } from '../media/helpers/bots.js';
import type { ClientMessage, JoinResponse, RemoteTrack, RoomLink, ServerMessage } from '../../src/protocol/messages.js';

export { BotHost };

/** The room link a personal URL (`…/e/<token>`) stands for. */
export const personalLink = (url: string): RoomLink => ({ kind: 'personal', token: url.split('/e/')[1]! });

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

/**
 * A headless participant that joins like a browser does: POST /rtc/join, WebSocket, publish on
 * one transport, answer the server's offers on the other. Media runs in a @roamhq/wrtc bot
 * (test/media/bots/bot-host.mjs).
 */
export class MeetingBot {
  readonly messages: ServerMessage[] = [];
  welcome?: Welcome;
  tracks: RemoteTrack[] = [];
  closed?: { state: string; message: string };
  private ws?: WebSocket;
  private negotiation: Promise<unknown> = Promise.resolve();
  private publishWaiter?: (sdp: string) => void;
  private socketsOpened = 0;

  private constructor(readonly host: BotHost, readonly name: string, private readonly wsBase: string) {}

  /** The node the join answer sent this bot to (several nodes), else the server asked. */
  get nodeUrl(): string {
    return this.wsBase.replace(/^ws/, 'http');
  }

  static async join(host: BotHost, baseUrl: string, name: string, link: RoomLink, opts: BotOptions & { displayName?: string } = {}): Promise<MeetingBot> {
    const res = await fetch(`${baseUrl}/rtc/join`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link, name: opts.displayName ?? name }),
    });
    const body = await res.json() as JoinResponse & { error?: { message: string; state?: string } };
    if (res.status !== 200) throw Object.assign(new Error(`join refused: ${res.status} ${JSON.stringify(body)}`), { status: res.status, body });
    // Like the page: the socket goes to the meeting's node when the answer names one.
    const bot = new MeetingBot(host, name, (body.nodeUrl ?? baseUrl).replace(/^http/, 'ws'));
    await host.create(name, opts);
    await bot.connect(`token=${body.joinToken}`);
    if (opts.audio !== false || opts.video !== false || opts.screen) await bot.publish();
    return bot;
  }

  get id(): string {
    if (!this.welcome) throw new Error(`${this.name} has no welcome yet`);
    return this.welcome.self.id;
  }

  private connect(query: string): Promise<Welcome> {
    const ws = new WebSocket(`${this.wsBase}/rtc/ws?${query}`);
    this.ws = ws;
    this.socketsOpened++;
    const opened = this.socketsOpened;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no welcome`)), 15_000);
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as ServerMessage;
        this.messages.push(m);
        if (m.type === 'welcome') {
          this.welcome = m;
          clearTimeout(timer);
          resolve(m);
        } else if (m.type === 'subscriberOffer') {
          this.negotiation = this.negotiation.then(async () => {
            const { sdp } = await this.host.subOffer(this.name, m.sdp);
            this.tracks = m.tracks;
            this.send({ type: 'subscriberAnswer', sdp });
          }).catch(() => undefined);
        } else if (m.type === 'publishAnswer') {
          this.publishWaiter?.(m.sdp);
        } else if (m.type === 'closed') {
          this.closed = { state: m.state, message: m.message };
          clearTimeout(timer);
          if (opened === this.socketsOpened && !this.welcome) reject(Object.assign(new Error(`closed: ${m.state}`), { state: m.state }));
        }
      });
      ws.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  send(message: ClientMessage): void {
    this.ws?.send(JSON.stringify(message));
  }

  async publish(): Promise<void> {
    const { sdp, sources } = await this.host.offer(this.name);
    const answer = new Promise<string>((resolve) => { this.publishWaiter = resolve; });
    this.send({ type: 'publish', sdp, sources });
    await this.host.answer(this.name, await answer);
  }

  /** Frames decoded from the camera of `participantId`. */
  async framesFrom(participantId: string, source: 'camera' | 'screen' = 'camera'): Promise<number> {
    const track = this.tracks.find((t) => t.participantId === participantId && t.source === source);
    if (!track) return 0;
    return (await this.host.frames(this.name))[track.mid] ?? 0;
  }

  received<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  /** The socket dies as in a network drop (no close handshake). */
  dropSocket(): void {
    this.ws?.terminate();
  }

  /** Reconnects with the resume token of the last welcome. */
  async resume(): Promise<Welcome> {
    if (!this.welcome) throw new Error('never welcomed');
    return this.connect(`resume=${this.welcome.resumeToken}`);
  }

  async leave(): Promise<void> {
    this.send({ type: 'leave' });
    await new Promise((r) => setTimeout(r, 50));
    await this.stop();
  }

  async stop(): Promise<void> {
    this.ws?.close();
    await this.host.close(this.name).catch(() => undefined);
  }
}

/** Polls `check` until it is true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, stepMs = 150): Promise<boolean> {
  return (await eventuallyFound(async () => (await check()) || undefined, timeoutMs, stepMs)) !== undefined;
}

/** Polls `find` until it gives something or `timeoutMs` passes; undefined if it never did. */
export async function eventuallyFound<T>(find: () => Promise<T | null | undefined> | T | null | undefined, timeoutMs = 15_000, stepMs = 150): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== null && found !== undefined) return found;
    if (Date.now() >= end) return undefined;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
