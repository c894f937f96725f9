import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { nativeApi } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Issue 10, item 3: webhook endpoints through the native API, the test ping, retries after a
// 500, every attempt listed, redelivery. The worker's clock is moved forward instead of waiting
// for real backoff.
let t: TestServer;
let acc: AccountCredentials;
let other: AccountCredentials;
let offsetMs = 0;
const receiver = new WebhookReceiver();
let hookUrl: string;

beforeAll(async () => {
  t = await startTestServer({}, { webhookClock: { now: () => new Date(Date.now() + offsetMs) } });
  acc = await t.newAccount('hooks');
  other = await t.newAccount('other');
  hookUrl = await receiver.listen();
});
afterAll(async () => {
  await t?.close();
  await receiver.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const otherApi = nativeApi(() => t, () => other.apiToken);

/** Moves the worker's clock on (an hour by default) and wakes it: a retry scheduled that soon is due. */
function nextHour(hours = 1) {
  offsetMs += hours * 3600_000;
  t.server.webhooks.kick();
}

const deliveries = async (id: string) => (await api('GET', `/webhooks/${id}/deliveries`)).body.data as Json[];

describe('webhook endpoints', () => {
  it('creates one with a generated secret shown once, and never again', async () => {
    const res = await api('POST', '/webhooks', { url: hookUrl, events: ['meeting.started', 'meeting.ended'], description: 'mine' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: hookUrl, events: ['meeting.started', 'meeting.ended'], enabled: true, description: 'mine' });
    expect(res.body.secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    const got = await api('GET', `/webhooks/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify((await api('GET', '/webhooks')).body)).not.toContain(res.body.secret);
    const patched = await api('PATCH', `/webhooks/${res.body.id}`, { events: ['*'], enabled: false });
    expect(patched.body).toMatchObject({ events: ['*'], enabled: false });
    expect(patched.body.secret).toBeUndefined();
    const rotated = await api('POST', `/webhooks/${res.body.id}/secret`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(res.body.secret);
    expect((await api('DELETE', `/webhooks/${res.body.id}`)).status).toBe(204);
    expect((await api('GET', `/webhooks/${res.body.id}`)).status).toBe(404);
  });

  it('refuses bad input with a clear 4xx in the native error shape', async () => {
    const cases: [Json, string][] = [
      [{ url: 'ftp://example.com/x' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'http://user:pw@127.0.0.1/x' }, 'url'],
      [{ url: hookUrl, events: ['meeting.exploded'] }, 'events'],
      [{ url: hookUrl, events: [] }, 'events'],
      [{ url: hookUrl, events: ['*', 'meeting.started'] }, 'events'],
      [{ url: hookUrl, secret: 'short' }, 'secret'],
      [{ url: hookUrl, colour: 'blue' }, ''],
      [{}, 'url'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/webhooks', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid');
      if (field) expect(res.body.error.message).toContain(field);
    }
    expect((await api('GET', '/webhooks/whk_nope')).body.error.code).toBe('not_found');
    expect((await api('GET', '/webhooks?cursor=xyz')).status).toBe(400);
  });

  it('is invisible to another account', async () => {
    const mine = (await api('POST', '/webhooks', { url: hookUrl })).body;
    for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/ping'], ['GET', '/deliveries'], ['POST', '/secret']] as const) {
      const res = await otherApi(method, `/webhooks/${mine.id}${path}`, method === 'PATCH' ? { enabled: false } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await otherApi('GET', '/webhooks')).body.data).toEqual([]);
    await api('DELETE', `/webhooks/${mine.id}`);
  });
});

describe('deliveries', () => {
  it('delivers a signed ping', async () => {
    const hook = (await api('POST', '/webhooks', { url: hookUrl, secret: 'my-own-secret-0123456789' })).body;
    receiver.secret = 'my-own-secret-0123456789';
    const ping = await api('POST', `/webhooks/${hook.id}/ping`);
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ eventType: 'ping', state: 'pending', attempts: [] });
    expect(await eventually(() => receiver.of('ping').some((r) => r.event.id === ping.body.eventId))).toBe(true);
    const got = receiver.of('ping').find((r) => r.event.id === ping.body.eventId)!;
    expect(got.verified).toBe(true);
    expect(got.headers['parley-event-id']).toBe(ping.body.eventId);
    expect(got.headers['parley-event-type']).toBe('ping');
    expect(got.event).toMatchObject({ type: 'ping', meeting: null, participant: null, data: { endpointId: hook.id } });
    expect(await eventually(async () => (await deliveries(hook.id))[0]?.state === 'delivered')).toBe(true);
    const [d] = await deliveries(hook.id);
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ statusCode: 200, error: null, nextAttemptAt: null });
    // A tampered body or another secret does not verify.
    receiver.secret = 'someone-else-0123456789';
    const replay = await fetch(hookUrl, { method: 'POST', body: got.body.replace('ping', 'pong'), headers: { 'parley-signature': String(got.headers['parley-signature']) } });
    expect(replay.status).toBe(200);
    expect(receiver.received.at(-1)!.verified).toBe(false);
    await api('DELETE', `/webhooks/${hook.id}`);
  });

  it('retries after a 500 with backoff, lists every attempt, and redelivers on demand', async () => {
    const hook = (await api('POST', '/webhooks', { url: hookUrl })).body;
    receiver.secret = hook.secret;
    let failures = 2;
    receiver.status = () => (failures-- > 0 ? 500 : 200);
    const ping = (await api('POST', `/webhooks/${hook.id}/ping`)).body;
    const attempts = async () => ((await deliveries(hook.id)).find((d) => d.id === ping.id)?.attempts ?? []) as Json[];
    expect(await eventually(async () => (await attempts()).length === 1)).toBe(true);
    let list = await attempts();
    expect(list[0]).toMatchObject({ statusCode: 500 });
    expect(list[0].nextAttemptAt).not.toBeNull();
    // Not due yet: a kick without moving the clock sends nothing.
    t.server.webhooks.kick();
    nextHour();
    expect(await eventually(async () => (await attempts()).length === 2)).toBe(true);
    nextHour();
    expect(await eventually(async () => (await attempts()).length === 3)).toBe(true);
    list = await attempts();
    expect(list.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    expect(new Date(list[1].at).getTime()).toBeGreaterThanOrEqual(new Date(list[0].nextAttemptAt).getTime());
    expect(list.every((a) => typeof a.durationMs === 'number')).toBe(true);
    const sent = receiver.received.filter((r) => r.event.id === ping.eventId);
    expect(sent).toHaveLength(3);
    expect(sent.every((r) => r.verified && r.body === sent[0].body)).toBe(true);

    const again = await api('POST', `/webhooks/${hook.id}/deliveries/${ping.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body.state).toBe('pending');
    expect(await eventually(async () => (await attempts()).length === 4)).toBe(true);
    expect(receiver.received.filter((r) => r.event.id === ping.eventId)).toHaveLength(4);
    const one = await api('GET', `/webhooks/${hook.id}/deliveries/${ping.id}`);
    expect(one.body).toMatchObject({ state: 'delivered', nextAttemptAt: null });
    expect((await api('GET', `/webhooks/${hook.id}/deliveries?state=failed`)).body.data).toEqual([]);
    expect((await otherApi('POST', `/webhooks/${hook.id}/deliveries/${ping.id}/redeliver`)).status).toBe(404);
    expect((await api('POST', `/webhooks/${hook.id}/deliveries/dlv_nope/redeliver`)).status).toBe(404);
    await api('DELETE', `/webhooks/${hook.id}`);
  });

  it('gives up after 24 hours of failures', async () => {
    const hook = (await api('POST', '/webhooks', { url: hookUrl })).body;
    receiver.status = () => 503;
    const ping = (await api('POST', `/webhooks/${hook.id}/ping`)).body;
    const state = async () => (await api('GET', `/webhooks/${hook.id}/deliveries/${ping.id}`)).body as Json;
    expect(await eventually(async () => (await state()).attempts.length === 1)).toBe(true);
    for (let i = 0; i < 30 && (await state()).state === 'pending'; i++) {
      const n = (await state()).attempts.length;
      nextHour(3); // retries are at most 2 hours apart
      await eventually(async () => (await state()).attempts.length > n || (await state()).state !== 'pending', 3000);
    }
    const final = await state();
    expect(final.state).toBe('failed');
    expect(final.nextAttemptAt).toBeNull();
    expect(final.attempts.at(-1)).toMatchObject({ statusCode: 503, nextAttemptAt: null });
    receiver.status = () => 200;
    await api('DELETE', `/webhooks/${hook.id}`);
  });

  it('sends nothing to a disabled endpoint', async () => {
    const hook = (await api('POST', '/webhooks', { url: hookUrl, enabled: false })).body;
    expect((await api('POST', `/webhooks/${hook.id}/ping`)).status).toBe(409);
    // Meeting events happen (a cancellation ends it) but the endpoint gets none.
    const m = (await api('POST', '/meetings', { title: 'quiet' })).body;
    await api('POST', `/meetings/${m.id}/cancel`);
    await new Promise((r) => setTimeout(r, 300));
    t.server.webhooks.kick();
    expect(await deliveries(hook.id)).toEqual([]);
    expect(receiver.received.filter((r) => r.event.meeting?.id === m.id)).toEqual([]);
    await api('DELETE', `/webhooks/${hook.id}`);
  });

  it('appears in the OpenAPI document under the webhooks tag', async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as Json;
    expect(doc.paths['/api/v1/webhooks'].post.tags).toEqual(['webhooks']);
    expect(doc.paths['/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver'].post).toBeDefined();
    expect(doc.paths['/api/v1/webhooks/{id}/ping'].post).toBeDefined();
  });
});
