import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, bearer, fieldParts, multipartBody, post, send, STYLES, type Style } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Result { resultcode: 0 | 1; message?: string; [k: string]: unknown }

// The document describes every failure as `resultcode: 0`: by default failures are HTTP 200, so
// that its clients (urllib2, jQuery's .done) read them. `strict` answers HTTP error statuses
// instead (LIVEMINUTES_HTTP_ERRORS=true), the operator's switch.
let t: TestServer;
let strict: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  strict = await startTestServer({ LIVEMINUTES_HTTP_ERRORS: 'true' });
});
afterAll(async () => {
  await t.close();
  await strict.close();
});

const callOn = (server: TestServer, acc: AccountCredentials, method: string, data: Record<string, unknown> | undefined, style: Style = 'form') =>
  post<Result>(`${server.url}/${method}`, data, style, basic(acc.accountSid, acc.authToken));
const call = (acc: AccountCredentials, method: string, data: Record<string, unknown> | undefined, style: Style = 'form') => callOn(t, acc, method, data, style);

const meetingCount = async (acc: AccountCredentials, server = t) =>
  ((await send<{ data: unknown[] }>(`${server.url}/api/v1/meetings?limit=100`, { headers: bearer(acc.apiToken) })).body.data.length);

const TOKEN_URL = /^http:\/\/127\.0\.0\.1:\d+\/e\/[0-9A-Z]{26}$/;
const CODE_URL = /^http:\/\/127\.0\.0\.1:\d+\/[0-9A-Z]{8}$/;

describe.each(STYLES)('every method, %s bodies', (style) => {
  let acc: AccountCredentials;
  beforeAll(async () => { acc = await t.newAccount(`lm-${style}`); });

  it('createMeeting → addParticipant → URLs → statuses → cancel', async () => {
    const created = await call(acc, 'createMeeting', {
      meetingKey: 'kjhgngf', hostid: 'host-1', title: 'Weekly sync', lang: 'en', description: 'Line one\nLine two',
      time: '2030-01-15 09:30:00', duration: style === 'json' ? 1.5 : '1.5', hostnickname: 'Hosty', hostemail: 'host@example.com',
    }, style);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ resultcode: 1, meetingKey: 'kjhgngf', meetingUrl: expect.stringMatching(CODE_URL), hostUrl: expect.stringMatching(TOKEN_URL) });

    const added = await call(acc, 'addParticipant', { meetingKey: 'kjhgngf', puid: 'user-123', nickname: 'Ann', email: 'ann@example.com' }, style);
    expect(added.body).toEqual({ resultcode: 1, meetingKey: 'kjhgngf', participantUrl: expect.stringMatching(TOKEN_URL) });
    expect(added.body.participantUrl).not.toBe(created.body.hostUrl);

    const url = await call(acc, 'getParticipantUrl', { meetingKey: 'kjhgngf', puid: 'user-123' }, style);
    expect(url.body).toEqual({ resultcode: 1, participantUrl: added.body.participantUrl });
    const hostUrl = await call(acc, 'getParticipantUrl', { meetingKey: 'kjhgngf', puid: 'host-1' }, style);
    expect(hostUrl.body.participantUrl).toBe(created.body.hostUrl);

    const meetingUrl = await call(acc, 'getMeetingUrl', { meetingKey: 'kjhgngf' }, style);
    expect(meetingUrl.body).toEqual({ resultcode: 1, meetingUrl: created.body.meetingUrl });

    expect((await call(acc, 'getMeetingStatus', { meetingKey: 'kjhgngf' }, style)).body).toEqual({ resultcode: 1, status: '1' });
    expect((await call(acc, 'getParticipantStatus', { meetingKey: 'kjhgngf', puid: 'user-123' }, style)).body).toEqual({ resultcode: 1, status: '2' });

    expect((await call(acc, 'cancelParticipant', { meetingKey: 'kjhgngf', puid: 'user-123' }, style)).body).toEqual({ resultcode: 1, meetingKey: 'kjhgngf' });
    const afterCancel = await call(acc, 'getParticipantStatus', { meetingKey: 'kjhgngf', puid: 'user-123' }, style);
    expect(afterCancel.body.resultcode).toBe(0);
    expect(afterCancel.body.message).toMatch(/cancelled/);

    expect((await call(acc, 'cancelMeeting', { meetingKey: 'kjhgngf' }, style)).body).toEqual({ resultcode: 1, meetingKey: 'kjhgngf' });
    expect((await call(acc, 'getMeetingStatus', { meetingKey: 'kjhgngf' }, style)).body).toEqual({ resultcode: 1, status: '12' });
  });
});

describe("multipart/form-data, as PHP's curl sends an array in CURLOPT_POSTFIELDS", () => {
  it('text parts, written byte by byte, make the same meeting as the same fields form-encoded', async () => {
    const acc = await t.newAccount('lm-curl');
    const auth = basic(acc.accountSid, acc.authToken);
    const fields = { hostid: 'host-1', title: 'Réunion — 週次 & co', description: 'Line one\r\nLine two', hostnickname: 'Zoë', lang: 'fr', duration: '2' };
    const { body, contentType } = multipartBody(fieldParts({ meetingKey: 'curl-multipart', ...fields }));
    const r = await send<Result>(`${t.url}/createMeeting`, { method: 'POST', headers: { ...auth, 'content-type': contentType }, body });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ resultcode: 1, meetingKey: 'curl-multipart' });
    expect((await call(acc, 'createMeeting', { meetingKey: 'curl-form', ...fields }, 'form')).body.resultcode).toBe(1);

    type View = { key: string; title: string; description: string; language: string; createdAt: string; endsAt: string };
    const list = await send<{ data: View[] }>(`${t.url}/api/v1/meetings`, { headers: bearer(acc.apiToken) });
    const [viaMultipart, viaForm] = ['curl-multipart', 'curl-form'].map((key) => list.body.data.find((m) => m.key === key) as View);
    expect(viaMultipart.title).toBe('Réunion — 週次 & co');
    for (const k of ['title', 'description', 'language'] as const) expect(viaMultipart[k], k).toBe(viaForm[k]);
    const length = (m: View) => Date.parse(m.endsAt) - Date.parse(m.createdAt);
    expect(Math.abs(length(viaMultipart) - length(viaForm))).toBeLessThan(600_000); // both about 2 h from their creation

    // A field sent twice is a list, in a form and here alike, and meetingKey must be one string.
    const twice = [
      await send<Result>(`${t.url}/getMeetingStatus`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'meetingKey=curl-form&meetingKey=curl-multipart' }),
      await send<Result>(`${t.url}/getMeetingStatus`, { method: 'POST', headers: { ...auth, 'content-type': contentType }, body: multipartBody([{ name: 'meetingKey', value: 'curl-form' }, { name: 'meetingKey', value: 'curl-multipart' }]).body }),
    ];
    for (const answer of twice) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ resultcode: 0, message: 'meetingKey must be a string' });
    }
  });
});

describe('createMeeting', () => {
  it('generates a meetingKey when it is empty or absent', async () => {
    const acc = await t.newAccount();
    const a = await call(acc, 'createMeeting', { meetingKey: '', hostid: 'h' });
    const b = await call(acc, 'createMeeting', { hostid: 'h' });
    expect(a.body.resultcode).toBe(1);
    expect(a.body.meetingKey).toMatch(/^[0-9a-z]{10}$/);
    expect(b.body.meetingKey).toMatch(/^[0-9a-z]{10}$/);
    expect(a.body.meetingKey).not.toBe(b.body.meetingKey);
  });

  it("reads time in the account's time zone and duration in hours", async () => {
    const acc = await t.newAccount('paris', { timeZone: 'Europe/Paris' });
    await call(acc, 'createMeeting', { meetingKey: 'm', hostid: 'h', time: '2030-07-01 10:00:00', duration: '0.25' });
    const list = await send<{ data: { startsAt: string; endsAt: string }[] }>(`${t.url}/api/v1/meetings`, { headers: bearer(acc.apiToken) });
    expect(list.body.data[0].startsAt).toBe('2030-07-01T08:00:00.000Z');
    expect(list.body.data[0].endsAt).toBe('2030-07-01T08:15:00.000Z');
  });

  it('refuses a time and duration that are already over, as the other APIs refuse a window in the past', async () => {
    const acc = await t.newAccount('past', { timeZone: 'UTC' });
    const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    const now = Date.now();
    for (const [time, duration] of [[at(now - 3 * 3600_000), '2'], [at(now - 2 * 3600_000), '0.5']]) {
      const r = await call(acc, 'createMeeting', { meetingKey: 'over', hostid: 'h', time, duration });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ resultcode: 0, message: 'time + duration is in the past: the meeting would already be over' });
    }
    expect(await meetingCount(acc)).toBe(0);
    // A meeting that began an hour ago and runs two hours is fine, as is a past time with no duration.
    expect((await call(acc, 'createMeeting', { meetingKey: 'begun', hostid: 'h', time: at(now - 3600_000), duration: '2' })).body.resultcode).toBe(1);
    expect((await call(acc, 'createMeeting', { meetingKey: 'open-ended', hostid: 'h', time: at(now - 3600_000) })).body.resultcode).toBe(1);
  });

  it('gives each meeting its own unguessable links', async () => {
    const acc = await t.newAccount();
    const urls = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await call(acc, 'createMeeting', { meetingKey: `k${i}`, hostid: 'same-host' });
      urls.add(r.body.meetingUrl as string);
      urls.add(r.body.hostUrl as string);
    }
    expect(urls.size).toBe(10);
  });
});

describe('addParticipant', () => {
  it('returns the same personal link for the same puid, and a new one after cancelParticipant', async () => {
    const acc = await t.newAccount();
    await call(acc, 'createMeeting', { meetingKey: 'm', hostid: 'h' });
    const first = await call(acc, 'addParticipant', { meetingKey: 'm', puid: 'p' });
    const again = await call(acc, 'addParticipant', { meetingKey: 'm', puid: 'p', nickname: 'New name' });
    expect(again.body.participantUrl).toBe(first.body.participantUrl);

    await call(acc, 'cancelParticipant', { meetingKey: 'm', puid: 'p' });
    // A cancelled invitation has no link and no status until the person is invited again.
    for (const method of ['getParticipantUrl', 'getParticipantStatus']) {
      const r = await call(acc, method, { meetingKey: 'm', puid: 'p' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ resultcode: 0, message: 'puid names a cancelled invitation: "p"; inviting them again gives a new link' });
    }
    const old = await send(first.body.participantUrl as string, {});
    expect(old.text).toContain('invitation was cancelled');
    const back = await call(acc, 'addParticipant', { meetingKey: 'm', puid: 'p' });
    expect(back.body.resultcode).toBe(1);
    expect(back.body.participantUrl).not.toBe(first.body.participantUrl);
    expect((await send(first.body.participantUrl as string, {})).status).toBe(404);
    expect((await call(acc, 'getParticipantStatus', { meetingKey: 'm', puid: 'p' })).body).toEqual({ resultcode: 1, status: '2' });
  });

  it('refuses a cancelled meeting', async () => {
    const acc = await t.newAccount();
    await call(acc, 'createMeeting', { meetingKey: 'm', hostid: 'h' });
    await call(acc, 'cancelMeeting', { meetingKey: 'm' });
    const r = await call(acc, 'addParticipant', { meetingKey: 'm', puid: 'p' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: 0, message: 'the meeting is cancelled' });
  });
});

describe('statuses follow presence', () => {
  it('1 → 8 → 11 (host quit) → 8 → 12, and 2 → 10 → 11 for participants', async () => {
    const acc = await t.newAccount();
    await call(acc, 'createMeeting', { meetingKey: 'live', hostid: 'h' });
    await call(acc, 'addParticipant', { meetingKey: 'live', puid: 'p' });
    const { core } = t.server;
    const account = (await core.accounts.list()).find((a) => a.accountSid === acc.accountSid)!;
    const meeting = await core.meetings.getByKey(account, 'live');
    const host = await core.participants.getByExternalId(meeting, 'h');
    const guest = await core.participants.getByExternalId(meeting, 'p');
    const status = async () => (await call(acc, 'getMeetingStatus', { meetingKey: 'live' })).body.status;
    const pstatus = async (puid: string) => (await call(acc, 'getParticipantStatus', { meetingKey: 'live', puid })).body.status;

    await core.presence.connected(meeting.id, guest.id);
    expect(await status()).toBe('8');
    expect(await pstatus('p')).toBe('10');
    await core.presence.connected(meeting.id, host.id);
    await core.presence.left(meeting.id, host.id);
    expect(await status()).toBe('11');
    expect(await pstatus('h')).toBe('11');
    expect(await pstatus('p')).toBe('10');
    await core.presence.connected(meeting.id, host.id);
    expect(await status()).toBe('8');
    await core.presence.left(meeting.id, guest.id);
    expect(await pstatus('p')).toBe('11');
    await core.meetings.endForAll(await core.meetings.getByKey(account, 'live'));
    expect(await status()).toBe('12');
  });
});

describe('bad input gets resultcode 0 and a message, in an HTTP 200 (the 4xx with LIVEMINUTES_HTTP_ERRORS), and changes nothing', () => {
  let acc: AccountCredentials;
  let strictAcc: AccountCredentials;
  beforeAll(async () => {
    acc = await t.newAccount();
    strictAcc = await strict.newAccount();
    await call(acc, 'createMeeting', { meetingKey: 'exists', hostid: 'h' });
    await callOn(strict, strictAcc, 'createMeeting', { meetingKey: 'exists', hostid: 'h' });
  });

  const cases: [string, string, Record<string, unknown> | undefined, number, RegExp][] = [
    ['duplicate key', 'createMeeting', { meetingKey: 'exists', hostid: 'h' }, 409, /^meetingKey is already used by another meeting: "exists"$/],
    ['missing hostid', 'createMeeting', { meetingKey: 'x' }, 400, /^hostid is required$/],
    ['empty hostid', 'createMeeting', { meetingKey: 'x', hostid: '' }, 400, /hostid must not be empty/],
    ['hostid over 50', 'createMeeting', { meetingKey: 'x', hostid: 'h'.repeat(51) }, 400, /hostid must be at most 50 characters/],
    ['meetingKey over 100', 'createMeeting', { meetingKey: 'k'.repeat(101), hostid: 'h' }, 400, /meetingKey must be at most 100/],
    ['impossible date', 'createMeeting', { meetingKey: 'x', hostid: 'h', time: '2030-02-30 10:00:00' }, 400, /^time must be a real date/],
    ['wrong date format', 'createMeeting', { meetingKey: 'x', hostid: 'h', time: '15/01/2030 10:00' }, 400, /^time must be/],
    ['negative duration', 'createMeeting', { meetingKey: 'x', hostid: 'h', duration: '-1' }, 400, /^duration must be/],
    ['zero duration', 'createMeeting', { meetingKey: 'x', hostid: 'h', duration: '0' }, 400, /^duration must be more than 0/],
    ['text duration', 'createMeeting', { meetingKey: 'x', hostid: 'h', duration: 'two' }, 400, /^duration must be a number of hours/],
    ['huge duration', 'createMeeting', { meetingKey: 'x', hostid: 'h', duration: '100000' }, 400, /at most 744 hours/],
    ['bad e-mail', 'createMeeting', { meetingKey: 'x', hostid: 'h', hostemail: 'not-mail' }, 400, /^hostemail must be an e-mail address/],
    ['bad language', 'createMeeting', { meetingKey: 'x', hostid: 'h', lang: 'english!' }, 400, /^lang must be a language tag/],
    ['control characters', 'createMeeting', { meetingKey: 'x', hostid: 'h', title: 'a\u0000b' }, 400, /^title must not contain control characters/],
    ['object where a string goes', 'createMeeting', { meetingKey: { a: 'b' }, hostid: 'h' }, 400, /^meetingKey must be a string/],
    ['unknown meeting', 'getMeetingStatus', { meetingKey: 'nope' }, 404, /meetingKey matches no meeting: "nope"/],
    ['empty meetingKey', 'getMeetingUrl', { meetingKey: '' }, 400, /^meetingKey is required$/],
    ['missing meetingKey', 'cancelMeeting', {}, 400, /^meetingKey is required$/],
    ['unknown participant', 'getParticipantStatus', { meetingKey: 'exists', puid: 'ghost' }, 404, /puid matches no participant of the meeting/],
    ['puid over 50', 'addParticipant', { meetingKey: 'exists', puid: 'p'.repeat(51) }, 400, /^puid must be at most 50 characters$/],
    ['participant in unknown meeting', 'addParticipant', { meetingKey: 'nope', puid: 'p' }, 404, /no meeting/],
    ['cancelling the host', 'cancelParticipant', { meetingKey: 'exists', puid: 'h' }, 409, /host cannot be cancelled/],
    ['no body at all', 'getMeetingStatus', undefined, 400, /no body/],
  ];
  it.each(cases)('%s', async (_name, method, data, status, message) => {
    for (const [server, account, expected] of [[t, acc, 200], [strict, strictAcc, status]] as const) {
      const before = await meetingCount(account, server);
      const r = await callOn(server, account, method, data, 'json');
      expect(r.status).toBe(expected);
      expect(r.body.resultcode).toBe(0);
      expect(r.body.message).toMatch(message);
      expect(Object.keys(r.body).sort()).toEqual(['message', 'resultcode']);
      expect(await meetingCount(account, server)).toBe(before);
    }
  });

  const raw = (body: string | Buffer, contentType: string) => send<Result>(`${t.url}/createMeeting`, {
    method: 'POST', headers: { ...basic(acc.accountSid, acc.authToken), 'content-type': contentType }, body,
  });

  it('a truncated JSON body', async () => {
    const r = await raw('{"meetingKey":"x","hostid":"h"', 'application/json');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: 0, message: expect.stringMatching(/not valid JSON/) });
  });

  it('a binary body', async () => {
    const r = await raw(Buffer.from([0, 1, 2, 255, 254, 10]), 'application/octet-stream');
    expect(r.status).toBe(200);
    expect(r.body.resultcode).toBe(0);
  });

  it('binary bytes inside a form', async () => {
    const r = await raw(Buffer.concat([Buffer.from('hostid=h&meetingKey='), Buffer.from([0xff, 0x00, 0x01])]), 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: 0, message: 'the request body is not valid UTF-8' });
    const controls = await raw(Buffer.concat([Buffer.from('hostid=h&meetingKey='), Buffer.from([0x41, 0x00, 0x01])]), 'application/x-www-form-urlencoded');
    expect(controls.status).toBe(200);
    expect(controls.body.message).toMatch(/meetingKey must not contain control characters/);
  });

  it('a JSON array or scalar instead of an object', async () => {
    for (const body of ['[1,2]', '"text"', '42']) {
      const r = await raw(body, 'text/json');
      expect(r.status).toBe(200);
      expect(r.body.resultcode).toBe(0);
    }
  });

  it('a body over the size limit', async () => {
    const r = await raw(JSON.stringify({ meetingKey: 'x', hostid: 'h', description: 'd'.repeat(300_000) }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: 0, message: 'the request body is too large' });
  });

  it('GET instead of POST', async () => {
    const r = await send<Result>(`${t.url}/getMeetingStatus?meetingKey=exists`, { headers: basic(acc.accountSid, acc.authToken) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: 0, message: 'getMeetingStatus must be called with POST' });
  });

  it('an unknown method', async () => {
    const r = await call(acc, 'createMeetings', { meetingKey: 'x', hostid: 'h' });
    expect(r.status).toBe(200);
    expect(r.body.resultcode).toBe(0);
  });
});

describe('authentication', () => {
  let acc: AccountCredentials;
  let other: AccountCredentials;
  beforeAll(async () => {
    acc = await t.newAccount();
    other = await t.newAccount();
  });

  const attempt = (headers: Record<string, string>) => post<Result>(`${t.url}/createMeeting`, { meetingKey: 'a', hostid: 'h' }, 'form', headers);

  it.each([
    ['no credentials', () => ({})],
    ['an unknown AccountSid', () => basic('ACUNKNOWN', acc.authToken)],
    ['the right AccountSid with a wrong AuthToken', () => basic(acc.accountSid, 'nope')],
    ['another account’s AuthToken', () => basic(acc.accountSid, other.authToken)],
    ['credentials without a colon', () => ({ authorization: `Basic ${Buffer.from(acc.accountSid).toString('base64')}` })],
    ['a Bearer header', () => bearer(acc.apiToken)],
  ])('refuses %s with resultcode 0 in an HTTP 200 (401 with LIVEMINUTES_HTTP_ERRORS)', async (_name, headers) => {
    const r = await attempt(headers());
    expect(r.status).toBe(200);
    expect(r.body.resultcode).toBe(0);
    expect(r.body.message).toMatch(/AccountSid|Basic/);
    expect(r.headers.get('www-authenticate')).toBeNull();
    expect(await meetingCount(acc)).toBe(0);

    const strictAcc = await strict.newAccount();
    const withStatus = await post<Result>(`${strict.url}/createMeeting`, { meetingKey: 'a', hostid: 'h' }, 'form', headers());
    expect(withStatus.status).toBe(401);
    expect(withStatus.body).toEqual({ resultcode: 0, message: r.body.message });
    expect(withStatus.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await meetingCount(strictAcc, strict)).toBe(0);
  });

  it('stops accepting the old AuthToken after rotation', async () => {
    const res = await send<{ secret: string }>(`${t.url}/api/v1/admin/accounts/${acc.accountId}/rotate`, {
      method: 'POST', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, body: JSON.stringify({ secret: 'auth-token' }),
    });
    expect((await attempt(basic(acc.accountSid, acc.authToken))).body.resultcode).toBe(0);
    expect((await attempt(basic(acc.accountSid, res.body.secret))).body.resultcode).toBe(1);
  });
});

describe('credentials on a keep-alive connection', () => {
  /** getMeetingStatus over `agent` (one socket, kept alive); whether the socket was reused. */
  const statusOver = (agent: Agent, authorization: string) => new Promise<{ status: number; body: Result; reused: boolean }>((resolve, reject) => {
    const req = request(`${t.url}/getMeetingStatus`, {
      method: 'POST', agent, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Result, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end('meetingKey=kept');
  });

  it('are proven again after a wrong token, and stop working at once when rotated, on the same socket', async () => {
    const acc = await t.newAccount('keep-alive');
    await call(acc, 'createMeeting', { meetingKey: 'kept', hostid: 'h' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const right = basic(acc.accountSid, acc.authToken).authorization;
      expect(await statusOver(agent, right)).toMatchObject({ status: 200, body: { resultcode: 1, status: '1' }, reused: false });
      expect(await statusOver(agent, right)).toMatchObject({ status: 200, reused: true });
      // A wrong token on a socket that proved the right one is still wrong.
      expect(await statusOver(agent, basic(acc.accountSid, `${acc.authToken}x`).authorization)).toMatchObject({ status: 200, body: { resultcode: 0 } });
      expect(await statusOver(agent, right)).toMatchObject({ status: 200, reused: true });

      const rotated = await send<{ secret: string }>(`${t.url}/api/v1/admin/accounts/${acc.accountId}/rotate`, {
        method: 'POST', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, body: JSON.stringify({ secret: 'auth-token' }),
      });
      expect(rotated.status).toBe(200);
      expect(await statusOver(agent, right)).toMatchObject({ status: 200, body: { resultcode: 0 }, reused: true });
      expect(await statusOver(agent, basic(acc.accountSid, rotated.body.secret).authorization)).toMatchObject({ status: 200, body: { resultcode: 1 } });
    } finally {
      agent.destroy();
    }
  });
});

describe('accounts are isolated', () => {
  it('one account never reads or changes another account’s meetings', async () => {
    const a = await t.newAccount('A');
    const b = await t.newAccount('B');
    await call(a, 'createMeeting', { meetingKey: 'shared-name', hostid: 'h' });
    await call(a, 'addParticipant', { meetingKey: 'shared-name', puid: 'p' });
    for (const [method, data] of [
      ['getMeetingStatus', { meetingKey: 'shared-name' }], ['getMeetingUrl', { meetingKey: 'shared-name' }],
      ['getParticipantUrl', { meetingKey: 'shared-name', puid: 'p' }], ['cancelMeeting', { meetingKey: 'shared-name' }],
      ['cancelParticipant', { meetingKey: 'shared-name', puid: 'p' }], ['addParticipant', { meetingKey: 'shared-name', puid: 'x' }],
    ] as const) {
      const r = await call(b, method, data);
      expect(r.status, method).toBe(200);
      expect(r.body.resultcode).toBe(0);
    }
    expect((await call(a, 'getMeetingStatus', { meetingKey: 'shared-name' })).body.status).toBe('1');
    // The same key is free in the other account.
    expect((await call(b, 'createMeeting', { meetingKey: 'shared-name', hostid: 'h' })).body.resultcode).toBe(1);
  });
});

describe('quotas', () => {
  const setQuota = (acc: AccountCredentials, body: Record<string, number>) => send(`${t.url}/api/v1/admin/accounts/${acc.accountId}`, {
    method: 'PATCH', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  it('limits sessions per account', async () => {
    const acc = await t.newAccount();
    await setQuota(acc, { maxMeetings: 2 });
    expect((await call(acc, 'createMeeting', { hostid: 'h' })).body.resultcode).toBe(1);
    expect((await call(acc, 'createMeeting', { hostid: 'h' })).body.resultcode).toBe(1);
    const third = await call(acc, 'createMeeting', { hostid: 'h' });
    expect(third.status).toBe(200);
    expect(third.body).toEqual({ resultcode: 0, message: 'this account may have at most 2 meetings' });
    expect(await meetingCount(acc)).toBe(2);
  });

  it('says "1 meeting" and "1 user" in the singular', async () => {
    const acc = await t.newAccount();
    await setQuota(acc, { maxMeetings: 1, maxUsers: 1 });
    expect((await call(acc, 'createMeeting', { meetingKey: 'only', hostid: 'h' })).body.resultcode).toBe(1);
    expect((await call(acc, 'createMeeting', { hostid: 'h' })).body).toEqual({ resultcode: 0, message: 'this account may have at most 1 meeting' });
    expect((await call(acc, 'addParticipant', { meetingKey: 'only', puid: 'second' })).body).toEqual({ resultcode: 0, message: 'this account may have at most 1 user' });
  });

  it('limits distinct users per account, counting hosts, not repeat invitations', async () => {
    const acc = await t.newAccount();
    await setQuota(acc, { maxUsers: 2 });
    await call(acc, 'createMeeting', { meetingKey: 'm1', hostid: 'u1' });
    await call(acc, 'createMeeting', { meetingKey: 'm2', hostid: 'u1' });
    expect((await call(acc, 'addParticipant', { meetingKey: 'm1', puid: 'u2' })).body.resultcode).toBe(1);
    expect((await call(acc, 'addParticipant', { meetingKey: 'm2', puid: 'u2' })).body.resultcode).toBe(1);
    const third = await call(acc, 'addParticipant', { meetingKey: 'm1', puid: 'u3' });
    expect(third.status).toBe(200);
    expect(third.body.message).toBe('this account may have at most 2 users');
    const newHost = await call(acc, 'createMeeting', { meetingKey: 'm3', hostid: 'u3' });
    expect(newHost.body.resultcode).toBe(0);
    expect(await meetingCount(acc)).toBe(2);
  });
});
