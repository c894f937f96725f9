import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { TestMediaService } from '../../src/media/testing.js';
import type { JoinResponse, RoomLink } from '../../src/protocol/messages.js';
import { nativeApi, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Issue 11: a real meeting (bots sending known colours and tones, loopback) recorded for ~10 s:
// raw WebM files per participant, one composed MP4 by ffmpeg, the API around them, and faults.
let t: TestServer;
let media: TestMediaService;
let host: BotHost;
let acc: AccountCredentials;
let other: AccountCredentials;
let clockOffsetMs = 0;
const receiver = new WebhookReceiver();
const bots: MeetingBot[] = [];

// I420 colours and what they look like in RGB after the round trip (VP8 → H.264).
const RED: [number, number, number] = [81, 90, 240];
const GREEN: [number, number, number] = [145, 54, 34];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' }, {
    recordingClock: () => Date.now() + clockOffsetMs,
    mediaService: (config, logger) => (media = new TestMediaService(config, logger)),
  });
  host = new BotHost();
  acc = await t.newAccount('recorded');
  other = await t.newAccount('someone else');
  const hook = await api('POST', '/webhooks', { url: await receiver.listen() });
  receiver.secret = hook.body.secret as string;
});
afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
  await receiver.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const otherApi = nativeApi(() => t, () => other.apiToken);
let seq = 0;

async function meeting(n: number, settings: Json = {}) {
  const m = (await api('POST', '/meetings', { ...settings, host: { externalId: `host-${++seq}`, name: 'Host' } })).body;
  for (let i = 1; i <= n; i++) await api('POST', `/meetings/${m.id}/participants`, { externalId: `p${i}-${seq}`, name: `P${i}` });
  const people = (await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[];
  return { m, links: people.map((p) => ({ id: p.id as string, url: p.joinUrl as string, link: personalLink(p.joinUrl as string) })) };
}

async function join(name: string, link: RoomLink, opts: Parameters<typeof MeetingBot.join>[4] = {}) {
  const bot = await MeetingBot.join(host, t.url, name, link, opts);
  bots.push(bot);
  return bot;
}

const ffprobe = (path: string) => JSON.parse(execFileSync('ffprobe', [
  '-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,codec_name,nb_read_packets:format=duration', '-of', 'json', path,
]).toString()) as { streams: { codec_type: string; codec_name: string; nb_read_packets: string }[]; format: { duration: string } };

/** Both streams with packets in them, and the file's length in ms. */
function probe(path: string) {
  const p = ffprobe(path);
  const kinds = p.streams.filter((s) => Number(s.nb_read_packets) > 0).map((s) => `${s.codec_type}:${s.codec_name}`).sort();
  return { kinds, durationMs: Number(p.format.duration) * 1000 };
}

/** A 64x36 RGB frame decoded at `seconds`. */
function frameAt(path: string, seconds: number): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-ss', String(seconds), '-i', path, '-frames:v', '1', '-vf', 'scale=64:36', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
}

/** Whether some pixel of the frame is near `rgb`. */
function shows(frame: Buffer, [r, g, b]: [number, number, number]): boolean {
  for (let i = 0; i + 2 < frame.length; i += 3) {
    if (Math.abs(frame[i]! - r) < 40 && Math.abs(frame[i + 1]! - g) < 40 && Math.abs(frame[i + 2]! - b) < 40) return true;
  }
  return false;
}

function meanVolumeDb(path: string): number {
  const { stderr } = spawnSync('ffmpeg', ['-hide_banner', '-i', path, '-af', 'volumedetect', '-f', 'null', '-'], { encoding: 'utf8' });
  return Number(/mean_volume: (-?[\d.]+) dB/.exec(stderr)?.[1] ?? '-Infinity');
}

/** The recording once it left `processing` (bounded). */
async function settled(id: string): Promise<Json> {
  let r: Json = {};
  await eventually(async () => {
    r = (await api('GET', `/recordings/${id}`)).body;
    return r.state === 'ready' || r.state === 'failed';
  }, 50_000, 500);
  return r;
}

describe('a recorded meeting', () => {
  let rec: Json;
  let hostBot: MeetingBot;
  let p1: MeetingBot;
  let m: Json;
  let links: Awaited<ReturnType<typeof meeting>>['links'];

  it('a participant without `record` cannot start it; the host can; everyone sees it; a joiner is told before entering', async () => {
    ({ m, links } = await meeting(2));
    hostBot = await join('rec-host', links[0]!.link, { loud: true, color: RED, tone: 440 });
    p1 = await join('rec-p1', links[1]!.link, { loud: true, color: GREEN, tone: 880 });
    expect(await eventually(async () => (await hostBot.framesFrom(p1.id)) > 10 && (await p1.framesFrom(hostBot.id)) > 10, 20_000)).toBe(true);

    p1.send({ type: 'recording', action: 'start' });
    expect(await eventually(() => p1.received('error').some((e) => e.code === 'forbidden'))).toBe(true);
    expect((await api('GET', '/recordings')).body.data).toEqual([]);

    hostBot.send({ type: 'recording', action: 'start' });
    expect(await eventually(() => [hostBot, p1].every((b) => b.received('recording').some((r) => r.recording)))).toBe(true);
    const list = (await api('GET', '/recordings')).body;
    expect(list.data).toHaveLength(1);
    rec = list.data[0];
    expect(rec).toMatchObject({ meetingId: m.id, state: 'recording', startedBy: links[0]!.id });
    // Two can't run at once.
    expect((await api('POST', `/meetings/${m.id}/recording/start`)).status).toBe(409);

    // The pre-join page and the join answer both say so.
    const page = await send<string>(links[2]!.url, { method: 'GET' });
    expect(page.body).toContain('"recording":true');
    const answer = await send<JoinResponse>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: links[2]!.link }) });
    expect(answer.body.recording).toBe(true);
  });

  it('~10 s later the API stops it: raw files per participant, both streams, as long as the span', async () => {
    await new Promise((r) => setTimeout(r, 10_000)); // the span being recorded; everything below is measured in it
    const stopped = await api('POST', `/meetings/${m.id}/recording/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.state).toBe('processing');
    expect(await eventually(() => [hostBot, p1].every((b) => b.received('recording').some((r) => !r.recording)))).toBe(true);
    rec = stopped.body;
    expect(rec.tracks).toHaveLength(2);
    expect(rec.tracks.map((x: Json) => x.participantId).sort()).toEqual([links[0]!.id, links[1]!.id].sort());
    const dir = joinPath(t.dataDir, 'recordings', rec.id);
    const raw = readdirSync(dir).filter((f) => f.endsWith('.webm'));
    expect(raw).toHaveLength(2);
    for (const file of raw) {
      const p = probe(joinPath(dir, file));
      expect(p.kinds).toEqual(['audio:opus', 'video:vp8']);
      const track = rec.tracks.find((x: Json) => file.startsWith(x.participantId));
      expect(Math.abs(p.durationMs - (rec.durationMs - track.offsetMs))).toBeLessThan(1000);
    }
  });

  it('the composed MP4: H.264 + AAC, the span long, both colours mid-way, not silent; ready is signed', async () => {
    const ready = await settled(rec.id);
    expect(ready.state, ready.error).toBe('ready');
    expect(ready.progress).toBe(1);
    const file = joinPath(t.dataDir, 'recordings', rec.id, 'composed.mp4');
    const p = probe(file);
    expect(p.kinds).toEqual(['audio:aac', 'video:h264']);
    expect(Math.abs(p.durationMs - ready.durationMs)).toBeLessThan(1000);
    expect(ready.sizeBytes).toBeGreaterThan(0);
    const frame = frameAt(file, ready.durationMs / 2000);
    expect(shows(frame, [255, 0, 0])).toBe(true);
    expect(shows(frame, [0, 255, 0])).toBe(true);
    expect(meanVolumeDb(file)).toBeGreaterThan(-40);

    expect(await eventually(() => receiver.of('recording.ready').length > 0, 20_000)).toBe(true);
    const [delivered] = receiver.of('recording.ready');
    expect(delivered!.verified).toBe(true);
    expect(delivered!.event).toMatchObject({ meeting: { id: m.id }, data: { recording: { id: rec.id, state: 'ready' } } });
    expect(receiver.of('recording.started').some((r) => r.verified && r.event.data.recording.id === rec.id)).toBe(true);
  });

  it('downloads through a signed link: Range answers 206; a changed or expired link is refused', async () => {
    const link = await api('POST', `/recordings/${rec.id}/download`);
    expect(link.status).toBe(200);
    const url = link.body.url as string;
    const part = await fetch(url, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    const size = (await api('GET', `/recordings/${rec.id}`)).body.sizeBytes;
    expect((await whole.arrayBuffer()).byteLength).toBe(size);
    expect((await fetch(url, { headers: { range: `bytes=${size + 10}-` } })).status).toBe(416);

    // Another first character, whatever it was: 'A' alone left one signature in 64 unchanged.
    const changedSignature = url.replace(/signature=(.)/, (_, first: string) => `signature=${first === 'A' ? 'B' : 'A'}`);
    expect(changedSignature).not.toBe(url);
    expect((await fetch(changedSignature)).status).toBe(403);
    expect((await fetch(url.replace(/expires=\d+/, (e) => `expires=${Number(e.slice(8)) + 1000}`))).status).toBe(403);
    clockOffsetMs = 301_000; // past the default 300 s
    try {
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      expect(((await expired.json()) as Json).error.message).toMatch(/expired/);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('is the account’s own: listed, not visible to another account, deleted with its files', async () => {
    expect((await otherApi('GET', `/recordings/${rec.id}`)).status).toBe(404);
    expect((await otherApi('POST', `/meetings/${m.id}/recording/stop`)).status).toBe(404);
    expect((await api('GET', '/recordings?limit=1')).body.data[0].id).toBe(rec.id);
    expect((await api('DELETE', `/recordings/${rec.id}`)).status).toBe(204);
    expect((await api('GET', `/recordings/${rec.id}`)).status).toBe(404);
    expect(await eventually(() => !existsSync(joinPath(t.dataDir, 'recordings', rec.id)))).toBe(true);
  });
});

describe('autoRecord', () => {
  it('a meeting set to autoRecord is recorded from its start; the host stops it from the room; retention deletes it', async () => {
    const { m, links } = await meeting(1, { autoRecord: true });
    expect(m.autoRecord).toBe(true);
    const a = await join('auto-a', links[0]!.link, { loud: true, color: RED });
    expect(await eventually(async () => ((await api('GET', '/recordings')).body.data as Json[]).some((r) => r.meetingId === m.id && r.state === 'recording'), 20_000)).toBe(true);
    const rec = ((await api('GET', '/recordings')).body.data as Json[]).find((r) => r.meetingId === m.id)!;
    expect(rec.startedBy).toBe('auto');
    expect(await eventually(() => a.received('recording').some((r) => r.recording) || a.welcome?.recording === true)).toBe(true);
    a.send({ type: 'recording', action: 'stop' });
    expect(await eventually(async () => ['ready', 'failed'].includes((await api('GET', `/recordings/${rec.id}`)).body.state), 50_000, 500)).toBe(true);

    // Retention: kept while younger than the account's days, deleted with its files after.
    expect((await api('PATCH', '/account', { recordingRetentionDays: 0 })).status).toBe(400);
    const patched = await api('PATCH', '/account', { recordingRetentionDays: 1 });
    expect(patched.body.recordingRetentionDays, JSON.stringify(patched.body)).toBe(1);
    await t.server.composer.applyRetention();
    expect((await api('GET', `/recordings/${rec.id}`)).status).toBe(200);
    clockOffsetMs = 2 * 86_400_000;
    try {
      await t.server.composer.applyRetention();
    } finally {
      clockOffsetMs = 0;
      await api('PATCH', '/account', { recordingRetentionDays: null });
    }
    expect((await api('GET', `/recordings/${rec.id}`)).status).toBe(404);
    expect(await eventually(() => !existsSync(joinPath(t.dataDir, 'recordings', rec.id)))).toBe(true);
  });
});

describe('faults', () => {
  it('a full disk stops the recording cleanly: the meeting goes on, the room is told, what was written stays playable', async () => {
    const { m, links } = await meeting(1);
    const a = await join('disk-a', links[0]!.link, { loud: true, color: RED });
    const b = await join('disk-b', links[1]!.link, { loud: true, color: GREEN });
    expect(await eventually(async () => (await b.framesFrom(a.id)) > 10, 20_000)).toBe(true);
    await media.failRecordingWrites(m.id, 40_000); // about two seconds of these two participants
    try {
      const started = await api('POST', `/meetings/${m.id}/recording/start`);
      expect(started.status).toBe(201);
      expect(await eventually(() => a.received('recording').some((r) => !r.recording && /no space/i.test(r.error ?? '')), 30_000)).toBe(true);
      expect(b.received('recording').some((r) => !r.recording && r.error)).toBe(true);
      // The meeting goes on.
      const seen = await b.framesFrom(a.id);
      expect(await eventually(async () => (await b.framesFrom(a.id)) > seen + 20, 10_000)).toBe(true);
      expect((await api('GET', `/meetings/${m.id}`)).body.status).toBe('in_progress');
      const r = await settled(started.body.id);
      expect(r.error).toMatch(/no space/i);
      const dir = joinPath(t.dataDir, 'recordings', r.id);
      const raw = readdirSync(dir).filter((f) => f.endsWith('.webm'));
      expect(raw.length).toBeGreaterThan(0);
      for (const file of raw) expect(probe(joinPath(dir, file)).kinds.length).toBeGreaterThan(0);
    } finally {
      await media.failRecordingWrites(m.id, Number.MAX_SAFE_INTEGER);
    }
  });

  it('a media worker crash keeps what was written: the files are read as they are and composed', async () => {
    const { m, links } = await meeting(1);
    const a = await join('crash-a', links[0]!.link, { loud: true, color: RED });
    const b = await join('crash-b', links[1]!.link, { loud: true, color: GREEN });
    expect(await eventually(async () => (await b.framesFrom(a.id)) > 10, 20_000)).toBe(true);
    const started = await api('POST', `/meetings/${m.id}/recording/start`);
    expect(started.status).toBe(201);
    const dir = joinPath(t.dataDir, 'recordings', started.body.id);
    // Some media written, then the worker dies mid-file.
    expect(await eventually(() => existsSync(dir) && readdirSync(dir).length === 2, 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    await media.killWorkerForTesting(0);
    expect(await eventually(() => a.received('recording').some((r) => !r.recording), 20_000)).toBe(true);
    const r = await settled(started.body.id);
    expect(r.state, r.error).toBe('ready');
    expect(r.error).toMatch(/worker/);
    expect(r.tracks.length).toBe(2);
    const p = probe(joinPath(dir, 'composed.mp4'));
    expect(p.kinds).toEqual(['audio:aac', 'video:h264']);
    expect(p.durationMs).toBeGreaterThan(2000);
  });
});

describe('a server restart', () => {
  it('composes what the previous process left processing', async () => {
    const first = await startTestServer({ MEDIA_WORKERS: '1' });
    const account = await first.newAccount('restarted');
    const call = (url: string) => nativeApi(() => ({ url }), () => account.apiToken);
    let second: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const m = (await call(first.url)('POST', '/meetings', { host: { externalId: 'h', name: 'Host' } })).body;
      const people = (await call(first.url)('GET', `/meetings/${m.id}/participants`)).body.data as Json[];
      const bot = await MeetingBot.join(host, first.url, 'restart-a', personalLink(people[0]!.joinUrl as string), { loud: true, color: RED });
      bots.push(bot);
      expect(await eventually(async () => (await call(first.url)('GET', `/meetings/${m.id}`)).body.status === 'in_progress', 20_000)).toBe(true);
      const started = await call(first.url)('POST', `/meetings/${m.id}/recording/start`);
      expect(started.status).toBe(201);
      await new Promise((r) => setTimeout(r, 3000));
      await first.server.composer.stop(); // this process will not compose it
      expect((await call(first.url)('POST', `/meetings/${m.id}/recording/stop`)).body.state).toBe('processing');
      await bot.stop();
      await first.server.close();

      second = await startServer({ config: loadConfig(first.env), logger: false, env: first.env });
      const api2 = call(second.url);
      let r: Json = {};
      expect(await eventually(async () => (r = (await api2('GET', `/recordings/${started.body.id}`)).body).state === 'ready', 50_000, 500)).toBe(true);
      expect(r.progress).toBe(1);
      expect(probe(joinPath(first.dataDir, 'recordings', r.id, 'composed.mp4')).kinds).toEqual(['audio:aac', 'video:h264']);
    } finally {
      await second?.close();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
