import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AccountCredentials } from '../../src/core/index.js';
import type { JoinResponse, RoomLink } from '../../src/protocol/messages.js';
import { basic, nativeApi, post, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver, type Received } from '../helpers/webhook-receiver.js';

// Issue 10, item 3: a real meeting (bots, loopback) produces signed webhook events, whichever of
// the three APIs created it.
let t: TestServer;
let host: BotHost;
let acc: AccountCredentials;
const receiver = new WebhookReceiver();
const bots: MeetingBot[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  host = new BotHost();
  acc = await t.newAccount('hooked');
  const url = await receiver.listen();
  const hook = await api('POST', '/webhooks', { url });
  receiver.secret = hook.body.secret as string;
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
  await receiver.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const lm = async (op: string, data: Record<string, unknown>) => post<Json>(`${t.url}/${op}`, data, 'json', basic(acc.accountSid, acc.authToken));
const lb = async (op: string, data: Record<string, unknown>) => post<Json>(`${t.url}/livebox/appsservice/api/${op}`, { username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, ...data }, 'json');
const personal = personalLink;

async function join(name: string, link: RoomLink, opts: Parameters<typeof MeetingBot.join>[4] = {}) {
  const bot = await MeetingBot.join(host, t.url, name, link, { audio: false, ...opts });
  bots.push(bot);
  return bot;
}

/** Events about this meeting, once `check` holds for them. */
async function eventsOf(meetingId: string, check: (events: Received[]) => boolean): Promise<Received[]> {
  const of = () => receiver.received.filter((r) => r.event.meeting?.id === meetingId);
  expect(await eventually(() => check(of()), 20_000)).toBe(true);
  return of();
}
const has = (events: Received[], type: string, n = 1) => events.filter((r) => r.event.type === type).length >= n;
const find = (events: Received[], type: string, pid?: string) => events.filter((r) => r.event.type === type && (!pid || r.event.participant?.id === pid));

function expectWellFormed(events: Received[]) {
  const ids = events.map((r) => r.event.id as string);
  expect(new Set(ids).size).toBe(ids.length);
  for (const r of events) {
    expect(r.verified, r.body).toBe(true);
    expect(r.headers['parley-event-id']).toBe(r.event.id);
    expect(r.headers['parley-event-type']).toBe(r.event.type);
    expect(r.event.accountId).toMatch(/^acc_/);
    expect(Date.parse(r.event.createdAt as string)).not.toBeNaN();
  }
}

describe('webhooks of a real meeting', () => {
  it('native: responded, started, joined, muted (API and host), knocked, removed, left, ended, each signed', async () => {
    const m = (await api('POST', '/meetings', { title: 'Hooked', key: 'hooked-1', host: { externalId: 'h1', name: 'Host' } })).body;
    const p1 = (await api('POST', `/meetings/${m.id}/participants`, { externalId: 'u1', name: 'Ann' })).body;
    const p2 = (await api('POST', `/meetings/${m.id}/participants`, { externalId: 'u2', name: 'Bob' })).body;
    const hostP = ((await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[]).find((p) => p.role === 'host')!;

    // Bob declines, then accepts after all.
    for (const answer of ['decline', 'accept']) {
      const res = await send(`${t.url}/rtc/invitation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: (p2.joinUrl as string).split('/e/')[1], answer }) });
      expect(res.status).toBe(200);
    }
    const hostBot = await join('hk-host', personal(hostP.joinUrl));
    const annBot = await join('hk-ann', personal(p1.joinUrl));
    await eventsOf(m.id, (e) => has(e, 'meeting.started') && has(e, 'participant.joined', 2));

    expect((await api('POST', `/meetings/${m.id}/participants/${p1.id}/mute`, { sources: ['video'] })).status).toBe(204);
    hostBot.send({ type: 'moderate', participantId: annBot.id, action: 'mute' });
    await eventsOf(m.id, (e) => has(e, 'participant.muted', 2));

    // The lobby on: Bob knocks, and is turned away.
    await api('POST', `/meetings/${m.id}/lobby`, { enabled: true });
    const join2 = await send<JoinResponse>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: personal(p2.joinUrl) }) });
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?token=${join2.body.joinToken}`);
    sockets.push(ws);
    await eventsOf(m.id, (e) => has(e, 'participant.knocked'));
    expect((await api('POST', `/meetings/${m.id}/participants/${p2.id}/decline`)).status).toBe(204);

    expect((await api('POST', `/meetings/${m.id}/participants/${p1.id}/remove`, { reason: 'test over' })).status).toBe(204);
    await eventsOf(m.id, (e) => has(e, 'participant.removed') && find(e, 'participant.left', p1.id).length === 1);
    await hostBot.leave();
    await eventsOf(m.id, (e) => find(e, 'participant.left', hostP.id).length === 1);
    expect((await api('POST', `/meetings/${m.id}/end`)).status).toBe(200);
    const events = await eventsOf(m.id, (e) => has(e, 'meeting.ended'));
    expectWellFormed(events);

    for (const r of events) expect(r.event.meeting).toMatchObject({ id: m.id, key: 'hooked-1', title: 'Hooked', createdVia: 'native' });
    expect(find(events, 'participant.responded', p2.id).map((r) => r.event.data.response)).toEqual(['declined', 'accepted']);
    expect(find(events, 'meeting.started')).toHaveLength(1);
    expect(find(events, 'participant.joined', p1.id)[0]!.event.participant).toEqual({ id: p1.id, externalId: 'u1', name: 'Ann', role: 'participant', status: 10 });
    expect(find(events, 'participant.joined', hostP.id)[0]!.event.participant).toMatchObject({ externalId: 'h1', role: 'host' });
    const muted = find(events, 'participant.muted', p1.id).map((r) => r.event.data);
    expect(muted).toContainEqual({ sources: ['camera'], by: { kind: 'api' } });
    expect(muted).toContainEqual({ sources: ['microphone'], by: { kind: 'participant', participantId: hostP.id, name: 'Host' } });
    expect(find(events, 'participant.knocked', p2.id)[0]!.event.participant).toMatchObject({ externalId: 'u2', name: 'Bob' });
    expect(find(events, 'participant.removed', p1.id)[0]!.event.data).toEqual({ reason: 'test over', by: { kind: 'api' } });
    expect(find(events, 'participant.left', p1.id)[0]!.event.participant.status).toBe(11);
    const ended = find(events, 'meeting.ended')[0]!.event;
    expect(ended.data).toMatchObject({ reason: 'host_ended', wasLive: true });
    expect(ended.meeting.status).toBe(12);
    expect(ended.participant).toBeNull();
  });

  it('LiveMinutes: a meeting created with createMeeting produces events under its meetingKey', async () => {
    const created = await lm('createMeeting', { meetingKey: 'lm-hooked', hostid: 'lm-host', hostnickname: 'LM Host' });
    expect(created.body.resultcode).toBe(1);
    const bot = await join('hk-lm', personal(created.body.hostUrl as string));
    const meetingId = () => receiver.received.find((r) => r.event.meeting?.key === 'lm-hooked')?.event.meeting.id as string | undefined;
    expect(await eventually(() => meetingId() !== undefined, 20_000)).toBe(true);
    await bot.leave();
    await eventsOf(meetingId()!, (e) => has(e, 'participant.left'));
    expect((await lm('cancelMeeting', { meetingKey: 'lm-hooked' })).body.resultcode).toBe(1);
    const events = await eventsOf(meetingId()!, (e) => has(e, 'meeting.ended'));
    expectWellFormed(events);
    // Deliveries run side by side: no order is promised (docs/webhooks.md).
    expect(events.map((r) => r.event.type).sort()).toEqual(['meeting.ended', 'meeting.started', 'participant.joined', 'participant.left']);
    expect(find(events, 'meeting.started')[0]!.event.meeting).toMatchObject({ key: 'lm-hooked', createdVia: 'liveminutes' });
    expect(find(events, 'participant.joined')[0]!.event.participant).toMatchObject({ externalId: 'lm-host', name: 'LM Host', role: 'host' });
    expect(find(events, 'meeting.ended')[0]!.event.data.reason).toBe('cancelled');
  });

  it('Livebox: a conference turned on, joined and turned off produces events under its name', async () => {
    expect((await lb('videoConfSettings', { action: 'Add', name: 'Hooked conference', selectPreset: 'Preset-1', Authentication: 'false' })).status).toBe(200);
    expect((await lb('videoConfSettings', { action: 'changeConferenceMode', name: 'Hooked conference', conferenceMode: 'on' })).status).toBe(200);
    const embed = await send<string>(`${t.url}/livebox/appsservice/api/getEmbedCodeofConference`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, name: 'Hooked conference' }),
    });
    const key = /\/embed\/([A-Za-z0-9_-]+)/.exec(embed.text)?.[1];
    expect(key, embed.text).toBeDefined();
    await join('hk-lb', { kind: 'conference', key: key! }, { displayName: 'Visitor' });
    const meetingId = () => receiver.received.find((r) => r.event.meeting?.key === 'Hooked conference')?.event.meeting.id as string | undefined;
    expect(await eventually(() => meetingId() !== undefined, 20_000)).toBe(true);
    await eventsOf(meetingId()!, (e) => has(e, 'participant.joined'));
    expect((await lb('videoConfSettings', { action: 'changeConferenceMode', name: 'Hooked conference', conferenceMode: 'off' })).status).toBe(200);
    const events = await eventsOf(meetingId()!, (e) => has(e, 'meeting.ended') && has(e, 'participant.left'));
    expectWellFormed(events);
    expect(find(events, 'meeting.started')[0]!.event.meeting).toMatchObject({ key: 'Hooked conference', createdVia: 'livebox' });
    expect(find(events, 'participant.joined')[0]!.event.participant).toMatchObject({ externalId: null, name: 'Visitor' });
    expect(find(events, 'meeting.ended')[0]!.event.data.reason).toBe('disabled');
  });
});
