import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinResponse, RoomLink, ServerMessage } from '../../src/protocol/messages.js';
import { basic, post } from '../helpers/http.js';
import { eventually, personalLink } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The room's TURN credentials, as a page gets them: POST /rtc/join, then the socket's welcome.
const SECRET = 'turn-test-secret-7f3a9c1e5b2d4f6a8c0e';
const TURN_URLS = ['turn:relay.test:3478', 'turn:relay.test:3478?transport=tcp', 'turns:relay.test:443'];
let now = new Date('2026-03-01T10:00:00Z');
let t: TestServer;
let acc: AccountCredentials;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestServer({
    MEDIA_WORKERS: '1', ICE_SERVERS: '[{"urls":"stun:stun.test:3478"}]',
    TURN_URLS: TURN_URLS.join(','), TURN_SECRET: SECRET, TURN_TTL_SECONDS: '1200', RESUME_WINDOW_SECONDS: '20',
  }, { turnClock: () => now });
  acc = await t.newAccount('turn');
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await t?.close();
});

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;
const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));

/** Opens the room's socket (after a join, or to resume) and returns the welcome it hears; `heard` gets every message. */
function welcomeOn(query: string, heard: ServerMessage[] = []): Promise<Welcome> {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?${query}`);
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      heard.push(m);
      if (m.type === 'welcome') resolve(m);
    });
    ws.on('error', reject);
    ws.on('close', () => reject(new Error('closed before a welcome')));
  });
}

async function joinAs(link: RoomLink, heard: ServerMessage[] = []): Promise<{ welcome: Welcome; raw: string }> {
  const res = await fetch(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link }) });
  const raw = await res.text();
  expect(res.status).toBe(200);
  const welcome = await welcomeOn(`token=${(JSON.parse(raw) as JoinResponse).joinToken}`, heard);
  return { welcome, raw: raw + JSON.stringify(welcome) };
}

/** What coturn expects for this username, computed here apart from the server's code. */
const password = (username: string) => createHmac('sha1', SECRET).update(username).digest('base64');
const unix = (d: Date) => Math.floor(d.getTime() / 1000);

describe('TURN credentials in the room', () => {
  it('each participant gets their own short-lived credentials, the STUN servers, and never the secret', async () => {
    const created = await lm('createMeeting', { meetingKey: 'turn1', hostid: 'host', hostnickname: 'Host' });
    const added = await lm('addParticipant', { meetingKey: 'turn1', puid: 'guest', nickname: 'Guest' });
    const host = await joinAs(personalLink(created.body.hostUrl as string));
    const guest = await joinAs(personalLink(added.body.participantUrl as string));

    const expiry = unix(now) + 1200;
    for (const { welcome } of [host, guest]) {
      const [stun, turn, ...rest] = welcome.iceServers;
      expect(stun).toEqual({ urls: 'stun:stun.test:3478' });
      expect(rest).toEqual([]);
      expect(turn).toEqual({ urls: TURN_URLS, username: `${expiry}:${welcome.self.id}`, credential: password(`${expiry}:${welcome.self.id}`) });
    }
    expect(host.welcome.self.id).not.toBe(guest.welcome.self.id);
    expect(host.welcome.iceServers[1]!.credential).not.toBe(guest.welcome.iceServers[1]!.credential);
    for (const { raw } of [host, guest]) expect(raw).not.toContain(SECRET);

    // Later, the same seat resumed after a drop: credentials minted for the new moment.
    now = new Date(now.getTime() + 3600_000);
    const dropped = sockets[0]!;
    dropped.terminate();
    const resumed = await welcomeOn(`resume=${host.welcome.resumeToken}`);
    expect(resumed.resumed).toBe(true);
    const later = `${unix(now) + 1200}:${host.welcome.self.id}`;
    expect(resumed.iceServers[1]).toEqual({ urls: TURN_URLS, username: later, credential: password(later) });
  });

  it('a seated page gets fresh credentials at half their lifetime', async () => {
    const created = await lm('createMeeting', { meetingKey: 'turn2', hostid: 'host', hostnickname: 'Host' });
    const heard: ServerMessage[] = [];
    // Only the seat's refresh timer is made while intervals are faked: the rest of the server runs as usual.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { welcome } = await joinAs(personalLink(created.body.hostUrl as string), heard);
      vi.advanceTimersByTime(599_000);
      expect(heard.filter((m) => m.type === 'iceServers')).toEqual([]);
      now = new Date(now.getTime() + 600_000);
      vi.advanceTimersByTime(1000);
      expect(await eventually(() => heard.some((m) => m.type === 'iceServers'), 5000, 20)).toBe(true);
      const fresh = `${unix(now) + 1200}:${welcome.self.id}`;
      expect(heard.find((m) => m.type === 'iceServers')).toEqual({
        type: 'iceServers', iceServers: [{ urls: 'stun:stun.test:3478' }, { urls: TURN_URLS, username: fresh, credential: password(fresh) }],
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a server without TURN hands out no TURN entry', async () => {
    const plain = await startTestServer({ MEDIA_WORKERS: '1' });
    try {
      const account = await plain.newAccount('plain');
      const created = await post<Record<string, string>>(`${plain.url}/createMeeting`, { meetingKey: 'plain', hostid: 'host' }, 'form', basic(account.accountSid, account.authToken));
      const res = await fetch(`${plain.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: personalLink(created.body.hostUrl!) }) });
      const { joinToken } = await res.json() as JoinResponse;
      const ws = new WebSocket(`${plain.url.replace('http', 'ws')}/rtc/ws?token=${joinToken}`);
      sockets.push(ws);
      const messages: ServerMessage[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
      expect(await eventually(() => messages.some((m) => m.type === 'welcome'), 10_000, 50)).toBe(true);
      expect(messages.find((m): m is Welcome => m.type === 'welcome')!.iceServers).toEqual([]);
      ws.terminate();
    } finally {
      await plain.close();
    }
  });
});
