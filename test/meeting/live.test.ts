import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinResponse, RoomLink, ServerMessage } from '../../src/protocol/messages.js';
import { nativeApi, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 13: a live meeting seen and steered from the account's backend (GET …/live, mute,
// remove, admit, decline, lobby), with bots in a real meeting. Loopback only.
let t: TestServer;
let host: BotHost;
let acc: AccountCredentials;
let other: AccountCredentials;
const bots: MeetingBot[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  host = new BotHost();
  acc = await t.newAccount('live');
  other = await t.newAccount('someone else');
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const otherApi = nativeApi(() => t, () => other.apiToken);
const personal = personalLink;
let seq = 0;

/** A native meeting with a host and `n` participants: the meeting, and everyone's id and link, host first. */
async function meeting(settings: Json, n: number) {
  const m = (await api('POST', '/meetings', { ...settings, host: { externalId: `host-${++seq}`, name: 'Host' } })).body;
  for (let i = 1; i <= n; i++) await api('POST', `/meetings/${m.id}/participants`, { externalId: `p${i}-${seq}`, name: `P${i}` });
  const people = (await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[];
  return { m, people: people.map((p) => ({ id: p.id as string, link: personal(p.joinUrl as string) })) };
}

async function join(name: string, link: RoomLink, opts: Parameters<typeof MeetingBot.join>[4] = {}) {
  const bot = await MeetingBot.join(host, t.url, name, link, opts);
  bots.push(bot);
  return bot;
}

/** A bare socket that opens with a join token for `link` (to wait in a lobby, which a bot cannot). */
async function knock(link: RoomLink): Promise<ServerMessage[]> {
  const join = await send<JoinResponse>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link }) });
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?token=${join.body.joinToken}`);
  sockets.push(ws);
  const messages: ServerMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
  return messages;
}

const live = async (id: string) => (await api('GET', `/meetings/${id}/live`)).body as Json;
const person = async (id: string, pid: string) => ((await live(id)).participants as Json[]).find((p) => p.id === pid);

/** RTP packets (audio) or decoded frames (video) `listener` got from `speaker`'s `source` so far. */
async function received(listener: MeetingBot, speaker: MeetingBot, source: 'microphone' | 'camera'): Promise<number> {
  const mid = listener.tracks.find((x) => x.participantId === speaker.id && x.source === source)?.mid;
  const stat = (await host.stats(listener.name)).inbound.find((s) => s.mid === mid && s.kind === (source === 'microphone' ? 'audio' : 'video'));
  return source === 'microphone' ? stat?.packetsReceived ?? 0 : stat?.framesDecoded ?? 0;
}

/**
 * `speaker`'s `muted` source no longer reaches `listener` while their `flowing` one still does:
 * the flowing one advances by `margin` (proof that time passed with media moving) and the muted
 * one by nothing over that span. (A packet in flight when the mute landed may still arrive first.)
 */
async function stoppedWhileOtherFlows(listener: MeetingBot, speaker: MeetingBot, muted: 'microphone' | 'camera', flowing: 'microphone' | 'camera', margin = 10): Promise<boolean> {
  return eventually(async () => {
    const quiet = await received(listener, speaker, muted);
    const moving = await received(listener, speaker, flowing);
    const advanced = await eventually(async () => (await received(listener, speaker, flowing)) >= moving + margin, 10_000, 100);
    return advanced && (await received(listener, speaker, muted)) === quiet;
  }, 20_000, 0);
}

describe('live state', () => {
  it('lists exactly who is in the room, follows mutes made in the room, and says live: false when nobody is', async () => {
    const { m, people } = await meeting({}, 2);
    expect(await live(m.id)).toMatchObject({ live: false, since: null, participants: [], lobby: [] });

    const hostBot = await join('live-host', people[0]!.link);
    const p1 = await join('live-p1', people[1]!.link);
    // Seats show at once; the session counts as started (since) once a seat's media connects,
    // which the meeting's status records a moment later.
    expect(await eventually(async () => {
      const now = await live(m.id);
      return now.participants.length === 2 && typeof now.since === 'string' && (now.participants as Json[]).every((p) => p.connection === 'connected');
    })).toBe(true);
    const state = await live(m.id);
    expect(state.live).toBe(true);
    expect(typeof state.since).toBe('string');
    const byId = Object.fromEntries((state.participants as Json[]).map((p) => [p.id, p]));
    expect(Object.keys(byId).sort()).toEqual([people[0]!.id, people[1]!.id].sort());
    expect(byId[people[0]!.id]).toMatchObject({ name: 'Host', role: 'host', connection: 'connected', handRaised: false });
    expect(byId[people[1]!.id]).toMatchObject({
      name: 'P1', role: 'participant', externalId: `p1-${seq}`, connection: 'connected',
      audio: { on: true, mutedByHost: false }, video: { on: true, mutedByHost: false }, screen: { on: false, mutedByHost: false },
    });
    expect(people[2]!.id in byId).toBe(false); // invited, never came

    p1.send({ type: 'setMuted', source: 'camera', muted: true });
    p1.send({ type: 'raiseHand', raised: true });
    expect(await eventually(async () => {
      const p = await person(m.id, people[1]!.id);
      return p?.video.on === false && p.video.mutedByHost === false && p.handRaised === true;
    })).toBe(true);

    await hostBot.leave();
    await p1.leave();
    expect(await eventually(async () => (await live(m.id)).participants.length === 0)).toBe(true);
  });
});

describe('commands', () => {
  it('an API mute silences that person for the others and their page is told; remove sends them away with the reason', async () => {
    const { m, people } = await meeting({}, 1);
    const hostBot = await join('cmd-host', people[0]!.link, { audio: false, video: false });
    const p1 = await join('cmd-p1', people[1]!.link);
    expect(await eventually(async () => (await received(hostBot, p1, 'microphone')) > 20 && (await received(hostBot, p1, 'camera')) > 5, 20_000)).toBe(true);

    const muted = await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/mute`, { sources: ['audio'] });
    expect(muted.status).toBe(204);
    // Answered only when done: the room already shows it.
    expect((await person(m.id, people[1]!.id))!.audio).toEqual({ on: false, mutedByHost: true });
    expect(p1.received('muteRequested').at(-1)).toMatchObject({ source: 'microphone', by: 'The organiser' });
    expect(hostBot.received('participantUpdated').some((u) => u.participant.id === p1.id && u.participant.audioMuted)).toBe(true);
    // The bot keeps sending its microphone: the server holds it back, the camera still flows.
    expect(await stoppedWhileOtherFlows(hostBot, p1, 'microphone', 'camera')).toBe(true);

    // They turn it on again themselves: it flows and is no longer "muted by host".
    p1.send({ type: 'setMuted', source: 'microphone', muted: false });
    const before = await received(hostBot, p1, 'microphone');
    expect(await eventually(async () => (await received(hostBot, p1, 'microphone')) > before + 20, 20_000)).toBe(true);
    expect((await person(m.id, people[1]!.id))!.audio).toEqual({ on: true, mutedByHost: false });

    // Camera off from the API: the camera stops, the microphone flows.
    expect((await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/mute`, { sources: ['video'] })).status).toBe(204);
    expect(p1.received('muteRequested').at(-1)).toMatchObject({ source: 'camera' });
    expect(await stoppedWhileOtherFlows(hostBot, p1, 'camera', 'microphone', 25)).toBe(true);

    const removed = await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/remove`, { reason: 'the session is for staff only' });
    expect(removed.status).toBe(204);
    expect(await eventually(() => p1.closed !== undefined)).toBe(true);
    expect(p1.closed).toEqual({ state: 'removed', message: 'The organiser removed you from the meeting: the session is for staff only' });
    expect((await live(m.id)).participants.map((p: Json) => p.id)).toEqual([people[0]!.id]);

    // Someone not in the room now: a 409, not a silent success.
    const again = await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/mute`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    expect((await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/mute`, { sources: [] })).status).toBe(400);
    expect((await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/mute`, { sources: ['volume'] })).status).toBe(400);
  });

  it('an API stop of a screen share stops it for the others until the person shares again', async () => {
    const { m, people } = await meeting({}, 1);
    const hostBot = await join('screen-host', people[0]!.link, { audio: false, video: false });
    const p1 = await join('screen-p1', people[1]!.link, { screen: true });
    expect(await eventually(async () => (await hostBot.framesFrom(p1.id, 'screen')) > 5, 20_000)).toBe(true);
    expect((await person(m.id, people[1]!.id))!.screen).toEqual({ on: false, mutedByHost: false }); // the bot never said it shares

    p1.send({ type: 'setMuted', source: 'screen', muted: false });
    expect(await eventually(async () => (await person(m.id, people[1]!.id))!.screen.on === true)).toBe(true);
    expect((await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/mute`, { sources: ['screen'] })).status).toBe(204);
    expect((await person(m.id, people[1]!.id))!.screen).toEqual({ on: false, mutedByHost: true });
    expect(p1.received('muteRequested').at(-1)).toMatchObject({ source: 'screen' });
    // The bot keeps sending its screen: the server no longer forwards it (its m-line goes), the camera still flows.
    const camera = await hostBot.framesFrom(p1.id, 'camera');
    expect(await eventually(() => !hostBot.tracks.some((x) => x.participantId === p1.id && x.source === 'screen'), 20_000)).toBe(true);
    expect(await eventually(async () => (await hostBot.framesFrom(p1.id, 'camera')) > camera + 10, 20_000)).toBe(true);
    expect(hostBot.tracks.some((x) => x.participantId === p1.id && x.source === 'screen')).toBe(false);

    // They share again: it reaches the others again.
    p1.send({ type: 'setMuted', source: 'screen', muted: false });
    expect(await eventually(async () => (await hostBot.framesFrom(p1.id, 'screen')) > 5, 20_000)).toBe(true);
    expect((await person(m.id, people[1]!.id))!.screen).toEqual({ on: true, mutedByHost: false });
  });

  it('the lobby: who waits is listed, admit lets them in, decline turns them away, and off lets everyone in', async () => {
    const { m, people } = await meeting({ lobby: true }, 3);
    await join('lobby-host', people[0]!.link, { audio: false, video: false });
    const one = await knock(people[1]!.link);
    const two = await knock(people[2]!.link);
    expect(await eventually(async () => (await live(m.id)).lobby.length === 2)).toBe(true);
    const state = await live(m.id);
    expect((state.lobby as Json[]).map((w) => w.name).sort()).toEqual(['P1', 'P2']);
    expect(state.participants).toHaveLength(1);
    expect(one.some((x) => x.type === 'lobby')).toBe(true);

    expect((await api('POST', `/meetings/${m.id}/participants/${people[1]!.id}/admit`)).status).toBe(204);
    expect(one.some((x) => x.type === 'welcome')).toBe(true); // answered when done
    expect((await api('POST', `/meetings/${m.id}/participants/${people[2]!.id}/decline`)).status).toBe(204);
    expect(await eventually(() => two.some((x) => x.type === 'closed'))).toBe(true);
    expect(two.find((x) => x.type === 'closed')).toMatchObject({ state: 'declined', message: 'The organiser did not let you in.' });
    const after = await live(m.id);
    expect(after.lobby).toEqual([]);
    expect((after.participants as Json[]).map((p) => p.id).sort()).toEqual([people[0]!.id, people[1]!.id].sort());
    // Not waiting any more: a 409.
    expect((await api('POST', `/meetings/${m.id}/participants/${people[2]!.id}/admit`)).status).toBe(409);

    const three = await knock(people[3]!.link);
    expect(await eventually(async () => (await live(m.id)).lobby.length === 1)).toBe(true);
    const off = await api('POST', `/meetings/${m.id}/lobby`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body.lobby).toBe(false);
    expect(await eventually(() => three.some((x) => x.type === 'welcome'))).toBe(true);
    expect((await api('POST', `/meetings/${m.id}/lobby`, { enabled: 'yes' })).status).toBe(400);
  });

  it('another account gets 404 for all of it', async () => {
    const { m, people } = await meeting({}, 1);
    await join('own-host', people[0]!.link, { audio: false, video: false });
    const pid = people[0]!.id;
    const calls: [string, string, unknown?][] = [
      ['GET', `/meetings/${m.id}/live`],
      ['POST', `/meetings/${m.id}/participants/${pid}/mute`, { sources: ['audio'] }],
      ['POST', `/meetings/${m.id}/participants/${pid}/remove`],
      ['POST', `/meetings/${m.id}/participants/${pid}/admit`],
      ['POST', `/meetings/${m.id}/participants/${pid}/decline`],
      ['POST', `/meetings/${m.id}/lobby`, { enabled: true }],
    ];
    for (const [method, path, body] of calls) {
      const r = await otherApi(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    // Nothing happened to the meeting.
    expect((await live(m.id)).participants.map((p: Json) => p.id)).toEqual([pid]);
    expect((await api('GET', `/meetings/${m.id}`)).body.lobby).toBe(false);
  });
});
