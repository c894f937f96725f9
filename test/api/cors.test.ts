/**
 * CORS on the three API surfaces, over real HTTP. Off by default; an account lists its origins
 * (PATCH /api/v1/account, or the admin API), the operator lists global ones (CORS_ORIGINS). A
 * preflight has no credentials: it is answered for an origin the operator or any account allows.
 * A real answer is readable (Access-Control-Allow-Origin) only by the operator's origins and the
 * authenticated account's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, bearer, nativeApi, post, send, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LB = '/livebox/appsservice/api';
const GLOBAL = 'http://console.example.net';
const A_SITE = 'https://a.example.com';
const B_SITE = 'http://localhost:3000';
const EVIL = 'https://evil.example.org';

let t: TestServer;
let a: AccountCredentials;
let b: AccountCredentials;
const nativeA = nativeApi(() => t, () => a.apiToken);

beforeAll(async () => {
  t = await startTestServer({ CORS_ORIGINS: GLOBAL });
  a = await t.newAccount('A');
  b = await t.newAccount('B');
});
afterAll(async () => { await t?.close(); });

const preflight = (path: string, origin: string, headers = 'content-type') => send(`${t.url}${path}`, {
  method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
});
const livebox = (acc: AccountCredentials, origin: string) =>
  post(`${t.url}${LB}/videoConfSettings`, { action: 'get', username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey }, 'json', { origin });
const liveMinutes = (acc: AccountCredentials, origin: string, token = acc.authToken) =>
  post(`${t.url}/getMeetingStatus`, { meetingKey: 'none' }, 'form', { origin, ...basic(acc.accountSid, token) });
const native = (acc: AccountCredentials, origin: string) => send(`${t.url}/api/v1/meetings`, { headers: { origin, ...bearer(acc.apiToken) } });
const allowed = (r: Answer) => r.headers.get('access-control-allow-origin');

describe('an account lists its origins', () => {
  it('off by default: no account origins, and no CORS header for an unknown origin', async () => {
    expect((await nativeA('GET', '/account')).body.corsOrigins).toEqual([]);
    expect(allowed(await livebox(a, A_SITE))).toBeNull();
    expect((await preflight(`${LB}/videoConfSettings`, A_SITE)).status).toBe(403);
  });

  it.each([
    ['a trailing slash', 'https://a.example.com/'], ['a path', 'https://a.example.com/app'], ['a wildcard', '*'],
    ['upper case', 'https://A.example.com'], ['a default port', 'https://a.example.com:443'], ['another scheme', 'ftp://a.example.com'],
    ['no scheme', 'a.example.com'], ['a query', 'https://a.example.com?x=1'], ['the null origin', 'null'],
  ])('refuses %s: origins are exact, scheme://host[:port]', async (_name, origin) => {
    const r = await nativeA('PATCH', '/account', { corsOrigins: [origin] });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.message).toMatch(/^corsOrigins\[0\] must be an origin such as https:\/\/app\.example\.com/);
  });

  it('PATCH /api/v1/account sets them; the admin API sets another account’s', async () => {
    const r = await nativeA('PATCH', '/account', { corsOrigins: [A_SITE, A_SITE] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.corsOrigins).toEqual([A_SITE]);
    const admin = await send<{ corsOrigins: string[] }>(`${t.url}/api/v1/admin/accounts/${b.accountId}`, {
      method: 'PATCH', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, body: JSON.stringify({ corsOrigins: [B_SITE] }),
    });
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body.corsOrigins).toEqual([B_SITE]);
    // An account may not change its own rate limit.
    expect((await nativeA('PATCH', '/account', { rateLimitPerMinute: 0 })).status).toBe(400);
  });
});

describe('preflights', () => {
  it.each([`${LB}/videoConfSettings`, '/createMeeting', '/api/v1/meetings'])('%s: answered for an origin any account or the operator allows', async (path) => {
    for (const origin of [A_SITE, B_SITE, GLOBAL]) {
      const r = await preflight(path, origin, 'authorization,content-type');
      expect(r.status, origin).toBe(204);
      expect(allowed(r)).toBe(origin);
      expect(r.headers.get('vary')).toMatch(/Origin/);
      expect(r.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(r.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Content-Type/);
      expect(Number(r.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('refused for another origin, and never for the operator endpoints', async () => {
    const r = await preflight(`${LB}/videoConfSettings`, EVIL);
    expect(r.status).toBe(403);
    expect(allowed(r)).toBeNull();
    expect(allowed(await preflight('/api/v1/admin/accounts', GLOBAL))).toBeNull();
    expect(allowed(await preflight('/createMeetings', A_SITE))).toBeNull();
  });
});

describe('real answers are readable only by the authenticated account’s origins and the operator’s', () => {
  it('Livebox, LiveMinutes and native alike', async () => {
    for (const call of [livebox, liveMinutes, native]) {
      const own = await call(a, A_SITE);
      expect(allowed(own)).toBe(A_SITE);
      expect(own.headers.get('vary')).toMatch(/Origin/);
      expect(own.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
      expect(allowed(await call(b, B_SITE))).toBe(B_SITE);
      expect(allowed(await call(a, GLOBAL))).toBe(GLOBAL);
      // Another account's origin passed the preflight, but may not read A's answers.
      expect(allowed(await call(a, B_SITE))).toBeNull();
      const evil = await call(a, EVIL);
      expect(allowed(evil)).toBeNull();
      expect(evil.headers.get('vary')).toBeNull();
    }
  });

  it('a refusal before authentication is readable by any allowed origin, so a page can see why', async () => {
    const wrong = await liveMinutes(a, B_SITE, 'wrong');
    expect(wrong.body).toEqual({ resultcode: 0, message: 'wrong AccountSid or AuthToken' });
    expect(allowed(wrong)).toBe(B_SITE);
    expect(allowed(await liveMinutes(a, EVIL, 'wrong'))).toBeNull();
  });

  it('emptying the list stops it at once', async () => {
    expect((await nativeA('PATCH', '/account', { corsOrigins: [] })).status).toBe(200);
    expect(allowed(await livebox(a, A_SITE))).toBeNull();
    expect((await preflight(`${LB}/videoConfSettings`, A_SITE)).status).toBe(403);
  });
});
