import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, bearer, nativeApi, post, send } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The audit trail: every change through any API surface, readable by its account and the operator.
let t: TestServer;
let acc: AccountCredentials;
let other: AccountCredentials;

beforeAll(async () => {
  t = await startTestServer();
  acc = await t.newAccount('audited', { serviceControl: true });
  other = await t.newAccount('someone else');
});
afterAll(async () => t?.close());

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const otherApi = nativeApi(() => t, () => other.apiToken);
const admin = nativeApi(() => t, () => t.adminToken);
const lm = (method: string, fields: Record<string, unknown>, creds = acc) => post<Json>(`${t.url}/${method}`, fields, 'form', basic(creds.accountSid, creds.authToken));
const lb = (op: string, fields: Record<string, unknown>) =>
  post<Json>(`${t.url}/livebox/appsservice/api/${op}`, { username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, ...fields }, 'json');
const entries = async (query = '') => (await api('GET', `/audit${query}`)).body.data as Json[];

describe('audit trail', () => {
  it('records LiveMinutes changes with the meeting id, the request id and the outcome, and no reads', async () => {
    const created = await lm('createMeeting', { hostid: 'h1', meetingKey: 'lm-audit' });
    expect(created.body.resultcode).toBe(1);
    await lm('getMeetingStatus', { meetingKey: 'lm-audit' });
    await lm('addParticipant', { meetingKey: 'lm-audit', puid: 'p1', nickname: 'P' });
    await lm('cancelMeeting', { meetingKey: 'nope' });
    const meetingId = (await api('GET', '/meetings')).body.data.find((m: Json) => m.key === 'lm-audit').id;

    const [failed, added, create] = await entries('?limit=3');
    expect(create).toMatchObject({
      accountId: expect.any(String), action: 'meeting.create', resource: { type: 'meeting', id: meetingId },
      actor: { surface: 'liveminutes', credential: 'auth-token', userId: null },
      outcome: 'success', statusCode: 200, errorCode: null, requestId: created.headers.get('x-request-id'),
    });
    expect(added).toMatchObject({ action: 'participant.add', resource: { type: 'participant', id: meetingId } });
    expect(failed).toMatchObject({ action: 'meeting.cancel', outcome: 'failure', statusCode: 404, errorCode: 'not_found', resource: { id: null } });
    expect(Date.parse(create.at)).not.toBeNaN();
  });

  it('records Livebox changes with the API user, and the action named in the body', async () => {
    await lb('videoConfSettings', { action: 'Add', name: 'lb-audit' });
    const on = await lb('videoConfSettings', { action: 'changeConferenceMode', name: 'lb-audit', conferenceMode: 'on' });
    expect(on.status).toBe(200);
    await lb('videoConfSettings', { action: 'get' });
    const meetingId = (await api('GET', '/meetings')).body.data.find((m: Json) => m.key === 'lb-audit').id;
    await lb('videoConfSettings', { action: 'Remove', name: 'lb-audit' });
    await lb('ControlInsideAppServices', { action: 'restart', appservice: 'VideoConferencingService' });

    const [service, removed, mode, added] = await entries('?limit=4');
    const user = (await api('GET', '/users')).body.data.find((u: Json) => u.username === acc.apiUsername);
    expect(added).toMatchObject({ action: 'meeting.create', resource: { id: meetingId }, actor: { surface: 'livebox', credential: 'server-key', userId: user.id } });
    expect(mode).toMatchObject({ action: 'meeting.set-mode', resource: { id: meetingId }, requestId: on.headers.get('x-request-id') });
    expect(removed).toMatchObject({ action: 'meeting.delete', resource: { id: meetingId }, outcome: 'success' });
    expect(service).toMatchObject({ action: 'service.restart', resource: { type: 'service', id: null }, outcome: 'success' });
  });

  it('records native changes with the created resource’s id, and filters by resource, action and time', async () => {
    const m = (await api('POST', '/meetings', { title: 'native audit' })).body;
    const p = (await api('POST', `/meetings/${m.id}/participants`, { externalId: 'x1', name: 'X' })).body;
    await api('PATCH', `/meetings/${m.id}`, { title: 'renamed' });
    await api('DELETE', `/meetings/${m.id}/participants/${p.id}`);
    await api('POST', '/presets', { name: 'audited-preset' });
    expect((await api('PATCH', `/meetings/${m.id}`, { maxParticipants: -1 })).status).toBe(400);

    const about = await entries(`?resource=${m.id}`);
    expect(about.map((e) => [e.action, e.outcome])).toEqual([['meeting.update', 'failure'], ['meeting.update', 'success'], ['meeting.create', 'success']]);
    expect(about[0]).toMatchObject({ errorCode: 'invalid', statusCode: 400, actor: { surface: 'native', credential: 'api-token' } });
    expect((await entries(`?resource=${p.id}`)).map((e) => e.action)).toEqual(['participant.delete', 'participant.add']);
    expect((await entries('?action=preset.create')).map((e) => e.resource.type)).toEqual(['preset']);

    const all = await entries('?limit=100');
    const future = new Date(Date.parse(all[0].at) + 1).toISOString();
    expect(await entries(`?since=${encodeURIComponent(future)}`)).toEqual([]);
    expect((await entries(`?until=${encodeURIComponent(future)}`)).length).toBe(Math.min(all.length, 20));
    expect((await api('GET', `/audit?since=${encodeURIComponent(future)}&until=${encodeURIComponent(all[0].at)}`)).status).toBe(400);
  });

  it('pages newest first with cursors', async () => {
    const all = await entries('?limit=100');
    expect(all.length).toBeGreaterThan(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = (await api('GET', `/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((e: Json) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
  });

  it('an account sees only its own entries; the operator sees everyone’s, its own changes included', async () => {
    await otherApi('POST', '/meetings', { title: 'elsewhere' });
    await lm('createMeeting', { hostid: 'h', meetingKey: 'other-lm' }, other);
    const mine = await entries('?limit=100');
    const theirs = (await otherApi('GET', '/audit?limit=100')).body.data as Json[];
    expect(theirs.map((e) => e.action)).toEqual(['meeting.create', 'meeting.create', 'account.create']);
    expect(theirs[2]).toMatchObject({ actor: { surface: 'admin', credential: 'admin-token' }, resource: { type: 'account' } });
    expect(mine.every((e) => e.accountId === mine[0].accountId)).toBe(true);
    expect(mine.some((e) => theirs.some((x) => x.id === e.id))).toBe(false);

    await admin('POST', '/admin/service', { action: 'refresh-addresses' });
    const everything = (await admin('GET', '/admin/audit?limit=100')).body.data as Json[];
    expect(everything[0]).toMatchObject({ action: 'service.refresh-addresses', accountId: null, actor: { surface: 'admin' } });
    for (const e of [...mine, ...theirs]) expect(everything.some((x) => x.id === e.id)).toBe(true);
    const onlyOther = (await admin('GET', `/admin/audit?limit=100&account=${theirs[0].accountId}`)).body.data as Json[];
    expect(onlyOther.map((e) => e.id)).toEqual(theirs.map((e) => e.id));

    expect((await send(`${t.url}/api/v1/admin/audit`, { headers: bearer(acc.apiToken) })).status).toBe(401);
    expect((await send(`${t.url}/api/v1/audit`, {})).status).toBe(401);
  });

  it('a call with wrong credentials changes nothing and is not recorded', async () => {
    const before = (await admin('GET', '/admin/audit?limit=100')).body.data.length;
    // LiveMinutes answers a failure with HTTP 200 and resultcode 0, as its document does.
    expect((await post(`${t.url}/createMeeting`, { hostid: 'h' }, 'form', basic(acc.accountSid, 'wrong'))).body).toMatchObject({ resultcode: 0 });
    expect((await send(`${t.url}/api/v1/meetings`, { method: 'POST', headers: { ...bearer('nope'), 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await admin('GET', '/admin/audit?limit=100')).body.data.length).toBe(before);
  });
});

describe('request ids', () => {
  it('every answer carries an X-Request-Id, a new one each time; an untrusted client cannot choose it', async () => {
    const a = await send(`${t.url}/healthz`, {});
    const b = await send(`${t.url}/api/v1/meetings`, { headers: { ...bearer(acc.apiToken), 'x-request-id': 'chosen-by-client' } });
    const c = await send(`${t.url}/no/such/page`, {});
    const ids = [a, b, c].map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/); // this process's prefix and a counter
    expect(new Set(ids).size).toBe(3);
  });
});
