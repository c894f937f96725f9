import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { bearer, post, send, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface ErrorBody { error: { code: string; message: string; details: { field?: string } } }
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.close(); });

function api(acc: AccountCredentials | string) {
  const token = typeof acc === 'string' ? acc : acc.apiToken;
  const req = <T = Json>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> =>
    send<T>(`${t.url}/api/v1${path}`, {
      method,
      headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    get: <T = Json>(path: string) => req<T>('GET', path),
    post: <T = Json>(path: string, body?: unknown, headers?: Record<string, string>) => req<T>('POST', path, body ?? {}, headers),
    patch: <T = Json>(path: string, body: unknown) => req<T>('PATCH', path, body),
    delete: <T = Json>(path: string) => req<T>('DELETE', path),
  };
}

const expectError = (r: Answer<unknown>, status: number, code: string, message?: RegExp, field?: string) => {
  expect(r.status).toBe(status);
  const body = r.body as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
  if (field) expect(body.error.details.field).toBe(field);
};

describe('meetings', () => {
  let acc: AccountCredentials;
  beforeAll(async () => { acc = await t.newAccount(); });

  it('create, read, change, end, delete', async () => {
    const a = api(acc);
    const created = await a.post('/meetings', {
      key: 'course-101', title: 'Course 101', description: 'Intro', language: 'pt-BR',
      startsAt: '2030-01-01T09:00:00+01:00', endsAt: '2030-01-01T10:00:00Z', maxParticipants: 12, lobby: true,
      host: { externalId: 'teacher', name: 'Ms T', email: 't@example.com' },
    });
    expect(created.status).toBe(201);
    const m = created.body;
    expect(m).toMatchObject({
      key: 'course-101', title: 'Course 101', language: 'pt-BR', status: 'created', statusCode: 1, availability: 'not_started',
      enabled: true, startsAt: '2030-01-01T08:00:00.000Z', endsAt: '2030-01-01T10:00:00.000Z', preset: 'Preset-1',
      access: { mode: 'open', usernamePassword: false, pin: false, signupPreset: null, guestPreset: null },
      maxParticipants: 12, lobby: true, hostExternalId: 'teacher', createdVia: 'native',
    });
    expect(m.id).toMatch(/^mtg_[0-9a-z]{26}$/);
    expect(m.links.meeting).toMatch(/\/[0-9A-Z]{8}$/);
    expect(m.pin).toBeUndefined();

    expect((await a.get(`/meetings/${m.id}`)).body).toEqual(m);
    const participants = await a.get(`/meetings/${m.id}/participants`);
    expect(participants.body.data).toHaveLength(1);
    expect(participants.body.data[0]).toMatchObject({ externalId: 'teacher', role: 'host', status: 'invited', statusCode: 2 });

    const changed = await a.patch(`/meetings/${m.id}`, { title: 'Course 102', startsAt: null, endsAt: null, lobby: false });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ title: 'Course 102', startsAt: null, endsAt: null, lobby: false, availability: 'open' });

    const ended = await a.post(`/meetings/${m.id}/end`);
    expect(ended.body).toMatchObject({ status: 'ended', statusCode: 12, endReason: 'host_ended', availability: 'ended' });
    expectError(await a.post(`/meetings/${m.id}/end`), 409, 'conflict', /already ended/);

    expect((await a.delete(`/meetings/${m.id}`)).status).toBe(204);
    expectError(await a.get(`/meetings/${m.id}`), 404, 'not_found');
    expect((await send(m.links.meeting, {})).status).toBe(404);
  });

  it('generates a PIN when PIN entry is turned on, and shows it only then', async () => {
    const a = api(acc);
    const m = await a.post('/meetings', { access: { mode: 'restricted', pin: true } });
    expect(m.body.pin).toMatch(/^\d{6}$/);
    expect(m.body.access).toMatchObject({ mode: 'restricted', pin: true });
    expect((await a.get(`/meetings/${m.body.id}`)).body.pin).toBeUndefined();
    const set = await a.patch(`/meetings/${m.body.id}`, { pin: '4242' });
    expect(set.body.pin).toBe('4242');
  });

  it('cancels: links say so, statuses stay readable', async () => {
    const a = api(acc);
    const m = (await a.post('/meetings', {})).body;
    const cancelled = await a.post(`/meetings/${m.id}/cancel`);
    expect(cancelled.body).toMatchObject({ statusCode: 12, endReason: 'cancelled', availability: 'cancelled' });
    expect(cancelled.body.cancelledAt).not.toBeNull();
    expectError(await a.post(`/meetings/${m.id}/participants`, { externalId: 'x' }), 409, 'conflict', /cancelled/);
  });

  it('pages through a list with cursors', async () => {
    const other = await t.newAccount();
    const a = api(other);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await a.post('/meetings', { key: `m${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Answer<Json> = await a.get(`/meetings?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((m: Json) => m.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    expectError(await a.get('/meetings?cursor=garbage'), 400, 'invalid', /cursor/, 'cursor');
    expectError(await a.get('/meetings?limit=500'), 400, 'invalid', /limit must be <= 100/);
    expectError(await a.get('/meetings?limit=abc'), 400, 'invalid', /limit/);
  });

  it.each([
    ['startsAt not a date', { startsAt: 'tomorrow' }, 'startsAt', /ISO 8601/],
    ['end before start', { startsAt: '2030-01-01T10:00:00Z', endsAt: '2030-01-01T09:00:00Z' }, 'endsAt', /after the start/],
    ['unknown preset', { preset: 'Nope' }, 'preset', /names no preset/],
    ['unknown field', { colour: 'blue' }, 'colour', /not a known field/],
    ['maxParticipants 0', { maxParticipants: 0 }, 'maxParticipants', /must be >= 1/],
    ['short PIN', { pin: '12' }, 'pin', /at least 4/],
    ['letters in PIN', { pin: 'abcd' }, 'pin', /digits/],
    ['access mode', { access: { mode: 'secret' } }, 'access.mode', /must be one of/],
    ['title too long', { title: 't'.repeat(201) }, 'title', /at most 200/],
    ['host without id', { host: { name: 'x' } }, 'host.externalId', /required/],
  ])('refuses %s with a 400 naming the field', async (_name, body, field, message) => {
    const a = api(acc);
    const before = (await a.get('/meetings?limit=100')).body.data.length;
    expectError(await a.post('/meetings', body), 400, 'invalid', message, field);
    expect((await a.get('/meetings?limit=100')).body.data.length).toBe(before);
  });

  it('refuses a schedule window that is already over, on creation and change', async () => {
    const a = api(acc);
    const now = Date.now();
    const iso = (ms: number) => new Date(now + ms).toISOString();
    expectError(await a.post('/meetings', { key: 'gone', startsAt: iso(-7200_000), endsAt: iso(-3600_000) }), 400, 'invalid', /^endsAt is in the past/, 'endsAt');
    expectError(await a.post('/meetings', { key: 'gone', endsAt: iso(-1000) }), 400, 'invalid', /^endsAt is in the past/, 'endsAt');
    const m = (await a.post('/meetings', { key: 'begun', startsAt: iso(-3600_000), endsAt: iso(3600_000) })).body;
    expect(m.availability).toBe('open');
    expectError(await a.patch(`/meetings/${m.id}`, { endsAt: iso(-60_000) }), 400, 'invalid', /^endsAt is in the past/, 'endsAt');
    expectError(await a.patch(`/meetings/${m.id}`, { startsAt: iso(-7200_000), endsAt: iso(-3600_000) }), 400, 'invalid', /^endsAt is in the past/, 'endsAt');
    expect((await a.get(`/meetings/${m.id}`)).body.endsAt).toBe(m.endsAt);
    // Once time has passed the window, other changes still work.
    await t.server.store.meetings.update(m.id, { startsAt: new Date(now - 7200_000), endsAt: new Date(now - 3600_000) });
    expect((await a.patch(`/meetings/${m.id}`, { title: 'Minutes' })).status).toBe(200);
    expect((await a.patch(`/meetings/${m.id}`, { startsAt: null, endsAt: null })).body.availability).toBe('open');
  });

  it('refuses a duplicate key', async () => {
    const a = api(acc);
    await a.post('/meetings', { key: 'dup' });
    expectError(await a.post('/meetings', { key: 'dup' }), 409, 'conflict', /^key is already used by another meeting: "dup"$/, 'key');
  });

  it('refuses bodies it cannot read', async () => {
    const r = await send(`${t.url}/api/v1/meetings`, { method: 'POST', headers: { ...bearer(acc.apiToken), 'content-type': 'application/json' }, body: '{"title":' });
    expectError(r, 400, 'invalid', /not valid JSON/);
    const bin = await send(`${t.url}/api/v1/meetings`, { method: 'POST', headers: { ...bearer(acc.apiToken), 'content-type': 'image/png' }, body: Buffer.from([137, 80, 78, 71]) });
    expectError(bin, 415, 'unsupported_media_type');
    const arr = await send(`${t.url}/api/v1/meetings`, { method: 'POST', headers: { ...bearer(acc.apiToken), 'content-type': 'application/json' }, body: '[]' });
    expectError(arr, 400, 'invalid', /JSON object/);
  });
});

describe('idempotency keys', () => {
  it('replays the first answer for a retry and refuses a different body', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const first = await a.post('/meetings', { title: 'Once' }, { 'Idempotency-Key': 'req-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await a.post('/meetings', { title: 'Once' }, { 'Idempotency-Key': 'req-1' });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expectError(await a.post('/meetings', { title: 'Twice' }, { 'Idempotency-Key': 'req-1' }), 409, 'conflict', /different request/);
    expect((await a.post('/meetings', { title: 'Once' }, { 'Idempotency-Key': 'req-2' })).body.id).not.toBe(first.body.id);
    expect((await a.get('/meetings')).body.data).toHaveLength(2);
  });

  it('creates once when the same request arrives several times at once', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const answers = await Promise.all(Array.from({ length: 6 }, () => a.post('/meetings', { title: 'Race' }, { 'Idempotency-Key': 'race' })));
    const created = answers.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const r of answers.filter((x) => x.status !== 201)) expectError(r, 409, 'conflict', /still being processed/);
    expect((await a.get('/meetings')).body.data).toHaveLength(1);
  });

  it('lets a failed request be retried with the same key, and keys are per account', async () => {
    const acc = await t.newAccount();
    const other = await t.newAccount();
    expectError(await api(acc).post('/meetings', { preset: 'Missing' }, { 'Idempotency-Key': 'k' }), 400, 'invalid');
    expect((await api(acc).post('/meetings', { title: 'ok' }, { 'Idempotency-Key': 'k' })).status).toBe(201);
    expect((await api(other).post('/meetings', { title: 'ok' }, { 'Idempotency-Key': 'k' })).headers.get('idempotent-replayed')).toBeNull();
    expectError(await api(acc).post('/meetings', {}, { 'Idempotency-Key': 'x'.repeat(300) }), 400, 'invalid', /Idempotency-Key/);
  });
});

describe('participants', () => {
  it('invite, re-invite, list, get, remove', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const m = (await a.post('/meetings', {})).body;
    const p = await a.post(`/meetings/${m.id}/participants`, { externalId: 'u1', name: 'Ann', email: 'ann@example.com', role: 'moderator' });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ externalId: 'u1', name: 'Ann', role: 'moderator', status: 'invited', statusCode: 2, cancelled: false });
    expect(p.body.joinUrl).toMatch(/\/e\/[0-9A-Z]{26}$/);
    const again = await a.post(`/meetings/${m.id}/participants`, { externalId: 'u1' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(p.body.id);
    const anonymous = await a.post(`/meetings/${m.id}/participants`, { name: 'Walk-in' });
    expect(anonymous.status).toBe(201);
    expect(anonymous.body.externalId).toBeNull();

    expect((await a.get(`/meetings/${m.id}/participants`)).body.data.map((x: Json) => x.id)).toEqual([p.body.id, anonymous.body.id]);
    expect((await a.get(`/meetings/${m.id}/participants/${p.body.id}`)).body).toEqual(p.body);
    expect((await a.delete(`/meetings/${m.id}/participants/${p.body.id}`)).status).toBe(204);
    expectError(await a.get(`/meetings/${m.id}/participants/${p.body.id}`), 404, 'not_found');
    expect((await send(p.body.joinUrl, {})).status).toBe(404);
  });

  it('refuses bad roles and ids', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const m = (await a.post('/meetings', {})).body;
    expectError(await a.post(`/meetings/${m.id}/participants`, { role: 'king' }), 400, 'invalid', /one of/, 'role');
    expectError(await a.post(`/meetings/${m.id}/participants`, { externalId: 'x'.repeat(51) }), 400, 'invalid', /at most 50/, 'externalId');
    expectError(await a.post(`/meetings/${m.id}/participants`, { preset: 'Ghost' }), 400, 'invalid', /names no preset/, 'preset');
    expectError(await a.post('/meetings/mtg_00000000000000000000000000/participants', {}), 404, 'not_found');
  });
});

describe('presets', () => {
  it('CRUD, with rename following into meetings and guarded deletes', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const list = await a.get('/presets');
    expect(list.body.data.map((p: Json) => p.name)).toEqual(['Preset-1']);
    const created = await a.post('/presets', { name: 'Viewer', publishAudio: false, publishVideo: false, shareScreen: false, startAudioMuted: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Viewer', publishAudio: false, chat: true, moderate: false, startAudioMuted: true });
    expectError(await a.post('/presets', { name: 'Viewer' }), 409, 'conflict', /already exists/);
    expectError(await a.post('/presets', { name: '' }), 400, 'invalid', /must not be empty/, 'name');
    expectError(await a.post('/presets', { name: '<b>' }), 400, 'invalid', /letters, digits/, 'name');

    const m = (await a.post('/meetings', { preset: 'Viewer', access: { mode: 'restricted', guestPreset: 'Viewer' } })).body;
    expectError(await a.delete(`/presets/${created.body.id}`), 409, 'conflict', /used by 1 meeting/);
    const renamed = await a.patch(`/presets/${created.body.id}`, { name: 'Audience', chat: false });
    expect(renamed.body).toMatchObject({ name: 'Audience', chat: false });
    expect((await a.get(`/meetings/${m.id}`)).body).toMatchObject({ preset: 'Audience', access: { guestPreset: 'Audience' } });

    const defaultId = list.body.data[0].id;
    expectError(await a.delete(`/presets/${defaultId}`), 409, 'conflict', /default preset/);
    await a.delete(`/meetings/${m.id}`);
    expect((await a.delete(`/presets/${created.body.id}`)).status).toBe(204);
  });

  it('the default preset keeps its name, so new meetings and joins keep finding it', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const preset1 = (await a.get('/presets')).body.data[0];
    expect(preset1.name).toBe('Preset-1');
    expectError(await a.patch(`/presets/${preset1.id}`, { name: 'Renamed' }), 409, 'conflict', /default preset "Preset-1" cannot be renamed/, 'name');
    expect((await a.patch(`/presets/${preset1.id}`, { name: 'Preset-1', chat: false })).body).toMatchObject({ name: 'Preset-1', chat: false });
    expect((await a.get(`/presets/${preset1.id}`)).body.name).toBe('Preset-1');
    // Meetings are created with it, and a personal link of one still joins.
    const m = (await a.post('/meetings', { host: { externalId: 'h' } })).body;
    expect(m.preset).toBe('Preset-1');
    const host = (await a.get(`/meetings/${m.id}/participants`)).body.data[0];
    expect((await send(host.joinUrl, {})).status).toBe(200);
  });

  it('a preset held by a participant cannot be deleted (they would get Preset-1\'s rights)', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const muted = (await a.post('/presets', { name: 'Muted', publishAudio: false, publishVideo: false })).body;
    const m = (await a.post('/meetings', {})).body;
    const p = (await a.post(`/meetings/${m.id}/participants`, { externalId: 'quiet', preset: 'Muted' })).body;
    const q = (await a.post(`/meetings/${m.id}/participants`, { externalId: 'quieter', preset: 'Muted' })).body;
    expectError(await a.delete(`/presets/${muted.id}`), 409, 'conflict', /^preset "Muted" is used by 2 participants; change them first$/);
    await a.delete(`/meetings/${m.id}/participants/${p.id}`);
    expectError(await a.delete(`/presets/${muted.id}`), 409, 'conflict', /used by 1 participant;/);
    expect((await a.get(`/meetings/${m.id}/participants/${q.id}`)).body.preset).toBe('Muted');
    const m2 = (await a.post('/meetings', { preset: 'Muted' })).body;
    expectError(await a.delete(`/presets/${muted.id}`), 409, 'conflict', /used by 1 meeting and 1 participant;/);
    await a.delete(`/meetings/${m2.id}`);
    await a.delete(`/meetings/${m.id}`);
    expect((await a.delete(`/presets/${muted.id}`)).status).toBe(204);
  });
});

describe('users and API permission', () => {
  it('a user’s key works for Livebox only once an administrator grants API permission', async () => {
    const acc = await t.newAccount();
    const a = api(acc);
    const u = await a.post('/users', { username: 'clerk', displayName: 'Clerk', password: 'long-enough-pw', apiKey: true });
    expect(u.status).toBe(201);
    expect(u.body).toMatchObject({ username: 'clerk', hasPassword: true, apiPermission: false, hasApiKey: true });
    expect(u.body.apiKey).toMatch(/^lbk_/);
    const livebox = (key: string) => post(`${t.url}/livebox/appsservice/api/videoConfSettings`, { action: 'get', username: 'clerk', key, Serverkey: acc.serverKey }, 'json');
    expect((await livebox(u.body.apiKey)).status).toBe(403);
    await a.patch(`/users/${u.body.id}`, { apiPermission: true });
    expect((await livebox(u.body.apiKey)).status).toBe(200);
    const rotated = await a.post(`/users/${u.body.id}/api-key`);
    expect((await livebox(u.body.apiKey)).status).toBe(401);
    expect((await livebox(rotated.body.apiKey)).status).toBe(200);
    expect((await a.get(`/users/${u.body.id}`)).body.apiKey).toBeUndefined();

    expectError(await a.post('/users', { username: 'clerk' }), 409, 'conflict');
    expectError(await a.post('/users', { username: 'x', password: 'short' }), 400, 'invalid', /at least 8/, 'password');
    expectError(await a.post('/users', { username: 'bad name' }), 400, 'invalid', /letters, digits/, 'username');
    expect((await a.delete(`/users/${u.body.id}`)).status).toBe(204);
    expect((await livebox(rotated.body.apiKey)).status).toBe(401);
  });
});

describe('service control', () => {
  it('is the operator\'s to give: an account created without it may not stop the service', async () => {
    const created = await api(t.adminToken).post('/admin/accounts', { name: 'Tenant' });
    expect(created.status).toBe(201);
    expect(created.body.account.serviceControl).toBe(false);
    const tenant = created.body.credentials;
    expectError(await api(tenant).post('/service', { action: 'stop' }), 403, 'forbidden', /may not control the service/);
    const lb = await post(`${t.url}/livebox/appsservice/api/ControlInsideAppServices`, {
      username: tenant.apiUsername, key: tenant.apiKey, Serverkey: tenant.serverKey, action: 'stop', appservice: 'VideoConferencingService',
    }, 'json');
    expect(lb.status).toBe(403);
    expect((await api(tenant).get('/service')).body).toEqual({ running: true, enabled: true });
    expect((await api(tenant).get('/account')).body.serviceControl).toBe(false);

    const allowed = await api(t.adminToken).post('/admin/accounts', { name: 'Trusted', serviceControl: true });
    expect(allowed.body.account.serviceControl).toBe(true);
    expect((await api(allowed.body.credentials).get('/service')).body.addresses).toEqual(expect.any(Array));
    // The operator can change its mind.
    await api(t.adminToken).patch(`/admin/accounts/${tenant.accountId}`, { serviceControl: true });
    expect((await api(tenant).post('/service', { action: 'restart' })).body).toEqual({ running: true, enabled: true, addresses: expect.any(Array) });
  });

  it('stops, starts, restarts and refreshes; accounts without the right are refused', async () => {
    const acc = await t.newAccount('control', { serviceControl: true });
    const a = api(acc);
    expect((await a.get('/service')).body).toEqual({ running: true, enabled: true, addresses: expect.any(Array) });
    expect((await a.post('/service', { action: 'stop' })).body.running).toBe(false);
    expect((await a.get('/service')).body.running).toBe(false);
    expect((await a.post('/service', { action: 'start' })).body.running).toBe(true);
    expect((await a.post('/service', { action: 'restart' })).body.running).toBe(true);
    expect((await a.post('/service', { action: 'refresh-addresses' })).status).toBe(200);
    expectError(await a.post('/service', { action: 'explode' }), 400, 'invalid', /one of/);

    const limited = await t.newAccount('limited', { serviceControl: false });
    expectError(await api(limited).post('/service', { action: 'stop' }), 403, 'forbidden', /may not control the service/);
    expect((await a.get('/service')).body.running).toBe(true);
    // The server's addresses are not every tenant's business.
    expect((await api(limited).get('/service')).body).toEqual({ running: true, enabled: true });
  });
});

describe('API permission set by the operator', () => {
  it('lists an account\'s users and grants or withdraws their API permission', async () => {
    const acc = await t.newAccount();
    const other = await t.newAccount();
    const admin = api(t.adminToken);
    const clerk = (await api(acc).post('/users', { username: 'clerk', apiKey: true })).body;
    const livebox = () => post(`${t.url}/livebox/appsservice/api/videoConfSettings`, { action: 'get', username: 'clerk', key: clerk.apiKey, Serverkey: acc.serverKey }, 'json');
    expect((await livebox()).status).toBe(403);

    const users = await admin.get(`/admin/accounts/${acc.accountId}/users`);
    expect(users.status).toBe(200);
    expect(users.body.data.map((u: Json) => [u.username, u.apiPermission, u.hasApiKey])).toEqual([['apiuser', true, true], ['clerk', false, true]]);
    expect(users.body.nextCursor).toBeNull();
    expect(JSON.stringify(users.body)).not.toMatch(/lbk_|Hash/);

    const granted = await admin.patch(`/admin/accounts/${acc.accountId}/users/${clerk.id}`, { apiPermission: true });
    expect(granted.body).toMatchObject({ id: clerk.id, username: 'clerk', apiPermission: true });
    expect((await livebox()).status).toBe(200);
    expect((await admin.patch(`/admin/accounts/${acc.accountId}/users/${clerk.id}`, { apiPermission: false })).body.apiPermission).toBe(false);
    expect((await livebox()).status).toBe(403);

    expectError(await admin.patch(`/admin/accounts/${other.accountId}/users/${clerk.id}`, { apiPermission: true }), 404, 'not_found', /user not found/);
    expectError(await admin.patch(`/admin/accounts/acc_00000000000000000000000000/users/${clerk.id}`, { apiPermission: true }), 404, 'not_found', /account not found/);
    expectError(await admin.get('/admin/accounts/acc_00000000000000000000000000/users'), 404, 'not_found');
    expectError(await admin.patch(`/admin/accounts/${acc.accountId}/users/${clerk.id}`, { apiPermission: 'yes' }), 400, 'invalid', /apiPermission must be a boolean/);
    expectError(await admin.patch(`/admin/accounts/${acc.accountId}/users/${clerk.id}`, { apiPermission: true, password: 'long-enough-pw' }), 400, 'invalid', /password is not a known field/);
    expectError(await admin.patch(`/admin/accounts/${acc.accountId}/users/${clerk.id}`, {}), 400, 'invalid', /apiPermission is required/);
    // Only the admin token reaches these.
    expectError(await api(acc).get(`/admin/accounts/${acc.accountId}/users`), 401, 'unauthenticated');
    expectError(await api(acc).patch(`/admin/accounts/${acc.accountId}/users/${clerk.id}`, { apiPermission: true }), 401, 'unauthenticated');
    expect((await livebox()).status).toBe(403);
  });
});

describe('authentication and isolation', () => {
  it('refuses missing, wrong and revoked tokens', async () => {
    for (const headers of [{}, bearer('pk_wrong'), { authorization: 'Basic abc' }]) {
      const r = await send(`${t.url}/api/v1/meetings`, { headers });
      expectError(r, 401, 'unauthenticated');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const acc = await t.newAccount();
    const rotated = await send<{ secret: string }>(`${t.url}/api/v1/admin/accounts/${acc.accountId}/rotate`, {
      method: 'POST', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, body: JSON.stringify({ secret: 'api-token' }),
    });
    expectError(await api(acc).get('/meetings'), 401, 'unauthenticated');
    expect((await api(rotated.body.secret).get('/meetings')).status).toBe(200);
  });

  it('one account never sees or changes another’s resources', async () => {
    const a = await t.newAccount();
    const b = await t.newAccount();
    const m = (await api(a).post('/meetings', { key: 'private' })).body;
    const p = (await api(a).post(`/meetings/${m.id}/participants`, { externalId: 'x' })).body;
    const preset = (await api(a).post('/presets', { name: 'Mine' })).body;
    const user = (await api(a).post('/users', { username: 'mine' })).body;
    const B = api(b);
    expect((await B.get('/meetings')).body.data).toEqual([]);
    for (const r of [
      await B.get(`/meetings/${m.id}`), await B.patch(`/meetings/${m.id}`, { title: 'hacked' }), await B.delete(`/meetings/${m.id}`),
      await B.post(`/meetings/${m.id}/end`), await B.get(`/meetings/${m.id}/participants/${p.id}`),
      await B.delete(`/meetings/${m.id}/participants/${p.id}`), await B.get(`/presets/${preset.id}`), await B.delete(`/presets/${preset.id}`),
      await B.get(`/users/${user.id}`), await B.patch(`/users/${user.id}`, { apiPermission: true }),
    ]) expectError(r, 404, 'not_found');
    expect((await api(a).get(`/meetings/${m.id}`)).body).toMatchObject({ title: 'private', statusCode: 1 });
  });

  it('keeps the admin API for the admin token', async () => {
    const acc = await t.newAccount();
    expectError(await api(acc).get('/admin/accounts'), 401, 'unauthenticated', /admin token/);
    const list = await api(t.adminToken).get('/admin/accounts');
    expect(list.body.data.some((x: Json) => x.id === acc.accountId)).toBe(true);
    expect(JSON.stringify(list.body)).not.toMatch(/authToken|Hash/);
  });
});

describe('OpenAPI document and reference page', () => {
  it('describes the native API in OpenAPI 3.1, and only it', async () => {
    const doc = (await send<Json>(`${t.url}/api/v1/openapi.json`, {})).body;
    expect(doc.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.paths);
    for (const p of ['/api/v1/meetings', '/api/v1/meetings/{id}', '/api/v1/meetings/{id}/end', '/api/v1/meetings/{id}/participants',
      '/api/v1/meetings/{id}/participants/{pid}', '/api/v1/presets', '/api/v1/presets/{id}', '/api/v1/users', '/api/v1/service']) {
      expect(paths).toContain(p);
    }
    expect(paths.every((p) => p.startsWith('/api/v1/'))).toBe(true);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    const create = doc.paths['/api/v1/meetings'].post;
    expect(create.requestBody.content['application/json'].schema.properties.pin.maxLength).toBe(12);
    expect(create.responses['201']).toBeDefined();
    expect(create.responses['400']).toBeDefined();
  });

  it('documents the Idempotency-Key header of creations and every error status, in one shared error schema', async () => {
    const doc = (await send<Json>(`${t.url}/api/v1/openapi.json`, {})).body;
    expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['error'], properties: { error: { properties: { code: {}, message: {}, details: {} } } } });
    const ERROR = { $ref: '#/components/schemas/Error' };
    for (const path of ['/api/v1/meetings', '/api/v1/meetings/{id}/participants', '/api/v1/presets', '/api/v1/users']) {
      const op = doc.paths[path].post;
      const header = (op.parameters ?? []).find((p: Json) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      expect(header, path).toMatchObject({ required: false, schema: { type: 'string' } });
      expect(header.description).toMatch(/retry/);
      for (const status of ['400', '401', '403', '404', '409', '413', '415', '429']) {
        expect(op.responses[status]?.content?.['application/json']?.schema, `${path} ${status}`).toEqual(ERROR);
        expect(op.responses[status].description).not.toBe('Default Response');
      }
    }
    // Every operation's errors use the shared schema; reads cannot be too large or of the wrong type.
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'patch', 'delete'].includes(method)) continue;
        operations++;
        for (const status of ['400', '401', '404']) expect(op.responses[status]?.content['application/json'].schema, `${method} ${path} ${status}`).toEqual(ERROR);
        if (method === 'get') expect(op.responses['415'], `${method} ${path}`).toBeUndefined();
        if (method === 'get') expect((op.parameters ?? []).some((p: Json) => p.in === 'header'), `${method} ${path}`).toBe(false);
      }
    }
    expect(operations).toBeGreaterThan(25);
    const admin = doc.paths['/api/v1/admin/accounts/{id}/users/{userId}'].patch;
    expect(admin.requestBody.content['application/json'].schema.required).toEqual(['apiPermission']);
    expect(doc.paths['/api/v1/admin/accounts/{id}/users'].get).toBeDefined();
  });

  it('serves a rendered reference page with no third-party resources', async () => {
    const page = await send(`${t.url}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    const external = [...page.text.matchAll(/(?:src|href)=["'](https?:)?\/\/[^"']+/g)].map((m) => m[0]);
    expect(external).toEqual([]);
    const init = await send(`${t.url}/docs/static/swagger-initializer.js`, {});
    expect(init.status).toBe(200);
    const code = init.text.replace(/\/\/ .*$/gm, ''); // comments may cite web pages; code must not load any
    expect(code).not.toMatch(/https?:\/\//);
  });

  it('the reference page carries Parley’s name, logo and colours, not the framework’s', async () => {
    const page = await send(`${t.url}/docs`, { redirect: 'follow' });
    expect(page.text).toContain('<title>Parley API reference</title>');
    expect(page.text).toMatch(/href="[^"]*parley\.css"/);
    expect(page.text).toMatch(/rel="icon"[^>]*favicon\.svg|favicon\.svg[^>]*rel="icon"/);
    // The top bar's logo is put in by the initializer script, as a data URL.
    const init = (await send(`${t.url}/docs/static/swagger-initializer.js`, {})).text;
    const logo = Buffer.from(/data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(init)![1]!, 'base64').toString();
    expect(logo).toContain('aria-label="Parley"');
    expect(logo).not.toMatch(/swagger/i);
  });

  it('documents the live endpoints', async () => {
    const doc = (await send<Json>(`${t.url}/api/v1/openapi.json`, {})).body;
    for (const path of ['/live', '/participants/{pid}/mute', '/participants/{pid}/remove', '/participants/{pid}/admit', '/participants/{pid}/decline', '/lobby']) {
      const op = doc.paths[`/api/v1/meetings/{id}${path}`];
      expect(op, path).toBeDefined();
      expect(Object.values(op as Json)[0].tags).toEqual(['live']);
    }
  });
});
