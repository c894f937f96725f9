import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinRefusal, JoinResponse, RoomBootstrap, RoomLink, ServerMessage } from '../../src/protocol/messages.js';
import { basic, bearer, nativeApi, post, send, type Answer } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 4 on the wire: ways in, presets, lobby, invitations, schedules, embed code.
let t: TestServer;
let acc: AccountCredentials;
// Behind one (pretend) reverse proxy, with join tokens that expire after a second.
let proxied: TestServer;
let proxiedAcc: AccountCredentials;
let host: BotHost;
const bots: MeetingBot[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('access');
  proxied = await startTestServer({ MEDIA_WORKERS: '1', TRUST_PROXY: '1', JOIN_TOKEN_TTL_SECONDS: '1' });
  proxiedAcc = await proxied.newAccount('proxied');
  host = new BotHost();
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
  await proxied?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const joinReq = (body: Record<string, unknown>, headers: Record<string, string> = {}, server = t) => send<JoinResponse & JoinRefusal>(`${server.url}/rtc/join`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});
const proxiedApi = (method: string, path: string, body?: unknown) => send<Json>(`${proxied.url}/api/v1${path}`, {
  method, headers: { ...bearer(proxiedAcc.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
});
/** A join through the pretend proxy: the client wrote `claimed`, the proxy appended `seen`. */
const viaProxy = (body: Record<string, unknown>, seen: string, claimed?: string) =>
  joinReq(body, { 'x-forwarded-for': claimed ? `${claimed}, ${seen}` : seen }, proxied);
const publicLink = (m: Json): RoomLink => ({ kind: 'public', code: (m.links.meeting as string).split('/').pop()! });
const bootstrapOf = async (url: string): Promise<RoomBootstrap> => {
  const html = (await send(url, {})).text;
  return JSON.parse(/id="parley-bootstrap">([\s\S]*?)<\/script>/.exec(html)![1]) as RoomBootstrap;
};

/** A raw socket that collects what the server says. */
function socket(token: string, server = t): Promise<{ ws: WebSocket; messages: ServerMessage[] }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/rtc/ws?token=${token}`);
  sockets.push(ws);
  const messages: ServerMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages }));
    ws.on('error', reject);
  });
}

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;
const welcomeOf = async (s: { messages: ServerMessage[] }): Promise<Welcome> => {
  expect(await eventually(() => s.messages.some((x) => x.type === 'welcome' || x.type === 'closed'))).toBe(true);
  const w = s.messages.find((x) => x.type === 'welcome');
  if (!w) throw new Error(`no welcome: ${JSON.stringify(s.messages)}`);
  return w as Welcome;
};
const closedOf = async (s: { messages: ServerMessage[] }) => {
  expect(await eventually(() => s.messages.some((x) => x.type === 'closed' || x.type === 'welcome'))).toBe(true);
  return s.messages.find((x) => x.type === 'closed' || x.type === 'welcome') as ServerMessage;
};
/**
 * POSTs every body to the join path at the same instant: all connections are opened first, then
 * every request is written in one go, so the server has them all before it answers any.
 * Resolves to the HTTP statuses (0 for a connection closed without an answer).
 */
async function simultaneous(server: TestServer, bodies: Record<string, unknown>[], headers: (i: number) => Record<string, string> = () => ({})): Promise<number[]> {
  const { hostname, port } = new URL(server.url);
  const conns = await Promise.all(bodies.map(() => new Promise<Socket>((resolve, reject) => {
    const c = connect(Number(port), hostname, () => resolve(c));
    c.on('error', reject);
  })));
  const answers = conns.map((c) => new Promise<number>((resolve) => {
    let head = '';
    c.on('data', (d) => {
      head += d.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (status) {
        resolve(Number(status[1]));
        c.destroy();
      }
    });
    c.on('close', () => resolve(0));
  }));
  conns.forEach((c, i) => {
    const body = JSON.stringify(bodies[i]);
    const extra = Object.entries(headers(i)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    c.write(`POST /rtc/join HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n${extra}`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  return Promise.all(answers);
}
const sleepUntil = async (at: number) => {
  while (Date.now() < at) await new Promise((r) => setTimeout(r, Math.min(200, Math.max(1, at - Date.now()))));
};

describe('ways in', () => {
  it('an open meeting takes a name; the page says so', async () => {
    const m = (await api('POST', '/meetings', {})).body;
    expect((await bootstrapOf(m.links.meeting)).ways).toEqual({ guest: true, pin: false, usernamePassword: false, signup: false });
    const noName = await joinReq({ link: publicLink(m) });
    expect(noName.status).toBe(400);
    expect(noName.body.error).toMatchObject({ code: 'invalid', field: 'name' });
    expect((await joinReq({ link: publicLink(m), name: 'Ann' })).status).toBe(200);
  });

  it('a PIN: wrong is refused, right lets in, repeated wrong tries are limited', async () => {
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted', pin: true }, pin: '424242' })).body;
    expect((await bootstrapOf(m.links.meeting)).ways).toEqual({ guest: false, pin: true, usernamePassword: false, signup: false });
    const nameOnly = await joinReq({ link: publicLink(m), name: 'Ann' });
    expect(nameOnly.status).toBe(401);
    expect(nameOnly.body.error.message).toMatch(/asks for a PIN/);
    const wrong = await joinReq({ link: publicLink(m), name: 'Ann', pin: '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 'unauthenticated', field: 'pin', message: 'pin is wrong' });
    expect((await joinReq({ link: publicLink(m), name: 'Ann', pin: '424242' })).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await joinReq({ link: publicLink(m), name: 'Mallory', pin: String(100000 + i) })).status).toBe(401);
    const limited: Answer<JoinRefusal> = await joinReq({ link: publicLink(m), name: 'Mallory', pin: '424242' });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.body.error.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.headers.get('retry-after')).toBe(String(limited.body.error.retryAfterSeconds));
  });

  it('a burst of wrong PINs sent all at once is cut at the limit, not judged one by one', async () => {
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted', pin: true }, pin: '135790' })).body;
    const statuses = await simultaneous(t, Array.from({ length: 24 }, (_, i) => ({ link: publicLink(m), name: 'Burst', pin: String(200000 + i) })));
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // Each try is counted before its PIN is checked, and only a few checks run at once: most of
    // the burst is refused without any work.
    let judged = statuses.filter((s) => s === 401).length;
    expect(judged).toBeLessThanOrEqual(5);
    // One by one, the rest of this address's tries: five in all, whatever the timing.
    let last: Answer<JoinResponse & JoinRefusal> | undefined;
    for (let i = 0; i < 10 && judged < 6; i++) {
      last = await joinReq({ link: publicLink(m), name: 'Burst', pin: String(300000 + i) });
      if (last.status === 401) judged++;
      else if (/wrong attempts/.test(last.body.error.message)) break;
    }
    expect(judged).toBe(5);
    expect(last?.status).toBe(429);
    expect((await joinReq({ link: publicLink(m), name: 'Burst', pin: '135790' })).status).toBe(429);
  });

  it('password guesses count per user too: a password is good in every meeting of the account', async () => {
    await api('POST', '/users', { username: 'vera', displayName: 'Vera', password: 'vera password' });
    await api('POST', '/users', { username: 'walt', displayName: 'Walt', password: 'walt password' });
    const meetings: Json[] = [];
    for (let i = 0; i < 3; i++) meetings.push((await api('POST', '/meetings', { access: { mode: 'restricted', usernamePassword: true } })).body);
    for (const m of meetings.slice(0, 2)) {
      for (let i = 0; i < 5; i++) expect((await joinReq({ link: publicLink(m), login: { username: 'vera', password: `guess ${i}` } })).status).toBe(401);
    }
    const third = await joinReq({ link: publicLink(meetings[2]), login: { username: 'vera', password: 'vera password' } });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('rate_limited');
    // The address is not what is limited there: another user signs in.
    expect((await joinReq({ link: publicLink(meetings[2]), login: { username: 'walt', password: 'walt password' } })).status).toBe(200);
  });

  it('a self-registered visitor keeps the sign-up preset when signing in again, and only where sign-up is allowed', async () => {
    await api('POST', '/presets', { name: 'Visitors', shareScreen: false });
    await api('POST', '/presets', { name: 'Quiet visitors', chat: false });
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted', usernamePassword: true, signupPreset: 'Visitors' } })).body;
    const membersOnly = (await api('POST', '/meetings', { access: { mode: 'restricted', usernamePassword: true } })).body;
    const otherSignup = (await api('POST', '/meetings', { access: { mode: 'restricted', signupPreset: 'Quiet visitors' } })).body;
    const vic = { username: 'vic', password: 'vic password' };

    const registered = await joinReq({ link: publicLink(m), name: 'Vic Visitor', signup: vic });
    expect(registered.status).toBe(200);
    const user = (await api('GET', '/users?limit=100')).body.data.find((u: Json) => u.username === 'vic');
    expect(user).toMatchObject({ selfRegistered: true, signupMeetingId: m.id, signupPreset: 'Visitors' });

    // Back later, signing in: still the sign-up preset, not the meeting's.
    const again = await joinReq({ link: publicLink(m), login: vic });
    expect(again.status).toBe(200);
    const s1 = await socket(again.body.joinToken);
    expect((await welcomeOf(s1)).permissions).toMatchObject({ shareScreen: false, chat: true });
    s1.ws.close();
    // Another meeting that takes sign-ups: its sign-up preset.
    const other = await joinReq({ link: publicLink(otherSignup), login: vic });
    expect(other.status).toBe(200);
    const s2 = await socket(other.body.joinToken);
    expect((await welcomeOf(s2)).permissions).toMatchObject({ shareScreen: true, chat: false });
    s2.ws.close();
    // A meeting for the account's users only: a sign-up elsewhere does not open it.
    const refusedThere = await joinReq({ link: publicLink(membersOnly), login: vic });
    expect(refusedThere.status).toBe(403);
    expect(refusedThere.body.error.message).toMatch(/registered yourself/);

    // The account promotes them (native API): now one of its users, with the meeting's preset.
    expect((await api('PATCH', `/users/${user.id}`, { selfRegistered: true })).status).toBe(200); // already so: nothing changes
    const promoted = await api('PATCH', `/users/${user.id}`, { selfRegistered: false });
    expect(promoted.body).toMatchObject({ selfRegistered: false, signupMeetingId: null, signupPreset: null });
    const member = await joinReq({ link: publicLink(membersOnly), login: vic });
    expect(member.status).toBe(200);
    const s3 = await socket(member.body.joinToken);
    expect((await welcomeOf(s3)).permissions).toMatchObject({ shareScreen: true, chat: true });
    s3.ws.close();
    // A user the account made cannot be marked self-registered.
    const rita = (await api('GET', '/users?limit=100')).body.data.find((u: Json) => u.username === 'vera');
    const wrong = await api('PATCH', `/users/${rita.id}`, { selfRegistered: true });
    expect(wrong.status).toBe(400);
  });

  it('registered users sign in with their password; visitors register and get the sign-up preset', async () => {
    const preset = (await api('POST', '/presets', { name: 'Signed-up', shareScreen: false, chat: false })).body;
    await api('POST', '/users', { username: 'rita', displayName: 'Rita Registered', password: 'correct horse' });
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted', usernamePassword: true, signupPreset: preset.name } })).body;
    expect((await bootstrapOf(m.links.meeting)).ways).toEqual({ guest: false, pin: false, usernamePassword: true, signup: true });

    const bad = await joinReq({ link: publicLink(m), login: { username: 'rita', password: 'wrong password' } });
    expect(bad.status).toBe(401);
    expect(bad.body.error.message).toBe('wrong username or password');
    const good = await joinReq({ link: publicLink(m), login: { username: 'rita', password: 'correct horse' } });
    expect(good.status).toBe(200);
    const rita = await socket(good.body.joinToken);
    expect(await eventually(() => rita.messages.some((x) => x.type === 'welcome'))).toBe(true);
    const welcome = rita.messages.find((x) => x.type === 'welcome') as Extract<ServerMessage, { type: 'welcome' }>;
    expect(welcome.self.name).toBe('Rita Registered');
    expect(welcome.permissions).toMatchObject({ shareScreen: true, chat: true });

    const taken = await joinReq({ link: publicLink(m), name: 'Impostor', signup: { username: 'rita', password: 'another pass' } });
    expect(taken.status).toBe(409);
    const fresh = await joinReq({ link: publicLink(m), name: 'Sam Signup', signup: { username: 'sam', password: 'sam password', email: 'sam@example.com' } });
    expect(fresh.status).toBe(200);
    const sam = await socket(fresh.body.joinToken);
    expect(await eventually(() => sam.messages.some((x) => x.type === 'welcome'))).toBe(true);
    const samWelcome = sam.messages.find((x) => x.type === 'welcome') as Extract<ServerMessage, { type: 'welcome' }>;
    expect(samWelcome.permissions).toMatchObject({ shareScreen: false, chat: false });
    expect((await api('GET', '/users')).body.data.map((u: Json) => u.username)).toContain('sam');
    // Sam can now sign in too.
    expect((await joinReq({ link: publicLink(m), login: { username: 'sam', password: 'sam password' } })).status).toBe(200);
    rita.ws.close();
    sam.ws.close();
  });

  it('a join token opens one socket only', async () => {
    const m = (await api('POST', '/meetings', {})).body;
    const r = await joinReq({ link: publicLink(m), name: 'Olive Once' });
    const first = await socket(r.body.joinToken);
    await welcomeOf(first);
    const second = await socket(r.body.joinToken);
    expect(await closedOf(second)).toMatchObject({ type: 'closed', state: 'not_found' });
    expect(first.messages.some((x) => x.type === 'closed')).toBe(false);
    first.ws.close();
  });

  it('a meeting without public ways admits invited people only', async () => {
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted' } })).body;
    const r = await joinReq({ link: publicLink(m), name: 'Ann' });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/invited people only/);
    expect((await bootstrapOf(m.links.meeting)).ways).toEqual({ guest: false, pin: false, usernamePassword: false, signup: false });
  });
});

describe('presets govern the room', () => {
  it('a guest whose preset forbids screen sharing cannot get a screen to anyone, even by hand', async () => {
    const preset = (await api('POST', '/presets', { name: 'No screens', shareScreen: false })).body;
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted', guestPreset: preset.name } })).body;
    const viewer = await MeetingBot.join(host, t.url, 'screen-viewer', publicLink(m), { displayName: 'Viewer', audio: false, video: false });
    bots.push(viewer);
    // The guest's bot offers microphone, camera and screen: a hand-made publish, past any UI.
    const guest = await MeetingBot.join(host, t.url, 'screen-guest', publicLink(m), { displayName: 'Guest', screen: true });
    bots.push(guest);
    expect(guest.welcome!.permissions.shareScreen).toBe(false);
    expect(await eventually(async () => (await viewer.framesFrom(guest.id, 'camera')) > 5)).toBe(true);
    expect(viewer.tracks.filter((x) => x.participantId === guest.id).map((x) => x.source).sort()).toEqual(['camera', 'microphone']);
    await viewer.leave();
    await guest.leave();
  });
});

describe('chat', () => {
  it('a chat the preset forbids is refused by the server, even sent by hand, and reaches nobody', async () => {
    await api('POST', '/presets', { name: 'Quiet guests', chat: false });
    const m = (await api('POST', '/meetings', { access: { mode: 'restricted', guestPreset: 'Quiet guests' }, host: { externalId: 'chat-host', name: 'Chatty Host' } })).body;
    const hostLink = (await api('GET', `/meetings/${m.id}/participants`)).body.data[0].joinUrl as string;
    const hostJoin = await joinReq({ link: { kind: 'personal', token: hostLink.split('/e/')[1] } });
    const hs = await socket(hostJoin.body.joinToken);
    await welcomeOf(hs);
    const guestJoin = await joinReq({ link: publicLink(m), name: 'Quiet Guest' });
    const gs = await socket(guestJoin.body.joinToken);
    expect((await welcomeOf(gs)).permissions.chat).toBe(false);

    // Past the UI: the chat message written by hand on the guest's own socket.
    gs.ws.send(JSON.stringify({ type: 'chat', text: 'let me talk' }));
    expect(await eventually(() => gs.messages.some((x) => x.type === 'error'))).toBe(true);
    expect(gs.messages.find((x) => x.type === 'error')).toMatchObject({ code: 'forbidden' });
    // The host's message comes after in the room's order; nothing of the guest's came before it.
    hs.ws.send(JSON.stringify({ type: 'chat', text: 'host speaking' }));
    const texts = (messages: ServerMessage[]) => messages.flatMap((x) => (x.type === 'chat' ? [x.message.text] : []));
    expect(await eventually(() => texts(gs.messages).length > 0 && texts(hs.messages).length > 0)).toBe(true);
    expect(texts(hs.messages)).toEqual(['host speaking']);
    expect(texts(gs.messages)).toEqual(['host speaking']);
    // Nor is it in the history a newcomer gets.
    const late = await socket((await joinReq({ link: publicLink(m), name: 'Late Guest' })).body.joinToken);
    expect((await welcomeOf(late)).chat.map((c) => c.text)).toEqual(['host speaking']);
    for (const x of [hs, gs, late]) x.ws.close();
  });
});

describe('lobby', () => {
  it('people wait until a host lets them in or turns them away; the host sees who knocks', async () => {
    const m = (await api('POST', '/meetings', { lobby: true, host: { externalId: 'lobby-host', name: 'Hosta' } })).body;
    const hostLink = (await api('GET', `/meetings/${m.id}/participants`)).body.data[0].joinUrl as string;
    const hostBot = await MeetingBot.join(host, t.url, 'lobby-host', { kind: 'personal', token: hostLink.split('/e/')[1] }, { audio: false, video: false });
    bots.push(hostBot);

    const first = await joinReq({ link: publicLink(m), name: 'Knocker One' });
    const one = await socket(first.body.joinToken);
    expect(await eventually(() => one.messages.some((x) => x.type === 'lobby'))).toBe(true);
    const queue = () => hostBot.received('lobbyQueue').at(-1)?.waiting.map((w) => w.name) ?? [];
    expect(await eventually(() => queue().join() === 'Knocker One')).toBe(true);
    expect(one.messages.some((x) => x.type === 'welcome')).toBe(false);

    const second = await joinReq({ link: publicLink(m), name: 'Knocker Two' });
    const two = await socket(second.body.joinToken);
    expect(await eventually(() => queue().join() === 'Knocker One,Knocker Two')).toBe(true);
    const waiting = hostBot.received('lobbyQueue').at(-1)!.waiting;

    hostBot.send({ type: 'admit', participantId: waiting[0].id });
    expect(await eventually(() => one.messages.some((x) => x.type === 'welcome'))).toBe(true);
    expect(await eventually(() => hostBot.received('participantJoined').some((x) => x.participant.name === 'Knocker One'))).toBe(true);
    hostBot.send({ type: 'decline', participantId: waiting[1].id });
    expect(await eventually(() => two.messages.some((x) => x.type === 'closed' && x.state === 'declined'))).toBe(true);
    expect(await eventually(() => queue().length === 0)).toBe(true);

    // Someone who walks away from the lobby leaves the queue.
    const third = await joinReq({ link: publicLink(m), name: 'Knocker Three' });
    const three = await socket(third.body.joinToken);
    expect(await eventually(() => queue().join() === 'Knocker Three')).toBe(true);
    three.ws.close();
    expect(await eventually(() => queue().length === 0)).toBe(true);
    // Only moderators decide.
    const p1 = one.messages.find((x) => x.type === 'welcome') as Extract<ServerMessage, { type: 'welcome' }>;
    expect(p1.permissions.moderate).toBe(false);
    const fourth = await joinReq({ link: publicLink(m), name: 'Knocker Four' });
    const four = await socket(fourth.body.joinToken);
    expect(await eventually(() => queue().join() === 'Knocker Four')).toBe(true);
    const fourId = hostBot.received('lobbyQueue').at(-1)!.waiting[0].id;
    one.ws.send(JSON.stringify({ type: 'admit', participantId: fourId }));
    one.ws.send(JSON.stringify({ type: 'decline', participantId: fourId }));
    const forbidden = () => one.messages.filter((x) => x.type === 'error' && x.code === 'forbidden').length;
    expect(await eventually(() => forbidden() === 2)).toBe(true);
    expect(four.messages.filter((x) => x.type === 'welcome' || x.type === 'closed')).toEqual([]);
    expect(queue().join()).toBe('Knocker Four');
    four.ws.close();
    expect(await eventually(() => queue().length === 0)).toBe(true);
    one.ws.close();
    await hostBot.leave();
  });
});

describe('invitations', () => {
  it('a personal link accepts and declines before the meeting; the participant status follows', async () => {
    const lm = (method: string, data: Record<string, unknown>) => post<Json>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
    await lm('createMeeting', { meetingKey: 'invite-1', hostid: 'h', time: '2099-01-01 10:00:00', duration: '1' });
    const url = (await lm('addParticipant', { meetingKey: 'invite-1', puid: 'dina', nickname: 'Dina' })).body.participantUrl as string;
    const token = url.split('/e/')[1];
    const boot = await bootstrapOf(url);
    expect(boot).toMatchObject({ state: 'not_started', person: { name: 'Dina', invitation: 'invited' } });
    expect(boot.meeting.startsAt).toBe('2099-01-01T10:00:00.000Z');
    const answer = (a: string) => send<Json>(`${t.url}/rtc/invitation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, answer: a }) });
    expect((await answer('decline')).body).toEqual({ invitation: 'declined' });
    expect((await lm('getParticipantStatus', { meetingKey: 'invite-1', puid: 'dina' })).body.status).toBe('3');
    expect((await bootstrapOf(url)).person?.invitation).toBe('declined');
    expect((await answer('accept')).body).toEqual({ invitation: 'invited' });
    expect((await lm('getParticipantStatus', { meetingKey: 'invite-1', puid: 'dina' })).body.status).toBe('2');
    expect((await answer('maybe')).status).toBe(400);
    expect((await send<Json>(`${t.url}/rtc/invitation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'X'.repeat(26), answer: 'accept' }) })).status).toBe(404);
    await lm('cancelParticipant', { meetingKey: 'invite-1', puid: 'dina' });
    expect((await answer('accept')).body.error).toMatchObject({ state: 'invitation_cancelled' });
  });

  it('the host’s own link offers no invitation to answer, and refuses an answer', async () => {
    const lm = (method: string, data: Record<string, unknown>) => post<Json>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
    const hostUrl = (await lm('createMeeting', { meetingKey: 'invite-host', hostid: 'h', hostnickname: 'Hal' })).body.hostUrl as string;
    const boot = await bootstrapOf(hostUrl);
    expect(boot.person).toEqual({ name: 'Hal', role: 'host' });
    const res = await send<Json>(`${t.url}/rtc/invitation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: hostUrl.split('/e/')[1], answer: 'decline' }) });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/host’s own link/);
    expect((await lm('getParticipantStatus', { meetingKey: 'invite-host', puid: 'h' })).body.status).toBe('2');
  });
});

describe('schedules', () => {
  it('before the window the link counts down; a token can be had a minute early and opens the room at the start', async () => {
    const startsAt = new Date(Date.now() + 3000);
    const m = (await api('POST', '/meetings', { startsAt: startsAt.toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() })).body;
    const boot = await bootstrapOf(m.links.meeting);
    expect(boot).toMatchObject({ state: 'not_started', meeting: { startsAt: startsAt.toISOString() } });
    const early = await joinReq({ link: publicLink(m), name: 'Early Bird' });
    expect(early.status).toBe(200);
    expect(early.body.notBefore).toBe(startsAt.toISOString());
    const eager = await joinReq({ link: publicLink(m), name: 'Eager Beaver' });
    const tooSoon = await socket(eager.body.joinToken);
    expect(await eventually(() => tooSoon.messages.some((x) => x.type === 'closed' && x.state === 'not_started'))).toBe(true);

    const later = await api('POST', '/meetings', { startsAt: new Date(Date.now() + 3_600_000).toISOString() });
    const refusedEarly = await joinReq({ link: publicLink(later.body), name: 'Too early' });
    expect(refusedEarly.status).toBe(409);
    expect(refusedEarly.body.error.state).toBe('not_started');

    await sleepUntil(startsAt.getTime() + 200);
    // The token fetched before the start opens the room now.
    const bird = await socket(early.body.joinToken);
    expect((await welcomeOf(bird)).self.name).toBe('Early Bird');
    const onTime = await joinReq({ link: publicLink(m), name: 'On Time' });
    const ws = await socket(onTime.body.joinToken);
    expect(await eventually(() => ws.messages.some((x) => x.type === 'welcome'))).toBe(true);
    expect((await bootstrapOf(m.links.meeting)).state).toBeUndefined();
    ws.ws.close();
    bird.ws.close();
  });

  it('a join token not used in time is refused', async () => {
    const m = (await proxiedApi('POST', '/meetings', {})).body;
    const r = await viaProxy({ link: publicLink(m), name: 'Late Larry' }, '203.0.113.9');
    expect(r.status).toBe(200);
    await sleepUntil(Date.parse(r.body.expiresAt) + 300);
    const late = await socket(r.body.joinToken, proxied);
    expect(await closedOf(late)).toMatchObject({ type: 'closed', state: 'not_found' });
    // One used in time works.
    const fresh = await viaProxy({ link: publicLink(m), name: 'Prompt Pam' }, '203.0.113.9');
    const s = await socket(fresh.body.joinToken, proxied);
    expect((await welcomeOf(s)).self.name).toBe('Prompt Pam');
    s.ws.close();
  });
});

describe('behind a reverse proxy (TRUST_PROXY=1)', () => {
  it('the limits key on the address the proxy appended, not on one the client wrote', async () => {
    const m = (await proxiedApi('POST', '/meetings', { access: { mode: 'restricted', pin: true }, pin: '777777' })).body;
    for (let i = 0; i < 5; i++) {
      expect((await viaProxy({ link: publicLink(m), name: 'Mal', pin: '000001' }, '198.51.100.7', `10.0.0.${i}`)).status).toBe(401);
    }
    // A new made-up address in front changes nothing: the proxy's entry is the one counted.
    const sixth = await viaProxy({ link: publicLink(m), name: 'Mal', pin: '777777' }, '198.51.100.7', '10.0.0.99');
    expect(sixth.status).toBe(429);
    // Someone else, even claiming Mal's address, is not limited.
    expect((await viaProxy({ link: publicLink(m), name: 'Ann', pin: '777777' }, '198.51.100.8', '198.51.100.7')).status).toBe(200);
  });

  it('wrong PINs from many addresses at once are cut at the meeting\'s limit', async () => {
    const m = (await proxiedApi('POST', '/meetings', { access: { mode: 'restricted', pin: true }, pin: '246802' })).body;
    const statuses = await simultaneous(proxied, Array.from({ length: 80 }, (_, i) => ({ link: publicLink(m), name: 'Swarm', pin: String(400000 + i) })),
      (i) => ({ 'x-forwarded-for': `192.0.2.${i + 1}` }));
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // Only a few PINs are checked at once for one meeting; the rest are refused without work.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(50);
  });

  it('joins through a public link are limited per address and per meeting', async () => {
    const m = (await proxiedApi('POST', '/meetings', {})).body;
    for (let i = 0; i < 20; i++) expect((await viaProxy({ link: publicLink(m), name: `Script ${i}` }, '203.0.113.5')).status).toBe(200);
    const flood = await viaProxy({ link: publicLink(m), name: 'Script 21' }, '203.0.113.5');
    expect(flood.status).toBe(429);
    expect(flood.body.error.message).toMatch(/too many joins/);
    expect(flood.body.error.retryAfterSeconds).toBeGreaterThan(0);
    // Another address still gets in, until the meeting as a whole has had 500 joins.
    let joined = 20;
    for (let batch = 0; joined < 500 && batch < 30; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        viaProxy({ link: publicLink(m), name: `Crowd ${batch}-${i}` }, `198.18.${batch}.${i + 1}`)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      joined += 20;
    }
    expect(joined).toBe(500);
    const full = await viaProxy({ link: publicLink(m), name: 'One more' }, '198.18.200.1');
    expect(full.status).toBe(429);
    // Only the public link is limited: another meeting, and invited people, are not affected.
    const other = (await proxiedApi('POST', '/meetings', {})).body;
    expect((await viaProxy({ link: publicLink(other), name: 'Elsewhere' }, '203.0.113.5')).status).toBe(200);
    const invited = (await proxiedApi('POST', `/meetings/${m.id}/participants`, { name: 'Invited Ivy' })).body;
    expect((await viaProxy({ link: { kind: 'personal', token: (invited.joinUrl as string).split('/e/')[1] } }, '203.0.113.5')).status).toBe(200);
  });
});

describe('embedding', () => {
  it('the native API gives an iframe that allows camera and microphone, with sizes checked', async () => {
    const m = (await api('POST', '/meetings', { title: 'Embed "me" <now>' })).body;
    const code = await api('GET', `/meetings/${m.id}/embed?width=640px&height=50vh`);
    expect(code.status).toBe(200);
    expect(code.body.src).toBe(m.links.embed);
    expect(code.body.script).toBe(`${t.url}/parley-embed.js`);
    expect(code.body.iframe).toContain('allow="camera; microphone; display-capture; autoplay; fullscreen; clipboard-write"');
    expect(code.body.iframe).toContain('title="Meeting: Embed &quot;me&quot; &lt;now&gt;"');
    // Attributes take whole pixels only (HTML); the style carries any CSS length.
    expect(code.body.iframe).toContain(' width="640" style="width:640px;height:50vh;border:0"');
    expect(code.body.iframe).not.toContain('height="');
    const units = await api('GET', `/meetings/${m.id}/embed?width=12.5em&height=480`);
    expect(units.body.iframe).toContain(' height="480" style="width:12.5em;height:480px;border:0"');
    expect(units.body.iframe).not.toContain(' width="');
    expect((await api('GET', `/meetings/${m.id}/embed?width=60dvh&height=40vmin`)).status).toBe(200); // as parley-embed.js takes
    const bad = await api('GET', `/meetings/${m.id}/embed?width=${encodeURIComponent('1px" onload="x')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('width');
    expect((await bootstrapOf(code.body.src)).embedded).toBe(true);
  });
});
