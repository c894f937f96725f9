import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinResponse, RoomLink, ServerMessage } from '../../src/protocol/messages.js';
import { CLOSING_TEXT } from '../../src/protocol/states.js';
import { basic, nativeApi, post, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Presence and seats under races: reports that arrive late or out of order, seats taken past
// capacity, pages whose socket is down when the meeting closes. Bots and bare sockets join
// through the real join API and WebSocket; loopback only.
let t: TestServer;
let host: BotHost;
let acc: AccountCredentials;
const bots: MeetingBot[] = [];
const sockets: WebSocket[] = [];
const restore: (() => void)[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1', IDLE_TIMEOUT_SECONDS: '2', RESUME_WINDOW_SECONDS: '4' });
  host = new BotHost();
  acc = await t.newAccount('presence');
});
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
let seq = 0;
const lm = (method: string, data: Record<string, unknown>) => post<Json>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
const api = nativeApi(() => t, () => acc.apiToken);
const personal = personalLink;
const status = async (key: string) => (await lm('getMeetingStatus', { meetingKey: key })).body.status as string;
const pstatus = async (key: string, puid: string) => (await lm('getParticipantStatus', { meetingKey: key, puid })).body.status as string;
const joinToken = async (link: RoomLink, name?: string) => {
  const r = await send<JoinResponse & { error?: { state?: string } }>(`${t.url}/rtc/join`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link, ...(name ? { name } : {}) }),
  });
  if (r.status !== 200) throw new Error(`join refused: ${r.status} ${r.text}`);
  return r.body.joinToken;
};

/** A LiveMinutes meeting with a host and `n` participants p1…pn; their personal links. */
async function meeting(n: number) {
  const key = `presence-${++seq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Host' });
  const links: RoomLink[] = [personal(created.body.hostUrl as string)];
  for (let i = 1; i <= n; i++) links.push(personal((await lm('addParticipant', { meetingKey: key, puid: `p${i}`, nickname: `P${i}` })).body.participantUrl as string));
  return { key, links };
}

async function join(name: string, link: RoomLink, opts: Parameters<typeof MeetingBot.join>[4] = {}) {
  const bot = await MeetingBot.join(host, t.url, name, link, opts);
  bots.push(bot);
  return bot;
}

/** A bare socket (no media: seated, but never "connected" for the core) that records what it hears. */
function bareSocket(query: string): { ws: WebSocket; messages: ServerMessage[] } {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?${query}`);
  sockets.push(ws);
  const messages: ServerMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
  return { ws, messages };
}

/**
 * Holds the core's presence.connected calls until `release()`, as a slow database would:
 * the report is made, its effect lands later.
 */
function holdConnected() {
  const presence = t.server.core.presence;
  const original = presence.connected.bind(presence);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  const held: string[] = [];
  const landed: string[] = [];
  presence.connected = async (meetingId, participantId) => {
    held.push(participantId);
    await gate;
    try {
      return await original(meetingId, participantId);
    } finally {
      landed.push(participantId);
    }
  };
  restore.push(() => { presence.connected = original; });
  return { held, landed, release: () => open() };
}

describe('presence reports', () => {
  it('someone who leaves while their "connected" is still being recorded ends up left (11), not in progress', async () => {
    const m = await meeting(1);
    const h = await join('race-host', m.links[0], { audio: false });
    expect(await eventually(async () => (await pstatus(m.key, 'host')) === '10')).toBe(true);
    const hold = holdConnected();
    const p = await join('race-p1', m.links[1], { audio: false });
    expect(await eventually(() => hold.held.includes(p.id))).toBe(true);
    await p.leave(); // "left" is reported while "connected" has not landed yet
    expect(await eventually(() => h.received('participantLeft').some((x) => x.participantId === p.id))).toBe(true);
    hold.release();
    expect(await eventually(async () => (await pstatus(m.key, 'p1')) === '11')).toBe(true);
    await h.leave();
  });

  it('a "connected" that lands after the host ended the meeting for all does not reopen it', async () => {
    const m = await meeting(1);
    const h = await join('late-host', m.links[0], { audio: false });
    expect(await eventually(async () => (await status(m.key)) === '8')).toBe(true);
    const hold = holdConnected();
    const p = await join('late-p1', m.links[1], { audio: false });
    expect(await eventually(() => hold.held.includes(p.id))).toBe(true);
    h.send({ type: 'endForAll' });
    expect(await eventually(() => p.closed?.state === 'ended')).toBe(true);
    expect(await status(m.key)).toBe('12');
    hold.release();
    expect(await eventually(() => hold.landed.includes(p.id))).toBe(true);
    expect(await status(m.key)).toBe('12');
    expect((await t.server.store.meetings.findByKey(acc.accountId, m.key))!.endReason).toBe('host_ended');
    expect(await pstatus(m.key, 'p1')).not.toBe('10');
    for (const b of [h, p]) await b.stop();
  });
});

/** A native meeting; `host` gets a personal link. */
async function nativeMeeting(settings: Json) {
  const m = (await api('POST', '/meetings', { ...settings, host: { externalId: `host-${++seq}`, name: 'Hosta' } })).body;
  const people = (await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[];
  return { m, hostLink: personal(people[0].joinUrl as string), publicLink: { kind: 'public', code: (m.links.meeting as string).split('/').pop()! } as RoomLink };
}

const welcomed = (s: { messages: ServerMessage[] }) => s.messages.some((x) => x.type === 'welcome');
const closedState = (s: { messages: ServerMessage[] }) => (s.messages.find((x) => x.type === 'closed') as { state?: string } | undefined)?.state;

describe('seats and capacity', () => {
  it('capacity is checked when the seat is taken: a token issued while there was room gets "full" once there is none', async () => {
    const { publicLink } = await nativeMeeting({ maxParticipants: 2 });
    // Tokens are handed out ahead (personal links prefetch them): all three while the room is empty.
    const tokens = [await joinToken(publicLink, 'One'), await joinToken(publicLink, 'Two'), await joinToken(publicLink, 'Three')];
    const one = bareSocket(`token=${tokens[0]}`);
    expect(await eventually(() => welcomed(one))).toBe(true);
    const two = bareSocket(`token=${tokens[1]}`);
    expect(await eventually(() => welcomed(two))).toBe(true);
    const three = bareSocket(`token=${tokens[2]}`);
    expect(await eventually(() => closedState(three) === 'full')).toBe(true);
    expect(welcomed(three)).toBe(false);
    expect(closedState(one)).toBeUndefined();
    one.ws.close();
    two.ws.close();
  });

  it('people in the lobby take no seat; letting someone in past capacity is refused with a reason for the moderator', async () => {
    const { hostLink, publicLink } = await nativeMeeting({ maxParticipants: 2, lobby: true });
    const hostSocket = bareSocket(`token=${await joinToken(hostLink)}`);
    expect(await eventually(() => welcomed(hostSocket))).toBe(true);
    const knockers = [bareSocket(`token=${await joinToken(publicLink, 'Knock A')}`), bareSocket(`token=${await joinToken(publicLink, 'Knock B')}`)];
    const queue = () => (hostSocket.messages.filter((x) => x.type === 'lobbyQueue').at(-1) as Extract<ServerMessage, { type: 'lobbyQueue' }> | undefined)?.waiting ?? [];
    expect(await eventually(() => queue().length === 2)).toBe(true);
    const [a, b] = queue();
    hostSocket.ws.send(JSON.stringify({ type: 'admit', participantId: a.id }));
    expect(await eventually(() => welcomed(knockers[0]))).toBe(true);
    hostSocket.ws.send(JSON.stringify({ type: 'admit', participantId: b.id }));
    const refusal = () => hostSocket.messages.find((x) => x.type === 'error' && x.code === 'full') as { message: string } | undefined;
    expect(await eventually(() => refusal() !== undefined)).toBe(true);
    expect(refusal()!.message).toContain('Knock B');
    expect(refusal()!.message).toContain('full');
    // Still waiting, still in the moderator's list.
    expect(welcomed(knockers[1])).toBe(false);
    expect(closedState(knockers[1])).toBeUndefined();
    expect(queue().map((w) => w.name)).toEqual(['Knock B']);
    // A seat frees up: now they can be let in.
    knockers[0].ws.send(JSON.stringify({ type: 'leave' }));
    expect(await eventually(() => closedState(knockers[0]) !== undefined)).toBe(true);
    hostSocket.ws.send(JSON.stringify({ type: 'admit', participantId: b.id }));
    expect(await eventually(() => welcomed(knockers[1]))).toBe(true);
    for (const s of [hostSocket, ...knockers]) s.ws.close();
  });
});

describe('turning the lobby off', () => {
  it('lets in everyone waiting as seats allow; the others get "full"; later arrivals no longer wait', async () => {
    const { m, hostLink, publicLink } = await nativeMeeting({ maxParticipants: 3, lobby: true });
    const hostSocket = bareSocket(`token=${await joinToken(hostLink)}`);
    expect(await eventually(() => welcomed(hostSocket))).toBe(true);
    const queue = () => (hostSocket.messages.filter((x) => x.type === 'lobbyQueue').at(-1) as Extract<ServerMessage, { type: 'lobbyQueue' }> | undefined)?.waiting ?? [];
    const knockers: { ws: WebSocket; messages: ServerMessage[] }[] = [];
    for (const name of ['Wait A', 'Wait B', 'Wait C']) {
      knockers.push(bareSocket(`token=${await joinToken(publicLink, name)}`));
      // One at a time, so that the order they came in is known.
      expect(await eventually(() => queue().length === knockers.length)).toBe(true);
    }
    expect(knockers.every((k) => k.messages.some((x) => x.type === 'lobby'))).toBe(true);
    // A token fetched while the lobby was on, used after it is off.
    const lateToken = await joinToken(publicLink, 'Late D');

    expect((await api('PATCH', `/meetings/${m.id}`, { lobby: false })).status).toBe(200);
    // Three seats: the host and the first two who came; the third is told the meeting is full.
    expect(await eventually(() => welcomed(knockers[0]) && welcomed(knockers[1]))).toBe(true);
    expect(await eventually(() => closedState(knockers[2]) === 'full')).toBe(true);
    expect(welcomed(knockers[2])).toBe(false);
    expect(await eventually(() => queue().length === 0)).toBe(true);
    const joined = () => hostSocket.messages.flatMap((x) => (x.type === 'participantJoined' ? [x.participant.name] : []));
    expect(await eventually(() => joined().length === 2)).toBe(true);
    expect(joined()).toEqual(['Wait A', 'Wait B']);

    // A seat frees up: the late token goes straight in, no lobby.
    knockers[0].ws.send(JSON.stringify({ type: 'leave' }));
    expect(await eventually(() => hostSocket.messages.some((x) => x.type === 'participantLeft'))).toBe(true);
    const late = bareSocket(`token=${lateToken}`);
    expect(await eventually(() => welcomed(late))).toBe(true);
    expect(late.messages.some((x) => x.type === 'lobby')).toBe(false);
    for (const s of [hostSocket, ...knockers, late]) s.ws.close();
  });
});

describe('pages that come back', () => {
  it('the welcome says how long a dropped seat is kept (RESUME_WINDOW_SECONDS)', async () => {
    const { hostLink } = await nativeMeeting({});
    const s = bareSocket(`token=${await joinToken(hostLink)}`);
    expect(await eventually(() => welcomed(s))).toBe(true);
    const welcome = s.messages.find((x) => x.type === 'welcome') as Extract<ServerMessage, { type: 'welcome' }>;
    expect(welcome.resumeWindowMs).toBe(4000);
    s.ws.close();
  });

  it('a page whose socket was down when the meeting ended learns that it ended when it comes back', async () => {
    const { m, hostLink } = await nativeMeeting({});
    const guest = (await api('POST', `/meetings/${m.id}/participants`, { externalId: `guest-${seq}`, name: 'Guest' })).body;
    const h = bareSocket(`token=${await joinToken(hostLink)}`);
    const g = bareSocket(`token=${await joinToken(personal(guest.joinUrl as string))}`);
    expect(await eventually(() => welcomed(h) && welcomed(g))).toBe(true);
    const resumeToken = (g.messages.find((x) => x.type === 'welcome') as Extract<ServerMessage, { type: 'welcome' }>).resumeToken;
    g.ws.terminate(); // the network drops; the seat waits for a resume
    expect((await api('POST', `/meetings/${m.id}/end`)).status).toBe(200);
    expect(await eventually(() => closedState(h) === 'ended')).toBe(true);
    const back = bareSocket(`resume=${resumeToken}`);
    expect(await eventually(() => closedState(back) !== undefined)).toBe(true);
    expect(back.messages.find((x) => x.type === 'closed')).toEqual({ type: 'closed', ...CLOSING_TEXT.host_ended });
  });
});

describe('media restarts and media rooms', () => {
  it('a seat may restart its media only a few times a minute', async () => {
    const { hostLink } = await nativeMeeting({});
    const s = bareSocket(`token=${await joinToken(hostLink)}`);
    expect(await eventually(() => welcomed(s))).toBe(true);
    for (let i = 0; i < 8; i++) s.ws.send(JSON.stringify({ type: 'resetMedia' }));
    const limited = () => s.messages.filter((x) => x.type === 'error' && x.code === 'rate_limited').length;
    expect(await eventually(() => limited() === 3)).toBe(true);
    s.ws.close();
  });

  it('a media room that finishes opening after its meeting closed is closed, not left running', async () => {
    const service = t.server.media!.service;
    const original = service.openRoom.bind(service);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const opened: Awaited<ReturnType<typeof original>>[] = [];
    service.openRoom = async (roomId: string) => {
      await gate;
      const room = await original(roomId);
      opened.push(room);
      return room;
    };
    restore.push(() => { service.openRoom = original; });

    const { m, hostLink } = await nativeMeeting({});
    const s = bareSocket(`token=${await joinToken(hostLink)}`);
    expect(await eventually(() => welcomed(s))).toBe(true); // its media room is opening now
    expect((await api('POST', `/meetings/${m.id}/cancel`)).status).toBe(200);
    expect(await eventually(() => closedState(s) === 'cancelled')).toBe(true);
    release();
    expect(await eventually(() => opened.length === 1)).toBe(true);
    expect(await eventually(() => opened[0].closed)).toBe(true);
  });
});
