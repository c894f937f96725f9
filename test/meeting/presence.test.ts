import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinResponse, RoomLink, ServerMessage } from '../../src/signaling/messages.js';
import { basic, bearer, post, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot } from '../helpers/meeting-bot.js';
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
const api = (method: string, path: string, body?: unknown) => send<Json>(`${t.url}/api/v1${path}`, {
  method, headers: { ...bearer(acc.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const personal = (url: string): RoomLink => ({ kind: 'personal', token: url.split('/e/')[1] });
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
    expect((await t.server.core.store.meetings.findByKey(acc.accountId, m.key))!.endReason).toBe('host_ended');
    expect(await pstatus(m.key, 'p1')).not.toBe('10');
    for (const b of [h, p]) await b.stop();
  });
});
