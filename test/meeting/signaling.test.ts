import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { RoomLink } from '../../src/protocol/messages.js';
import { basic, bearer, post, send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Real joins over the real join API and WebSocket, with @roamhq/wrtc bots for media; loopback only.
let t: TestServer;
let host: BotHost;
let acc: AccountCredentials;
const bots: MeetingBot[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1', IDLE_TIMEOUT_SECONDS: '2', RESUME_WINDOW_SECONDS: '3' });
  host = new BotHost();
  acc = await t.newAccount('meetings', { serviceControl: true });
});
afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

let meetingSeq = 0;
const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
const tokenOf = (url: string): RoomLink => ({ kind: 'personal', token: url.split('/e/')[1] });
const status = async (key: string) => (await lm('getMeetingStatus', { meetingKey: key })).body.status;
const pstatus = async (key: string, puid: string) => (await lm('getParticipantStatus', { meetingKey: key, puid })).body.status;

/** A LiveMinutes meeting with a host and `n` invited participants; returns their links. */
async function meeting(n: number) {
  const key = `m${++meetingSeq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Host' });
  const links: RoomLink[] = [tokenOf(created.body.hostUrl as string)];
  for (let i = 1; i <= n; i++) links.push(tokenOf((await lm('addParticipant', { meetingKey: key, puid: `p${i}`, nickname: `P${i}` })).body.participantUrl as string));
  return { key, links, meetingUrl: created.body.meetingUrl as string };
}

/** Someone's seat in the meeting with this LiveMinutes key, as the native live API shows it. */
async function liveSeat(key: string, participantId: string): Promise<{ connection: string } | undefined> {
  const list = await send<{ data: { id: string; key: string }[] }>(`${t.url}/api/v1/meetings?limit=100`, { headers: bearer(acc.apiToken) });
  const id = list.body.data.find((x) => x.key === key)!.id;
  const live = await send<{ participants: { id: string; connection: string }[] }>(`${t.url}/api/v1/meetings/${id}/live`, { headers: bearer(acc.apiToken) });
  return live.body.participants.find((p) => p.id === participantId);
}

async function join(name: string, link: RoomLink, opts: Parameters<typeof MeetingBot.join>[4] = {}) {
  const bot = await MeetingBot.join(host, t.url, name, link, opts);
  bots.push(bot);
  return bot;
}

describe('a six-person meeting', () => {
  it('every bot receives every other bot’s video, and statuses follow presence', async () => {
    const m = await meeting(5);
    expect(await status(m.key)).toBe('1');
    const six: MeetingBot[] = [];
    for (let i = 0; i < 6; i++) six.push(await join(`six-${i}`, m.links[i]));
    const allSeeAll = async () => {
      for (const bot of six) {
        for (const other of six) {
          if (other !== bot && (await bot.framesFrom(other.id)) < 5) return false;
        }
      }
      return true;
    };
    expect(await eventually(allSeeAll, 30_000, 500)).toBe(true);
    expect(await status(m.key)).toBe('8');
    expect(await pstatus(m.key, 'host')).toBe('10');
    expect(await pstatus(m.key, 'p3')).toBe('10');
    for (const bot of six) expect(bot.welcome!.participants.length + bot.received('participantJoined').length).toBe(5);

    await six[3].leave();
    expect(await eventually(async () => (await pstatus(m.key, 'p3')) === '11')).toBe(true);
    expect(await eventually(() => six[0].received('participantLeft').some((x) => x.participantId === six[3].id))).toBe(true);
    expect(await eventually(() => !six[0].tracks.some((tr) => tr.participantId === six[3].id))).toBe(true);

    await six[0].leave(); // the host
    expect(await eventually(async () => (await status(m.key)) === '11')).toBe(true);
    expect(await pstatus(m.key, 'host')).toBe('11');
    for (const bot of six) if (bot !== six[0] && bot !== six[3]) await bot.stop();
  }, 90_000);
});

describe('joining', () => {
  it('a public link admits a guest by name and refuses one without', async () => {
    const m = await meeting(0);
    const code = m.meetingUrl.split('/').pop()!;
    const refused = await send<{ error: { message: string } }>(`${t.url}/rtc/join`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: { kind: 'public', code } }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('name is required');
    const guest = await join('guest', { kind: 'public', code }, { displayName: 'Walk-in Guest', video: false, audio: false });
    expect(guest.welcome!.self).toMatchObject({ name: 'Walk-in Guest', role: 'participant' });
    await guest.leave();
  });

  it.each([
    ['an unknown token', { kind: 'personal', token: 'X'.repeat(26) }, 404, 'not_found'],
    ['a malformed link', { kind: 'nonsense' }, 400, undefined],
  ])('refuses %s', async (_name, link, code, state) => {
    const r = await send<{ error: { state?: string } }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link }) });
    expect(r.status).toBe(code);
    expect(r.body.error.state).toBe(state);
  });

  it('says why a meeting cannot be joined: not started, cancelled, full', async () => {
    const later = await lm('createMeeting', { meetingKey: 'later', hostid: 'h', time: '2099-01-01 10:00:00' });
    const r1 = await send<{ error: { state: string; startsAt?: string; startsAtText?: string } }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: tokenOf(later.body.hostUrl as string) }) });
    expect(r1.status).toBe(409);
    expect(r1.body.error.state).toBe('not_started');
    // …and when it starts, so that the page can say so (in the organiser's time zone too).
    expect(r1.body.error.startsAt).toBe('2099-01-01T10:00:00.000Z');
    expect(r1.body.error.startsAtText).toMatch(/2099.*\(.+\)$/);

    const m = await meeting(2);
    await lm('cancelMeeting', { meetingKey: m.key });
    const r2 = await send<{ error: { state: string } }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: m.links[1] }) });
    expect(r2.body.error.state).toBe('cancelled');

    const small = await send<{ id: string; links: { meeting: string } }>(`${t.url}/api/v1/meetings`, {
      method: 'POST', headers: { ...bearer(acc.apiToken), 'content-type': 'application/json' }, body: JSON.stringify({ maxParticipants: 1 }),
    });
    const code = small.body.links.meeting.split('/').pop()!;
    const first = await join('first', { kind: 'public', code }, { audio: false, video: false });
    const second = await send<{ error: { state: string } }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: { kind: 'public', code }, name: 'Second' }) });
    expect(second.status).toBe(409);
    expect(second.body.error.state).toBe('full');
    await first.leave();
  });

  it('a join token fetched before the meeting was cancelled no longer opens the room', async () => {
    const m = await meeting(1);
    const r = await send<{ joinToken: string }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: m.links[1] }) });
    expect(r.status).toBe(200);
    await lm('cancelMeeting', { meetingKey: m.key });
    const { default: WebSocket } = await import('ws');
    const closed = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?token=${r.body.joinToken}`);
      ws.on('message', (d) => resolve(JSON.parse(d.toString()).state));
    });
    expect(closed).toBe('cancelled');
  });

  it('a join token works once', async () => {
    const m = await meeting(0);
    const r = await send<{ joinToken: string }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: m.links[0] }) });
    const bot = await join('once', m.links[0], { audio: false, video: false });
    const { default: WebSocket } = await import('ws');
    const closed = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?token=${r.body.joinToken}x`);
      ws.on('message', (d) => resolve(JSON.parse(d.toString()).state));
    });
    expect(closed).toBe('not_found');
    await bot.leave();
  });
});

describe('in the room', () => {
  it('a dropped socket resumes its seat without leaving; past the window the person has left', async () => {
    const m = await meeting(1);
    const a = await join('resume-a', m.links[0]);
    const b = await join('resume-b', m.links[1]);
    expect(await eventually(async () => (await a.framesFrom(b.id)) > 3)).toBe(true);
    b.dropSocket();
    // The server has seen the drop (the live API says the seat waits for them), and kept the seat.
    expect(await eventually(async () => (await liveSeat(m.key, b.id))?.connection === 'reconnecting')).toBe(true);
    const welcome = await b.resume();
    expect(welcome.resumed).toBe(true);
    expect(welcome.self.id).toBe(b.id);
    expect(a.received('participantLeft')).toEqual([]);
    expect(await pstatus(m.key, 'p1')).toBe('10');
    const before = await a.framesFrom(b.id);
    expect(await eventually(async () => (await a.framesFrom(b.id)) > before + 5)).toBe(true);

    b.dropSocket();
    expect(await eventually(async () => (await pstatus(m.key, 'p1')) === '11', 8000)).toBe(true);
    expect(a.received('participantLeft').map((x) => x.participantId)).toEqual([b.id]);
    await a.leave();
    await b.stop();
  });

  it('chat, hands, mutes and moderation, with permissions checked by the server', async () => {
    const m = await meeting(2);
    const h = await join('mod-host', m.links[0], { video: false });
    const p1 = await join('mod-p1', m.links[1], { video: false });
    const p2 = await join('mod-p2', m.links[2], { video: false });

    p1.send({ type: 'chat', text: '  <b>hi</b>  ' });
    expect(await eventually(() => p2.received('chat').length === 1)).toBe(true);
    expect(p2.received('chat')[0].message).toMatchObject({ from: p1.id, name: 'P1', text: '<b>hi</b>' });
    p1.send({ type: 'raiseHand', raised: true });
    expect(await eventually(() => h.received('participantUpdated').some((u) => u.participant.id === p1.id && u.participant.handRaised))).toBe(true);

    p1.send({ type: 'endForAll' });
    p1.send({ type: 'moderate', action: 'remove', participantId: p2.id });
    expect(await eventually(() => p1.received('error').length === 2)).toBe(true);
    expect(p1.received('error').map((e) => e.code)).toEqual(['forbidden', 'forbidden']);

    h.send({ type: 'moderate', action: 'mute', participantId: p1.id });
    expect(await eventually(() => p1.received('muteRequested').length === 1)).toBe(true);
    expect(p1.received('muteRequested')[0]).toMatchObject({ by: 'Host', source: 'microphone', request: 1 });
    // An unmute sent before the page saw that mute is overtaken by it; one sent after it stands.
    const mutedInfo = () => h.received('participantUpdated').filter((u) => u.participant.id === p1.id).at(-1)?.participant.audioMuted;
    expect(await eventually(() => mutedInfo() === true)).toBe(true);
    const updates = () => h.received('participantUpdated').filter((u) => u.participant.id === p1.id).length;
    const before = updates();
    p1.send({ type: 'setMuted', source: 'microphone', muted: false, seen: 0 });
    p1.send({ type: 'raiseHand', raised: false }); // a marker: handled after the unmute
    expect(await eventually(() => updates() >= before + 1)).toBe(true);
    expect(updates()).toBe(before + 1);
    expect(mutedInfo()).toBe(true);
    // …and the page is told the mute again, in case it never heard of it.
    expect(await eventually(() => p1.received('muteRequested').length === 2)).toBe(true);
    expect(p1.received('muteRequested')[1]).toMatchObject({ by: 'Host', source: 'microphone', request: 1 });
    p1.send({ type: 'setMuted', source: 'microphone', muted: false, seen: 1 });
    expect(await eventually(() => mutedInfo() === false)).toBe(true);
    p1.send({ type: 'setMuted', source: 'microphone', muted: false, seen: -1 });
    expect(await eventually(() => p1.received('error').some((e) => e.code !== 'forbidden'))).toBe(true);
    expect(p1.received('error').at(-1)?.message).toMatch(/seen/);
    h.send({ type: 'moderate', action: 'remove', participantId: p2.id });
    expect(await eventually(() => p2.closed?.state === 'removed')).toBe(true);
    expect(await eventually(async () => (await pstatus(m.key, 'p2')) === '11')).toBe(true);

    h.send({ type: 'endForAll' });
    expect(await eventually(() => p1.closed?.state === 'ended' && h.closed?.state === 'ended')).toBe(true);
    expect(await status(m.key)).toBe('12');
    const again = await send<{ error: { state: string } }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: m.links[1] }) });
    expect(again.body.error.state).toBe('ended');
    for (const b of [h, p1, p2]) await b.stop();
  });

  it('opening the same personal link again moves the seat there; the first page is told it joined elsewhere, not removed', async () => {
    const m = await meeting(1);
    const h = await join('moved-h', m.links[0], { audio: false, video: false });
    const first = await join('moved-p', m.links[1], { audio: false });
    expect(await eventually(async () => (await pstatus(m.key, 'p1')) === '10')).toBe(true);
    const second = await join('moved-p-again', m.links[1], { audio: false });
    expect(await eventually(() => first.closed !== undefined)).toBe(true);
    expect(first.closed).toEqual({ state: 'joined_elsewhere', message: 'You joined this meeting from another window or tab.' });
    expect(second.welcome!.self.id).toBe(first.id);
    // The person never left: no "left" for the others, still in the meeting (10).
    expect(h.received('participantLeft')).toEqual([]);
    expect(await pstatus(m.key, 'p1')).toBe('10');
    // The first page coming back with its resume token hears the same, not "connection lost".
    const { default: WebSocket } = await import('ws');
    const back = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/rtc/ws?resume=${first.welcome!.resumeToken}`);
      ws.on('message', (d) => resolve(JSON.parse(d.toString()).state));
    });
    expect(back).toBe('joined_elsewhere');
    for (const b of [h, first, second]) await b.stop();
  });

  it('a cancelled invitation removes its holder from the room', async () => {
    const m = await meeting(1);
    const h = await join('cancel-h', m.links[0], { audio: false, video: false });
    const p = await join('cancel-p', m.links[1], { audio: false, video: false });
    await lm('cancelParticipant', { meetingKey: m.key, puid: 'p1' });
    expect(await eventually(() => p.closed?.state === 'invitation_cancelled')).toBe(true);
    await h.leave();
  });

  it('an empty meeting ends after the idle time', async () => {
    const m = await meeting(0);
    const h = await join('idle-h', m.links[0], { audio: false });
    expect(await eventually(async () => (await status(m.key)) === '8')).toBe(true);
    await h.leave();
    expect(await status(m.key)).toBe('11');
    expect(await eventually(async () => (await status(m.key)) === '12', 8000)).toBe(true);
  });
});

describe('service control', () => {
  it('stop ends every meeting and refuses joins until start', async () => {
    const m = await meeting(1);
    const a = await join('svc-a', m.links[0], { audio: false });
    const b = await join('svc-b', m.links[1], { audio: false });
    expect(await eventually(async () => (await b.framesFrom(a.id)) > 2)).toBe(true);
    const lb = (action: string) => post(`${t.url}/livebox/appsservice/api/ControlInsideAppServices`, {
      username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, action, appservice: 'VideoConferencingService',
    }, 'json');
    expect((await lb('stop')).text).toBe('Stopped');
    expect(await eventually(() => a.closed?.state === 'service_stopped' && b.closed?.state === 'service_stopped')).toBe(true);
    await t.server.media!.control.idle();
    expect(t.server.media!.service.running).toBe(false);
    expect(await status(m.key)).toBe('12');
    const refused = await send<{ error: { state: string } }>(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: m.links[1] }) });
    expect(refused.body.error.state).toBe('service_stopped');
    expect((await send(`${t.url}/e/${(m.links[1] as { token: string }).token}`, {})).text).toContain('service is stopped');

    expect((await lb('start')).text).toBe('Started');
    await t.server.media!.control.idle();
    expect(t.server.media!.service.running).toBe(true);
    const again = await join('svc-c', m.links[1], { audio: false });
    expect(again.welcome!.self.name).toBe('P1');
    await again.leave();
    for (const x of [a, b]) await x.stop();
  }, 60_000);
});
