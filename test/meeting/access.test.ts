import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinRefusal, JoinResponse, RoomBootstrap, RoomLink, ServerMessage } from '../../src/signaling/messages.js';
import { basic, bearer, post, send, type Answer } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 4 on the wire: ways in, presets, lobby, invitations, schedules, embed code.
let t: TestServer;
let acc: AccountCredentials;
let host: BotHost;
const bots: MeetingBot[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('access');
  host = new BotHost();
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = (method: string, path: string, body?: unknown) => send<Json>(`${t.url}/api/v1${path}`, {
  method, headers: { ...bearer(acc.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const joinReq = (body: Record<string, unknown>) => send<JoinResponse & JoinRefusal>(`${t.url}/rtc/join`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const publicLink = (m: Json): RoomLink => ({ kind: 'public', code: (m.links.meeting as string).split('/').pop()! });
const bootstrapOf = async (url: string): Promise<RoomBootstrap> => {
  const html = (await send(url, {})).text;
  return JSON.parse(/id="parley-bootstrap">([\s\S]*?)<\/script>/.exec(html)![1]) as RoomBootstrap;
};

/** A raw socket that collects what the server says. */
function socket(token: string): Promise<{ ws: WebSocket; messages: ServerMessage[] }> {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?token=${token}`);
  sockets.push(ws);
  const messages: ServerMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages }));
    ws.on('error', reject);
  });
}

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
    const tooSoon = await socket(early.body.joinToken);
    expect(await eventually(() => tooSoon.messages.some((x) => x.type === 'closed' && x.state === 'not_started'))).toBe(true);

    const later = await api('POST', '/meetings', { startsAt: new Date(Date.now() + 3_600_000).toISOString() });
    const refusedEarly = await joinReq({ link: publicLink(later.body), name: 'Too early' });
    expect(refusedEarly.status).toBe(409);
    expect(refusedEarly.body.error.state).toBe('not_started');

    await new Promise((r) => setTimeout(r, Math.max(0, startsAt.getTime() - Date.now()) + 200));
    const onTime = await joinReq({ link: publicLink(m), name: 'On Time' });
    const ws = await socket(onTime.body.joinToken);
    expect(await eventually(() => ws.messages.some((x) => x.type === 'welcome'))).toBe(true);
    expect((await bootstrapOf(m.links.meeting)).state).toBeUndefined();
    ws.ws.close();
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
    expect(code.body.iframe).toContain('width="640px" height="50vh"');
    const bad = await api('GET', `/meetings/${m.id}/embed?width=${encodeURIComponent('1px" onload="x')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('width');
    expect((await bootstrapOf(code.body.src)).embedded).toBe(true);
  });
});
