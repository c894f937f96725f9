import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, send, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 10, item 7: the operator console's session (cookie + CSRF token) in front of the admin API.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.close(); });

const ADMIN = () => `${t.url}/api/v1/admin`;

function login(token: string, headers: Record<string, string> = {}): Promise<Answer<Json>> {
  return send<Json>(`${ADMIN()}/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }) });
}

/** The cookie pair (`name=value`) a Set-Cookie header sets. */
const cookiePair = (res: Answer<unknown>) => (res.headers.get('set-cookie') ?? '').split(';')[0];

/** A signed-in console: its cookie and CSRF token. */
async function session() {
  const res = await login(t.adminToken);
  expect(res.status).toBe(200);
  return { cookie: cookiePair(res), csrf: res.body.csrfToken as string };
}

const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) => send<Json>(`${ADMIN()}${path}`, {
  method,
  headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
  body: body === undefined ? undefined : JSON.stringify(body),
});

describe('console sign-in', () => {
  it('refuses a wrong token with a clear message and sets no cookie', async () => {
    const res = await login('adm_not-the-token');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
    expect(res.body.error.message).toMatch(/admin token/);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('exchanges the right token for an HttpOnly, SameSite=Strict session cookie with an expiry, and a CSRF token', async () => {
    const res = await login(t.adminToken);
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^parley_admin=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=\d+/);
    expect(cookie).not.toMatch(/Secure/); // the public URL is http here
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(res.body.expiresAt)).not.toBeNaN();
  });

  it('refuses a sign-in from a foreign origin', async () => {
    const res = await login(t.adminToken, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('limits wrong tokens per address (429 with the wait)', async () => {
    const other = await startTestServer();
    try {
      const attempt = () => send<Json>(`${other.url}/api/v1/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'wrong' }) });
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await attempt()).status);
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses[10]).toBe(429);
      // Past the limit even the right token is refused, so a guesser learns nothing.
      const right = await send<Json>(`${other.url}/api/v1/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: other.adminToken }) });
      expect(right.status).toBe(429);
      expect(right.body.error.code).toBe('rate_limited');
    } finally {
      await other.close();
    }
  });
});

describe('the admin API with the console session', () => {
  it('reads with the cookie alone', async () => {
    const { cookie, csrf } = await session();
    const accounts = await call('GET', '/accounts', { cookie });
    expect(accounts.status).toBe(200);
    expect(Array.isArray(accounts.body.data)).toBe(true);
    const state = await call('GET', '/session', { cookie });
    expect(state.status).toBe(200);
    expect(state.body.csrfToken).toBe(csrf);
    expect((await call('GET', '/service', { cookie })).status).toBe(200);
    expect((await call('GET', '/live', { cookie })).body).toEqual({ data: [] });
  });

  it('refuses a change without the CSRF header (403), with a wrong one, and from a foreign Origin', async () => {
    const { cookie, csrf } = await session();
    const body = { name: 'From the console' };
    const none = await call('POST', '/accounts', { cookie }, body);
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe('forbidden');
    expect((await call('POST', '/accounts', { cookie, 'x-csrf-token': csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }, body)).status).toBe(403);
    const foreign = await call('POST', '/accounts', { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' }, body);
    expect(foreign.status).toBe(403);
    const ok = await call('POST', '/accounts', { cookie, 'x-csrf-token': csrf, origin: t.url }, body);
    expect(ok.status).toBe(201);
    expect(ok.body.account.name).toBe('From the console');
  });

  it('refuses a forged or unknown cookie', async () => {
    const forged = await call('GET', '/accounts', { cookie: `parley_admin=${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
    expect((await call('GET', '/accounts', { cookie: 'parley_admin=' })).status).toBe(401);
    expect((await call('GET', '/accounts', {})).status).toBe(401);
  });

  it('ends the session on sign-out (the cookie is cleared and no longer works)', async () => {
    const { cookie, csrf } = await session();
    const out = await call('DELETE', '/session', { cookie, 'x-csrf-token': csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^parley_admin=; .*Max-Age=0/);
    expect((await call('GET', '/accounts', { cookie })).status).toBe(401);
    expect((await call('GET', '/session', { cookie })).status).toBe(401);
  });

  it('ends every session when the admin token is rotated', async () => {
    const { cookie } = await session();
    const previous = t.adminToken;
    t.adminToken = await t.server.core.admin.rotateToken();
    expect(previous).not.toBe(t.adminToken);
    expect((await call('GET', '/accounts', { cookie })).status).toBe(401);
  });

  it('still takes the admin token as a Bearer token, without a CSRF header', async () => {
    const res = await call('POST', '/accounts', bearer(t.adminToken), { name: 'By token' });
    expect(res.status).toBe(201);
  });
});

describe('admin endpoints for the console', () => {
  it('issues a user’s new API key (shown once) and ends a meeting of any account', async () => {
    const admin = bearer(t.adminToken); // rotated above: t.newAccount would send the first one
    const acc = (await call('POST', '/accounts', admin, { name: 'console' })).body.credentials as Json;
    const users = await call('GET', `/accounts/${acc.accountId}/users`, admin);
    const apiuser = (users.body.data as Json[]).find((u) => u.username === 'apiuser')!;
    const rotated = await call('POST', `/accounts/${acc.accountId}/users/${apiuser.id}/api-key`, admin);
    expect(rotated.status).toBe(200);
    expect(rotated.body.apiKey).toMatch(/^lbk_/);
    expect(rotated.body.apiKey).not.toBe(acc.apiKey);

    const meeting = await send<Json>(`${t.url}/api/v1/meetings`, { method: 'POST', headers: { ...bearer(acc.apiToken), 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Ops' }) });
    const ended = await call('POST', `/meetings/${meeting.body.id}/end`, admin);
    expect(ended.status).toBe(200);
    expect(ended.body.status).toBe('ended');
    expect(ended.body.endReason).toBe('host_ended');
    expect((await call('POST', '/meetings/mtg_00000000000000000000000000/end', admin)).status).toBe(404);
  });

  it('reads and redelivers an account’s webhooks, and steers a live meeting, as the account could', async () => {
    const admin = bearer(t.adminToken);
    const acc = (await call('POST', '/accounts', admin, { name: 'hooked' })).body.credentials as Json;
    const own = (method: string, path: string, body?: unknown) => send<Json>(`${t.url}/api/v1${path}`, {
      method, headers: { ...bearer(acc.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // A receiver nobody listens on: its ping fails and is listed with its attempt.
    const endpoint = (await own('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook' })).body;
    expect((await own('POST', `/webhooks/${endpoint.id}/ping`)).status).toBe(202);
    const listed = await call('GET', `/accounts/${acc.accountId}/webhooks`, admin);
    expect(listed.status).toBe(200);
    expect((listed.body.data as Json[]).map((e) => e.url)).toEqual(['http://127.0.0.1:9/hook']);
    expect(listed.body.data[0].secret).toBeUndefined();
    const deliveries = await call('GET', `/accounts/${acc.accountId}/webhooks/${endpoint.id}/deliveries`, admin);
    expect((deliveries.body.data as Json[]).map((d) => d.eventType)).toEqual(['ping']);
    const again = await call('POST', `/accounts/${acc.accountId}/webhooks/${endpoint.id}/deliveries/${deliveries.body.data[0].id}/redeliver`, admin);
    expect(again.status).toBe(202);
    expect((await call('GET', `/accounts/acc_nobody/webhooks`, admin)).status).toBe(404);

    // Live state and commands on any account's meeting: nobody in it, so a 409, not a silent success.
    const meeting = (await own('POST', '/meetings', { title: 'Quiet' })).body;
    const person = (await own('POST', `/meetings/${meeting.id}/participants`, { externalId: 'x', name: 'X' })).body;
    expect((await call('GET', `/meetings/${meeting.id}/live`, admin)).body).toMatchObject({ live: false, participants: [] });
    expect((await call('POST', `/meetings/${meeting.id}/participants/${person.id}/mute`, admin, { sources: ['audio'] })).status).toBe(409);
    expect((await call('POST', `/meetings/mtg_00000000000000000000000000/participants/${person.id}/remove`, admin, {})).status).toBe(404);
  });

  it('serves the console page with a strict CSP, and its assets', async () => {
    const page = await send<string>(`${t.url}/admin`, {});
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await send<string>(`${t.url}${script}`, {});
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await send<string>(`${t.url}/admin/assets/nothing.js`, {})).status).toBe(404);
  });
});
