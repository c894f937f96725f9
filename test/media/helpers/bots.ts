// Typed driver for test/media/bots/bot-host.mjs, plus the glue that joins a bot to a room.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MediaPeer, MediaRoom, SubscribedTrack, TrackSource } from '../../../src/media/index.js';

const HOST_SCRIPT = fileURLToPath(new URL('../bots/bot-host.mjs', import.meta.url));
const REQUEST_TIMEOUT_MS = 15_000;

export interface BotOptions {
  audio?: boolean;
  video?: boolean;
  screen?: boolean;
  loud?: boolean;
  /** a solid picture of this [Y, U, V] colour instead of the moving pattern */
  color?: [number, number, number];
  /** frequency of the loud tone, Hz (440) */
  tone?: number;
}

export interface InboundStats {
  mid: string | null;
  kind: 'audio' | 'video';
  packetsReceived: number;
  bytesReceived: number;
  packetsLost: number;
  nackCount: number;
  pliCount: number;
  framesDecoded: number;
  keyFramesDecoded: number;
}

export interface BotStats {
  pub: string;
  sub: string;
  inbound: InboundStats[];
  outbound: { kind: string; packetsSent: number; bytesSent: number; pliCount: number; nackCount: number; framesEncoded: number; keyFramesEncoded: number }[];
}

export class BotHost {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private exited = false;
  private readonly exitPromise: Promise<void>;
  stderr = '';

  constructor(env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [HOST_SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', () => {
        this.exited = true;
        for (const p of this.pending.values()) p.reject(new Error(`bot host exited\n${this.stderr.slice(-2000)}`));
        this.pending.clear();
        resolve();
      });
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-20_000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let msg: { id: number; ok: boolean; value?: unknown; error?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  request<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error('bot host exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`bot host: ${cmd} timed out`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    });
  }

  create(bot: string, opts: BotOptions): Promise<void> {
    return this.request('create', { bot, opts });
  }
  offer(bot: string): Promise<{ sdp: string; sources: Record<string, TrackSource> }> {
    return this.request('offer', { bot });
  }
  answer(bot: string, sdp: string): Promise<void> {
    return this.request('answer', { bot, sdp });
  }
  subOffer(bot: string, sdp: string): Promise<{ sdp: string }> {
    return this.request('subOffer', { bot, sdp });
  }
  frames(bot: string): Promise<Record<string, number>> {
    return this.request('frames', { bot });
  }
  stats(bot: string): Promise<BotStats> {
    return this.request('stats', { bot });
  }
  close(bot: string): Promise<void> {
    return this.request('close', { bot });
  }
  setLoud(bot: string, loud: boolean): Promise<void> {
    return this.request('setLoud', { bot, loud });
  }
  addScreen(bot: string): Promise<void> {
    return this.request('addScreen', { bot });
  }
  removeScreen(bot: string): Promise<void> {
    return this.request('removeScreen', { bot });
  }
  injectCandidate(bot: string, line: string): Promise<void> {
    return this.request('injectCandidate', { bot, line });
  }

  /** Ends the host; never hangs (kills it if it does not exit by itself). */
  async quit(): Promise<void> {
    if (this.exited) return;
    await this.request('quit').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

/** A bot joined to a room: its MediaPeer and what its subscriber transport carries. */
export interface JoinedBot {
  name: string;
  peer: MediaPeer;
  /** tracks of the latest subscriber offer the bot answered */
  tracks: SubscribedTrack[];
  offers: number;
  errors: Error[];
}

/** Adds a peer, wires its subscriber negotiation to the bot and publishes the bot's tracks. */
export async function joinBot(
  room: MediaRoom,
  host: BotHost,
  name: string,
  opts: BotOptions & { canPublish?: { audio: boolean; video: boolean; screen: boolean } } = {},
): Promise<JoinedBot> {
  const canPublish = opts.canPublish ?? { audio: true, video: true, screen: true };
  await host.create(name, opts);
  const peer = await room.addPeer(name, { canPublish });
  const joined: JoinedBot = { name, peer, tracks: [], offers: 0, errors: [] };
  let answered = 0;
  const onOffer = (offer: { sdp: string; tracks: SubscribedTrack[]; version: number }) => {
    if (offer.version <= answered) return;
    answered = offer.version;
    host
      .subOffer(name, offer.sdp)
      .then(async ({ sdp }) => {
        joined.tracks = offer.tracks;
        joined.offers++;
        await peer.subscriberAnswer(sdp);
      })
      .catch((error: unknown) => {
        if (!peer.closed) joined.errors.push(error instanceof Error ? error : new Error(String(error)));
      });
  };
  peer.on('subscriberOffer', onOffer);
  const pending = peer.pendingSubscriberOffer;
  if (pending) onOffer(pending);
  if (opts.audio !== false || opts.video !== false || opts.screen) await publish(host, joined);
  return joined;
}

export async function publish(host: BotHost, bot: JoinedBot): Promise<void> {
  const { sdp, sources } = await host.offer(bot.name);
  const answer = await bot.peer.publish(sdp, sources);
  await host.answer(bot.name, answer.sdp);
}

/** Polls `check` until it returns true or the time is up; returns the last result. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 200): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
