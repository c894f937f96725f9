// Last-N with real media: five bots, each may receive two cameras; the latest speakers' are the
// ones forwarded, everyone's audio flows. Loopback only, no STUN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaService, type MediaLogger, type MediaRoom, type PausedVideo } from '../../src/media/index.js';
import { BotHost, joinBot, waitFor, type JoinedBot } from './helpers/bots.js';

const debugLines: { obj: Record<string, unknown>; msg?: string }[] = [];
const traceLines: { obj: Record<string, unknown>; msg?: string }[] = [];
const logger: MediaLogger = {
  isLevelEnabled: (level) => level === 'debug' || level === 'trace',
  debug: (obj, msg) => debugLines.push({ obj: obj as Record<string, unknown>, msg }),
  trace: (obj, msg) => traceLines.push({ obj: obj as Record<string, unknown>, msg }),
  info: () => undefined,
  warn: () => undefined,
  error: (obj, msg) => console.error(msg, obj),
};
const NAMES = ['p0', 'p1', 'p2', 'p3', 'p4'];

/** Frames each bot decoded so far per publisher's camera, and audio packets per publisher. */
async function counts(host: BotHost, bot: JoinedBot) {
  const [frames, stats] = await Promise.all([host.frames(bot.name), host.stats(bot.name)]);
  const out: Record<string, { frames: number; audio: number }> = {};
  for (const p of NAMES.filter((n) => n !== bot.name)) {
    const camera = bot.tracks.find((t) => t.peerId === p && t.source === 'camera');
    const mic = bot.tracks.find((t) => t.peerId === p && t.source === 'microphone');
    out[p] = {
      frames: camera ? (frames[camera.mid] ?? 0) : 0,
      audio: stats.inbound.find((s) => s.kind === 'audio' && s.mid === mic?.mid)?.packetsReceived ?? 0,
    };
  }
  return out;
}

/** Which cameras each bot decodes new frames of, and whether all the others' audio grows. */
async function receiving(host: BotHost, bots: JoinedBot[]): Promise<{ cameras: Record<string, string[]>; allAudio: boolean }> {
  const before = await Promise.all(bots.map((b) => counts(host, b)));
  // Long enough for a resumed camera's keyframe and some frames; a paused one adds none.
  await new Promise((r) => setTimeout(r, 2500));
  const after = await Promise.all(bots.map((b) => counts(host, b)));
  const cameras: Record<string, string[]> = {};
  let allAudio = true;
  bots.forEach((b, i) => {
    const from = Object.keys(after[i]!);
    cameras[b.name] = from.filter((p) => after[i]![p]!.frames - before[i]![p]!.frames >= 5).sort();
    allAudio &&= from.every((p) => after[i]![p]!.audio - before[i]![p]!.audio >= 20);
  });
  return { cameras, allAudio };
}

const pausedOf = (videos: PausedVideo[]) => videos.map((v) => `${v.peerId}:${v.reason}`).sort();

describe('last-N (2) in a room of five', () => {
  let svc: MediaService;
  let room: MediaRoom;
  let host: BotHost;
  const bots: JoinedBot[] = [];

  beforeAll(async () => {
    svc = new MediaService({ listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], iceServers: [], workers: 1, lastN: 2 }, logger);
    await svc.start();
    room = await svc.openRoom('last-n');
    host = new BotHost();
    for (const name of NAMES) bots.push(await joinBot(room, host, name, { loud: name === 'p0' }));
  });

  afterAll(async () => {
    await host?.quit();
    await svc?.stop();
  });

  it('forwards the cameras of the two latest speakers (then arrivals), pauses the rest, and keeps every voice', async () => {
    expect(await waitFor(() => room.activeSpeaker === 'p0', 10_000)).toBe(true);
    // Ranking p0 (spoke), then arrival order.
    const expected = { p0: ['p1', 'p2'], p1: ['p0', 'p2'], p2: ['p0', 'p1'], p3: ['p0', 'p1'], p4: ['p0', 'p1'] };
    let seen: Awaited<ReturnType<typeof receiving>> | undefined;
    const settled = await waitFor(async () => {
      seen = await receiving(host, bots);
      return JSON.stringify(seen.cameras) === JSON.stringify(expected) && seen.allAudio;
    }, 30_000, 0);
    expect(seen).toEqual({ cameras: expected, allAudio: true });
    expect(settled).toBe(true);
    expect(pausedOf(bots[0]!.peer.videoPaused)).toEqual(['p3:last-n', 'p4:last-n']);
    expect(pausedOf(bots[3]!.peer.videoPaused)).toEqual(['p2:last-n', 'p4:last-n']);
    // At debug level, each subscriber's layer decisions are logged: what it receives and why.
    const decided = debugLines.filter((l) => l.msg === 'video layers chosen');
    expect(new Set(decided.map((l) => l.obj.peer))).toEqual(new Set(NAMES));
    const ofP0 = decided.filter((l) => l.obj.peer === 'p0').at(-1)!.obj as { videos: { video: string; layer: number }[] };
    expect(ofP0.videos.map((v) => v.video).sort()).toEqual(['p1:camera', 'p2:camera']);
    // At trace level, also every decision that changed nothing.
    expect(traceLines.filter((l) => l.msg === 'video layers chosen' && l.obj.peer === 'p0').length).toBeGreaterThan(0);
    // Nothing was renegotiated for it: each bot still has all four others' m-lines.
    for (const b of bots) expect(b.tracks.filter((t) => t.source === 'camera')).toHaveLength(4);
  });

  it('when someone else speaks, their camera reaches everyone and the least recent one is paused', async () => {
    const events: PausedVideo[][] = [];
    bots[2]!.peer.on('videoPaused', (videos) => events.push(videos));
    await host.setLoud('p0', false);
    await host.setLoud('p4', true);
    expect(await waitFor(() => room.activeSpeaker === 'p4', 10_000)).toBe(true);
    // Ranking p4, p0, p1, p2, p3.
    const expected = { p0: ['p1', 'p4'], p1: ['p0', 'p4'], p2: ['p0', 'p4'], p3: ['p0', 'p4'], p4: ['p0', 'p1'] };
    let seen: Awaited<ReturnType<typeof receiving>> | undefined;
    await waitFor(async () => {
      seen = await receiving(host, bots);
      return JSON.stringify(seen.cameras) === JSON.stringify(expected) && seen.allAudio;
    }, 30_000, 0);
    expect(seen).toEqual({ cameras: expected, allAudio: true });
    expect(events.map(pausedOf).at(-1)).toEqual(['p1:last-n', 'p3:last-n']);
    for (const b of bots) expect(b.errors).toEqual([]);
  });
});
