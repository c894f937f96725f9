import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { basic, bearer, nativeApi, post, send } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { scrape } from '../helpers/metrics.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// GET /metrics: Prometheus text, open to this host by default, behind METRICS_TOKEN when set.
const TOKEN = 'metrics-token-0123456789abcdef';
let open: TestServer;
let guarded: TestServer;
let acc: AccountCredentials;

beforeAll(async () => {
  [open, guarded] = await Promise.all([startTestServer(), startTestServer({ METRICS_TOKEN: TOKEN })]);
  acc = await open.newAccount('metrics');
});
afterAll(async () => Promise.all([open?.close(), guarded?.close()]));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => open, () => acc.apiToken);

describe('/metrics', () => {
  it('serves Prometheus text with process, meeting and API metrics, each server its own', async () => {
    const res = await send(`${open.url}/metrics`, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const m = await scrape(open.url);
    for (const name of ['parley_process_resident_memory_bytes', 'parley_nodejs_heap_size_used_bytes', 'parley_meetings_live', 'parley_participants_connected']) {
      expect(m.samples.some((s) => s.name === name), name).toBe(true);
    }
    expect(m.sum('parley_meetings_live')).toBe(0);
    // Media is off in this server: no worker metrics, no room metrics.
    expect(m.text).not.toContain('parley_media_worker_alive{');
  });

  it('is not served with METRICS_OFF=true', async () => {
    const off = await startTestServer({ METRICS_OFF: 'true' });
    try {
      expect((await send(`${off.url}/metrics`, {})).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('counts webhook deliveries: delivered and failed attempts, and what waits', async () => {
    const { createServer } = await import('node:http');
    const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as { port: number };
      const good = (await api('POST', '/webhooks', { url: `http://127.0.0.1:${port}/hook` })).body;
      const bad = (await api('POST', '/webhooks', { url: 'http://127.0.0.1:9/nobody' })).body;
      expect((await api('POST', `/webhooks/${good.id}/ping`)).status).toBe(202);
      expect((await api('POST', `/webhooks/${bad.id}/ping`)).status).toBe(202);
      const settled = async () => {
        const m = await scrape(open.url);
        return m.sum('parley_webhook_deliveries_total') >= 1 && m.sum('parley_webhook_delivery_failures_total') >= 1;
      };
      expect(await eventually(settled)).toBe(true);
      // The failed one waits for its retry.
      expect((await scrape(open.url)).sum('parley_webhook_queue_depth')).toBeGreaterThanOrEqual(1);
    } finally {
      receiver.close();
    }
  });

  it('labels API latency with the route pattern, the surface and the status code, never the URL', async () => {
    const meeting = (await api('GET', '/meetings')).body as Json;
    const created = (await api('POST', '/meetings', { title: 'pattern' })).body as Json;
    await api('GET', `/meetings/${created.id}`);
    await api('GET', '/meetings/mtg_00000000000000000000000000');
    const lm = await post<Json>(`${open.url}/createMeeting`, { hostid: 'h' }, 'form', basic(acc.accountSid, acc.authToken));
    const personal = new URL(lm.body.hostUrl as string).pathname; // /e/<token>
    await send(`${open.url}${personal}`, {});
    await send(`${open.url}/no/such/path`, {});
    expect(meeting.data).toBeDefined();

    const m = await scrape(open.url);
    const count = (labels: Record<string, string>) => m.sum('parley_http_request_duration_seconds_count', labels);
    expect(count({ route: '/api/v1/meetings/:id', method: 'GET', status_code: '200', surface: 'native' })).toBe(1);
    expect(count({ route: '/api/v1/meetings/:id', method: 'GET', status_code: '404', surface: 'native' })).toBe(1);
    expect(count({ route: '/api/v1/meetings', method: 'POST', status_code: '201', surface: 'native' })).toBe(1);
    expect(count({ route: '/createMeeting', surface: 'liveminutes', status_code: '200' })).toBe(1);
    expect(count({ route: '/e/:token', surface: 'other' })).toBe(1);
    expect(count({ route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    // No id, token or path of a request appears in any label.
    expect(m.text).not.toContain(created.id);
    expect(m.text).not.toContain(personal.slice(3));
    expect(m.text).not.toContain('/no/such/path');
    expect(m.sum('parley_http_request_duration_seconds_bucket', { route: '/api/v1/meetings/:id', status_code: '200', le: '+Inf' })).toBe(1);
  });

  it('is refused to other hosts and through a proxy unless METRICS_TOKEN is set', async () => {
    const proxied = await send(`${open.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect(proxied.text).toContain('METRICS_TOKEN');
  });

  it('needs the token when METRICS_TOKEN is set, from anywhere', async () => {
    expect((await send(`${guarded.url}/metrics`, {})).status).toBe(401);
    const wrong = await send(`${guarded.url}/metrics`, { headers: bearer(`${TOKEN}x`) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expect((await send(`${guarded.url}/metrics`, { headers: bearer(TOKEN.slice(0, -1)) })).status).toBe(401);
    const right = await send(`${guarded.url}/metrics`, { headers: { ...bearer(TOKEN), 'x-forwarded-for': '203.0.113.9' } });
    expect(right.status).toBe(200);
    expect(right.text).toContain('parley_meetings_live');
  });
});
