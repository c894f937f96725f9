/**
 * Per-account API rate limits (RATE_LIMIT_PER_MINUTE, per account through the admin API): past
 * the limit each surface refuses in its own shape with Retry-After — native and Livebox 429,
 * LiveMinutes HTTP 200 with resultcode 0 (429 with LIVEMINUTES_HTTP_ERRORS) — and another
 * account is not affected. The limit counts every surface together. No clock is waited for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, bearer, post, send, type Answer } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
const LIMIT = 3;
const LB = '/livebox/appsservice/api';

let t: TestServer;
beforeAll(async () => { t = await startTestServer({ RATE_LIMIT_PER_MINUTE: String(LIMIT) }); });
afterAll(async () => { await t?.close(); });

type Call = (server: TestServer, acc: AccountCredentials) => Promise<Answer<Json>>;
const liveMinutes: Call = (server, acc) => post<Json>(`${server.url}/getMeetingUrl`, { meetingKey: 'none' }, 'form', basic(acc.accountSid, acc.authToken));
const livebox: Call = (server, acc) => post<Json>(`${server.url}${LB}/videoConfSettings`, { action: 'get', username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey }, 'json');
const native: Call = (server, acc) => send<Json>(`${server.url}/api/v1/meetings`, { headers: bearer(acc.apiToken) });

function expectRetryAfter(r: Answer<Json>) {
  const seconds = Number(r.headers.get('retry-after'));
  expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After: ${r.headers.get('retry-after')}`).toBe(true);
}

const SHAPES: [string, Call, (r: Answer<Json>) => void][] = [
  ['LiveMinutes', liveMinutes, (r) => {
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resultcode: 0, message: expect.stringMatching(/^too many requests for this account; try again in \d+ (second|minute)/) });
  }],
  ['Livebox', livebox, (r) => {
    expect(r.status).toBe(429);
    expect(r.body).toEqual({ status: 'error', code: 'rate_limited', message: expect.stringMatching(/^too many requests for this account/) });
  }],
  ['native', native, (r) => {
    expect(r.status).toBe(429);
    expect(r.body).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/^too many requests for this account/), details: {} } });
  }],
];

describe.each(SHAPES)('%s', (_name, call, expectRefusal) => {
  it(`answers ${LIMIT} requests a minute, then refuses in its shape with Retry-After; another account is not affected`, async () => {
    const acc = await t.newAccount();
    const other = await t.newAccount();
    for (let i = 0; i < LIMIT; i++) expect((await call(t, acc)).status).not.toBe(429);
    const refused = await call(t, acc);
    expectRefusal(refused);
    expectRetryAfter(refused);
    expectRefusal(await call(t, acc)); // refused requests do not count, and still refuse
    expect((await call(t, other)).headers.get('retry-after')).toBeNull();
  });
});

describe('one limit for all surfaces of an account', () => {
  it('requests on every surface count together', async () => {
    const acc = await t.newAccount();
    await liveMinutes(t, acc);
    await livebox(t, acc);
    expect((await native(t, acc)).status).toBe(200);
    expect((await native(t, acc)).status).toBe(429);
    expect((await liveMinutes(t, acc)).body.message).toMatch(/too many requests/);
  });
});

describe('per-account override through the admin API', () => {
  const setLimit = (acc: AccountCredentials, rateLimitPerMinute: number | null) => send<Json>(`${t.url}/api/v1/admin/accounts/${acc.accountId}`, {
    method: 'PATCH', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, body: JSON.stringify({ rateLimitPerMinute }),
  });

  it('a higher limit, no limit (0), and back to the server default (null)', async () => {
    const acc = await t.newAccount();
    expect((await setLimit(acc, 6)).body.rateLimitPerMinute).toBe(6);
    for (let i = 0; i < 6; i++) expect((await native(t, acc)).status).toBe(200);
    expect((await native(t, acc)).status).toBe(429);

    expect((await setLimit(acc, 0)).body.rateLimitPerMinute).toBe(0);
    for (let i = 0; i < 10; i++) expect((await native(t, acc)).status).toBe(200);

    const reset = await setLimit(acc, null);
    expect(reset.body.rateLimitPerMinute).toBe(LIMIT);
    expect((await send<Json>(`${t.url}/api/v1/account`, { headers: bearer(acc.apiToken) })).status).toBe(429);
    expect((await setLimit(acc, -1)).status).toBe(400);
  });
});

describe('LiveMinutes with LIVEMINUTES_HTTP_ERRORS=true', () => {
  it('refuses with HTTP 429, resultcode 0 and Retry-After', async () => {
    const strict = await startTestServer({ RATE_LIMIT_PER_MINUTE: '1', LIVEMINUTES_HTTP_ERRORS: 'true' });
    try {
      const acc = await strict.newAccount();
      expect((await liveMinutes(strict, acc)).status).toBe(404); // no such meeting: counted
      const refused = await liveMinutes(strict, acc);
      expect(refused.status).toBe(429);
      expect(refused.body.resultcode).toBe(0);
      expectRetryAfter(refused);
    } finally {
      await strict.close();
    }
  });
});
