import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JoinResponse, RoomLink, ServerMessage } from '../../src/protocol/messages.js';
import { bearer, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { spawnListening, stopSpawned, type Spawned } from '../helpers/spawn.js';

// `parley serve` as a process that crashes (SIGKILL) or shuts down (SIGTERM) with people in a
// meeting, then starts again on the same database: the statuses it left behind must settle.
const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

let dataDir: string;
let host: BotHost;
let token: string;
const running = new Set<Spawned>();
const bots: MeetingBot[] = [];
const sockets: WebSocket[] = [];

const env = (idleSeconds: number) => ({
  DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', MEDIA_WORKERS: '1',
  RTC_LISTEN_IP: '127.0.0.1', ANNOUNCED_IP: '127.0.0.1', IDLE_TIMEOUT_SECONDS: String(idleSeconds),
  RESTART_REJOIN_SECONDS: '8', // long enough for a loaded machine to start again within it
});

async function serve(idleSeconds: number): Promise<Spawned> {
  const s = await spawnListening([BIN, 'serve'], env(idleSeconds));
  running.add(s);
  s.child.on('exit', () => running.delete(s));
  return s;
}

async function stop(s: Spawned, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  await stopSpawned(s, signal);
  running.delete(s);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-restart-'));
  host = new BotHost();
  // The first start prints the demo account's credentials once.
  const first = await serve(2);
  token = /Bearer:\s+(\S+)/.exec(first.output())![1];
  await stop(first, 'SIGTERM');
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await Promise.all([...running].map((s) => stop(s, 'SIGKILL')));
  rmSync(dataDir, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = (s: Spawned, method: string, path: string, body?: unknown) => send<Json>(`${s.url}/api/v1${path}`, {
  method, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const personal = personalLink;

/** A meeting with a host and one participant, both in the room with media. */
async function liveMeeting(s: Spawned, name: string) {
  const m = (await api(s, 'POST', '/meetings', { title: name, host: { externalId: `${name}-host`, name: 'Host' } })).body;
  const guest = (await api(s, 'POST', `/meetings/${m.id}/participants`, { externalId: `${name}-guest`, name: 'Guest' })).body;
  const people = (await api(s, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[];
  const hostUrl = people.find((p) => p.role === 'host')!.joinUrl as string;
  for (const [who, url] of [['host', hostUrl], ['guest', guest.joinUrl as string]] as const) {
    bots.push(await MeetingBot.join(host, s.url, `${name}-${who}`, personal(url), { audio: false }));
  }
  const statuses = async (on: Spawned) => {
    const meeting = (await api(on, 'GET', `/meetings/${m.id}`)).body;
    const list = (await api(on, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[];
    return { meeting: meeting.statusCode as number, endReason: meeting.endReason as string | null, people: list.map((p) => p.statusCode as number) };
  };
  expect(await eventually(async () => JSON.stringify(await statuses(s)) === JSON.stringify({ meeting: 8, endReason: null, people: [10, 10] }))).toBe(true);
  return { id: m.id as string, hostUrl, statuses };
}

describe('statuses after the server goes away', () => {
  it('a crash: at the next start the people have left (11) and the empty meeting ends as idle, then can start again', async () => {
    const before = await serve(2);
    const m = await liveMeeting(before, 'crash');
    await stop(before, 'SIGKILL');
    for (const b of bots.splice(0)) await b.stop();

    const after = await serve(2);
    const read = () => api(after, 'GET', `/meetings/${m.id}`).then((r) => r.body);
    // Nobody is connected to a process that just started: both left, the host's leaving makes it 11.
    expect((await m.statuses(after)).people).toEqual([11, 11]);
    expect(await eventually(async () => (await read()).statusCode === 12, 15_000)).toBe(true);
    expect((await read()).endReason).toBe('idle');
    // An idle end is not final: the host comes back and the meeting runs again.
    const again = await MeetingBot.join(host, after.url, 'crash-again', personal(m.hostUrl), { audio: false, video: false });
    bots.push(again);
    expect(await eventually(async () => (await read()).statusCode === 8)).toBe(true);
    await again.leave();
    await stop(after, 'SIGTERM');
  }, 90_000);

  it('a restart (SIGTERM): people keep their status for the rejoin window; those who do not come back have left, and the meeting ends as idle', async () => {
    const before = await serve(2);
    for (const b of bots.splice(0)) await b.stop();
    const m = await liveMeeting(before, 'shutdown');
    await stop(before, 'SIGTERM');
    // The bots were handed rejoin tokens (a page comes back with one); these never use theirs.
    expect(bots).toHaveLength(2);
    expect(bots.every((b) => b.messages.some((x) => x.type === 'restarting'))).toBe(true);
    for (const b of bots.splice(0)) await b.stop();

    const after = await serve(2);
    expect((await m.statuses(after)).people).toEqual([10, 10]);
    expect(await eventually(async () => JSON.stringify((await m.statuses(after)).people) === '[11,11]', 15_000)).toBe(true);
    expect(await eventually(async () => (await api(after, 'GET', `/meetings/${m.id}`)).body.statusCode === 12, 15_000)).toBe(true);
    expect((await api(after, 'GET', `/meetings/${m.id}`)).body.endReason).toBe('idle');
    await stop(after, 'SIGTERM');
  }, 90_000);

  it('someone who takes a seat before the idle time is not thrown out, though their media never connects', async () => {
    // An idle time long enough for a loaded machine to start the server and seat the socket first.
    const before = await serve(12);
    const m = await liveMeeting(before, 'seated');
    // A second meeting left live and empty: its idle end after the restart shows when the idle
    // time has passed for both (their timers start together, at the start-up reconcile).
    const control = await liveMeeting(before, 'control');
    await stop(before, 'SIGKILL');
    for (const b of bots.splice(0)) await b.stop();

    const after = await serve(12);
    // A bare socket: seated in the room, but no media, so never recorded as connected (10).
    const joined = await send<JoinResponse>(`${after.url}/rtc/join`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: personal(m.hostUrl) }),
    });
    const ws = new WebSocket(`${after.url.replace('http', 'ws')}/rtc/ws?token=${joined.body.joinToken}`);
    sockets.push(ws);
    const messages: ServerMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
    expect(await eventually(() => messages.some((x) => x.type === 'welcome'))).toBe(true);
    // Past the idle time the meeting found empty at start would have ended, as the control did.
    expect(await eventually(async () => (await api(after, 'GET', `/meetings/${control.id}`)).body.statusCode === 12, 30_000, 250)).toBe(true);
    expect(messages.filter((x) => x.type === 'closed')).toEqual([]);
    expect((await api(after, 'GET', `/meetings/${m.id}`)).body.statusCode).not.toBe(12);
    ws.close();
    await stop(after, 'SIGTERM');
  }, 90_000);
});
