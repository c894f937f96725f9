/**
 * One rule, one answer on every surface (issue 7): rules that live in the core give the same
 * answer through LiveMinutes, Livebox and the native API, each in its own shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { LIMITS } from '../../src/core/index.js';
import { basic, nativeApi, post, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
const LB = '/livebox/appsservice/api';
const HOUR = 3600_000;

let t: TestServer;
let acc: AccountCredentials;
const native = nativeApi(() => t, () => acc.apiToken);

beforeAll(async () => {
  t = await startTestServer();
  acc = await t.newAccount('Rules');
});
afterAll(async () => { await t?.close(); });

const lm = (method: string, body: Record<string, unknown>) => post<Json>(`${t.url}/${method}`, body, 'json', basic(acc.accountSid, acc.authToken));
const lb = (operation: string, body: Record<string, unknown>) =>
  post<Json>(`${t.url}${LB}/${operation}`, { username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, ...body }, 'json');
const conferences = async () => (await lb('videoConfSettings', { action: 'get' })).body as unknown as { ConferenceName: string; Mode: string }[];
const modeOf = async (name: string) => (await conferences()).find((c) => c.ConferenceName === name)?.Mode;

// A window well in the future, so that no clock matters: the rule is about its length.
const YEAR = new Date().getUTCFullYear() + 2;
const START = Date.UTC(YEAR, 0, 1, 10, 0, 0); // 01-01-YEAR 10:00:00 UTC (new accounts are UTC)
const MAX = LIMITS.durationHours * HOUR;
const pad = (n: number) => String(n).padStart(2, '0');
const isoLocal = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const dayFirst = (ms: number) => {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}-${pad(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};

function expectTooLong(r: Answer<Json>, shape: 'liveminutes' | 'livebox' | 'native', field: string, from: 'after the start' | 'from now' = 'after the start') {
  const reason = `must be at most ${LIMITS.durationHours} hours (31 days) ${from}: that is the longest a meeting may be scheduled`;
  expect(r.status, r.text).toBe(shape === 'liveminutes' ? 200 : 400); // LiveMinutes: resultcode 0 in an HTTP 200
  if (shape === 'liveminutes') expect(r.body).toEqual({ resultcode: 0, message: `${field} ${reason}` });
  else if (shape === 'livebox') expect(r.body).toEqual({ status: 'error', code: 'invalid', message: `${field} ${reason}` });
  else expect(r.body).toEqual({ error: { code: 'invalid', message: `${field} ${reason}`, details: { field } } });
}

describe(`the longest meeting (${LIMITS.durationHours} hours) on every surface`, () => {
  it('LiveMinutes: time + duration up to the limit is created, one second more is refused with resultcode 0', async () => {
    const ok = await lm('createMeeting', { meetingKey: 'lm-max', hostid: 'h', time: isoLocal(START), duration: String(LIMITS.durationHours) });
    expect(ok.body, ok.text).toMatchObject({ resultcode: 1, meetingKey: 'lm-max' });
    expectTooLong(await lm('createMeeting', { meetingKey: 'lm-long', hostid: 'h', time: isoLocal(START), duration: String(LIMITS.durationHours + 1 / 3600) }), 'liveminutes', 'time + duration');
    // Without a time the meeting runs from now.
    expectTooLong(await lm('createMeeting', { meetingKey: 'lm-long', hostid: 'h', duration: String(LIMITS.durationHours + 1) }), 'liveminutes', 'time + duration', 'from now');
    expect((await lm('createMeeting', { meetingKey: 'lm-now', hostid: 'h', duration: String(LIMITS.durationHours) })).body.resultcode).toBe(1);
    expect((await lm('getMeetingStatus', { meetingKey: 'lm-long' })).body.resultcode).toBe(0);
  });

  it('Livebox: changeSchedulingMode on with a window longer than the limit is a 400 JSON reason, and nothing changes', async () => {
    expect((await lb('videoConfSettings', { action: 'Add', name: 'lb-conf' })).status).toBe(200);
    const scheduled = await lb('changeSchedulingMode', { conferenceName: 'lb-conf', SchedulingMode: 'on', startdate: dayFirst(START), enddate: dayFirst(START + MAX) });
    expect(scheduled.text).toBe('Scheduled');
    const longer = await lb('changeSchedulingMode', { conferenceName: 'lb-conf', SchedulingMode: 'on', startdate: dayFirst(START + HOUR), enddate: dayFirst(START + HOUR + MAX + 1000) });
    expectTooLong(longer, 'livebox', 'enddate');
    const m = (await native('GET', '/meetings?limit=100')).body.data.find((x: Json) => x.key === 'lb-conf');
    expect([m.startsAt, m.endsAt]).toEqual([new Date(START).toISOString(), new Date(START + MAX).toISOString()]);
  });

  it('native: creating or changing a meeting to a window longer than the limit is a 400 error object naming endsAt', async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    expectTooLong(await native('POST', '/meetings', { key: 'n-long', startsAt: iso(START), endsAt: iso(START + MAX + 1000) }), 'native', 'endsAt');
    expectTooLong(await native('POST', '/meetings', { key: 'n-long', endsAt: iso(Date.now() + MAX + HOUR) }), 'native', 'endsAt', 'from now');
    const created = await native('POST', '/meetings', { key: 'n-max', startsAt: iso(START), endsAt: iso(START + MAX) });
    expect(created.status, created.text).toBe(201);
    expectTooLong(await native('PATCH', `/meetings/${created.body.id}`, { endsAt: iso(START + MAX + 1000) }), 'native', 'endsAt');
    expectTooLong(await native('PATCH', `/meetings/${created.body.id}`, { startsAt: iso(START - 1000) }), 'native', 'endsAt');
    expect((await native('GET', `/meetings/${created.body.id}`)).body.endsAt).toBe(iso(START + MAX));
    // A window without an end has no length to limit.
    expect((await native('PATCH', `/meetings/${created.body.id}`, { endsAt: null })).status).toBe(200);
  });
});

describe('a cancelled meeting is off on every surface', () => {
  it('a meeting cancelled through LiveMinutes is listed by Livebox get with Mode "off", and cannot be switched on', async () => {
    expect((await lm('createMeeting', { meetingKey: 'to-cancel', hostid: 'h' })).body.resultcode).toBe(1);
    expect(await modeOf('to-cancel')).toBe('on'); // LiveMinutes meetings are joinable from the start
    expect((await lm('cancelMeeting', { meetingKey: 'to-cancel' })).body.resultcode).toBe(1);
    expect(await modeOf('to-cancel')).toBe('off');

    const on = await lb('videoConfSettings', { action: 'changeConferenceMode', name: 'to-cancel', conferenceMode: 'on' });
    expect(on.status, on.text).toBe(409);
    expect(on.body).toEqual({ status: 'error', code: 'conflict', message: 'the meeting is cancelled, which is final: it cannot be switched on again' });
    expect(await modeOf('to-cancel')).toBe('off');
    // Switching it off says what it is.
    expect((await lb('videoConfSettings', { action: 'changeConferenceMode', name: 'to-cancel', conferenceMode: 'off' })).body.status).toBe('Disabled');
  });

  it('a meeting cancelled through the native API reads "off" too, and the native API refuses to switch it on', async () => {
    const m = (await native('POST', '/meetings', { key: 'native-cancel' })).body;
    expect(await modeOf('native-cancel')).toBe('on');
    expect((await native('POST', `/meetings/${m.id}/cancel`)).status).toBe(200);
    expect(await modeOf('native-cancel')).toBe('off');
    const on = await native('PATCH', `/meetings/${m.id}`, { enabled: true });
    expect(on.status).toBe(409);
    expect(on.body.error.code).toBe('conflict');
  });
});
