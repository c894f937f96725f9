import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { RoomLink } from '../../src/protocol/messages.js';
import { nativeApi } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// What the server forwards follows the mute flags and the settings, whatever the page does:
// the bots here never react to muteRequested or permissions messages (hand-made clients that
// keep sending), so what the others receive is the server's doing. Loopback only.
let t: TestServer;
let host: BotHost;
let acc: AccountCredentials;
const bots: MeetingBot[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  host = new BotHost();
  acc = await t.newAccount('permissions');
});
afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
let seq = 0;
const api = nativeApi(() => t, () => acc.apiToken);
const personal = personalLink;

/** A native meeting with a host and `n` participants; their personal links, host first. */
async function meeting(settings: Json, n: number) {
  const m = (await api('POST', '/meetings', { ...settings, host: { externalId: `host-${++seq}`, name: 'Host' } })).body;
  for (let i = 1; i <= n; i++) await api('POST', `/meetings/${m.id}/participants`, { externalId: `p${i}-${seq}`, name: `P${i}` });
  const people = (await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[];
  return { m, links: people.map((p) => personal(p.joinUrl as string)) };
}

async function join(name: string, link: RoomLink, opts: Parameters<typeof MeetingBot.join>[4] = {}) {
  const bot = await MeetingBot.join(host, t.url, name, link, opts);
  bots.push(bot);
  return bot;
}

/** The m-line through which `listener` receives `source` of `speaker` now (undefined: none carries it). */
const midOf = (listener: MeetingBot, speaker: MeetingBot, source: 'microphone' | 'camera') =>
  listener.tracks.find((x) => x.participantId === speaker.id && x.source === source)?.mid;

/** RTP packets (audio) or decoded frames (video) `listener` got on `mid` so far. */
async function receivedOn(listener: MeetingBot, mid: string, kind: 'audio' | 'video'): Promise<number> {
  const stat = (await host.stats(listener.name)).inbound.find((s) => s.mid === mid && s.kind === kind);
  return kind === 'audio' ? stat?.packetsReceived ?? 0 : stat?.framesDecoded ?? 0;
}

/** `listener` gets `speaker`'s `source` now: an m-line carries it and packets keep arriving on it. */
async function flowing(listener: MeetingBot, speaker: MeetingBot, source: 'microphone' | 'camera'): Promise<boolean> {
  const kind = source === 'microphone' ? 'audio' : 'video';
  const mid = midOf(listener, speaker, source);
  if (!mid) return false;
  const before = await receivedOn(listener, mid, kind);
  return eventually(async () => midOf(listener, speaker, source) === mid && (await receivedOn(listener, mid, kind)) > before + 2, 2000, 100);
}

/** Packets of `source` that `speaker` has sent so far: the bots keep sending whatever the server does. */
async function sent(speaker: MeetingBot, source: 'microphone' | 'camera'): Promise<number> {
  const kind = source === 'microphone' ? 'audio' : 'video';
  return (await host.stats(speaker.name)).outbound.filter((s) => s.kind === kind).reduce((n, s) => n + s.packetsSent, 0);
}

/**
 * Nothing of `speaker`'s `source` reaches `listener` though the speaker keeps sending it: over a
 * span in which the speaker sent `margin` more packets of it (the proof that the forwarding had
 * its chance), the m-line that carries it (a muted source keeps its m-line), or else the one that
 * carried it, got none.
 */
async function stopped(listener: MeetingBot, speaker: MeetingBot, source: 'microphone' | 'camera', oldMid: string | undefined, margin = 25): Promise<boolean> {
  const mid = midOf(listener, speaker, source) ?? oldMid;
  if (!mid) return true;
  const kind = source === 'microphone' ? 'audio' : 'video';
  const got = await receivedOn(listener, mid, kind);
  const base = await sent(speaker, source);
  if (!(await eventually(async () => (await sent(speaker, source)) >= base + margin, 10_000, 100))) return false;
  return (await receivedOn(listener, mid, kind)) === got;
}

describe('server-side mute', () => {
  it('a moderator’s mute stops the microphone reaching the others though the client keeps sending; it resumes when they unmute', async () => {
    const { links } = await meeting({}, 2);
    const h = await join('mute-host', links[0], { audio: false, video: false });
    const speaker = await join('mute-speaker', links[1], { loud: true });
    const other = await join('mute-other', links[2], { audio: false, video: false });
    expect(await eventually(() => flowing(h, speaker, 'microphone'))).toBe(true);
    expect(await eventually(() => flowing(other, speaker, 'microphone'))).toBe(true);
    const oldMids = [midOf(h, speaker, 'microphone'), midOf(other, speaker, 'microphone')];
    const offers = () => other.received('subscriberOffer').length;
    const offersBefore = offers();

    h.send({ type: 'moderate', action: 'mute', participantId: speaker.id });
    expect(await eventually(() => speaker.received('muteRequested').length === 1)).toBe(true);
    // The bot ignores the request and keeps sending its tone.
    expect(await eventually(() => stopped(h, speaker, 'microphone', oldMids[0]))).toBe(true);
    expect(await eventually(() => stopped(other, speaker, 'microphone', oldMids[1]))).toBe(true);
    // Its camera is not affected.
    expect(await eventually(() => flowing(other, speaker, 'camera'))).toBe(true);

    speaker.send({ type: 'setMuted', source: 'microphone', muted: false });
    expect(await eventually(() => flowing(h, speaker, 'microphone'))).toBe(true);
    expect(await eventually(() => flowing(other, speaker, 'microphone'))).toBe(true);
    // Held, not removed: the others kept their m-lines, so neither change renegotiated.
    expect(midOf(other, speaker, 'microphone')).toBe(oldMids[1]);
    expect(offers()).toBe(offersBefore);
    for (const b of [h, speaker, other]) await b.leave();
  }, 60_000);

  it('a preset that starts muted with the camera off forwards neither until the person turns them on', async () => {
    const preset = (await api('POST', '/presets', { name: `Quiet start ${++seq}`, startAudioMuted: true, startVideoOff: true })).body;
    const { links } = await meeting({ preset: preset.name }, 1);
    const listener = await join('quiet-listener', links[0], { audio: false, video: false });
    const speaker = await join('quiet-speaker', links[1], { loud: true });
    expect(speaker.welcome!.self).toMatchObject({ audioMuted: true, videoMuted: true });
    // The bot sends both from the start (stopped() waits until it has sent more of each).
    expect(await stopped(listener, speaker, 'microphone', undefined)).toBe(true);
    expect(await stopped(listener, speaker, 'camera', undefined)).toBe(true);

    speaker.send({ type: 'setMuted', source: 'camera', muted: false });
    expect(await eventually(() => flowing(listener, speaker, 'camera'))).toBe(true);
    expect(await stopped(listener, speaker, 'microphone', undefined)).toBe(true);
    speaker.send({ type: 'setMuted', source: 'microphone', muted: false });
    expect(await eventually(() => flowing(listener, speaker, 'microphone'))).toBe(true);
    for (const b of [listener, speaker]) await b.leave();
  }, 60_000);
});

describe('settings changed while the room runs', () => {
  it('a new preset for the meeting, then a change of that preset, reach the people in the room', async () => {
    const { m, links } = await meeting({}, 1);
    const listener = await join('settings-listener', links[0], { audio: false, video: false });
    const speaker = await join('settings-speaker', links[1], { loud: true });
    expect(await eventually(() => flowing(listener, speaker, 'microphone'))).toBe(true);
    const oldMid = midOf(listener, speaker, 'microphone');

    // The meeting gets a preset without microphone and chat.
    const preset = (await api('POST', '/presets', { name: `Listen only ${++seq}`, publishAudio: false, chat: false })).body;
    expect((await api('PATCH', `/meetings/${m.id}`, { preset: preset.name })).status).toBe(200);
    const latest = () => speaker.received('permissions').at(-1)?.permissions;
    expect(await eventually(() => latest()?.publishAudio === false)).toBe(true);
    expect(latest()).toMatchObject({ publishAudio: false, publishVideo: true, chat: false, moderate: false });
    expect(await eventually(() => listener.received('participantUpdated').some((u) => u.participant.id === speaker.id && u.participant.audioMuted))).toBe(true);
    expect(await eventually(() => stopped(listener, speaker, 'microphone', oldMid))).toBe(true);
    speaker.send({ type: 'chat', text: 'still here?' });
    expect(await eventually(() => speaker.received('error').some((e) => e.code === 'forbidden'))).toBe(true);
    // The host keeps moderating: hosts always do, whatever the preset says.
    expect(listener.received('permissions').every((x) => x.permissions.moderate)).toBe(true);

    // The preset itself changes: the microphone is allowed again, but stays off until turned on.
    expect((await api('PATCH', `/presets/${preset.id}`, { publishAudio: true })).status).toBe(200);
    expect(await eventually(() => latest()?.publishAudio === true)).toBe(true);
    expect(await stopped(listener, speaker, 'microphone', undefined)).toBe(true);
    speaker.send({ type: 'setMuted', source: 'microphone', muted: false });
    expect(await eventually(() => flowing(listener, speaker, 'microphone'))).toBe(true);
    for (const b of [listener, speaker]) await b.leave();
  }, 60_000);
});
