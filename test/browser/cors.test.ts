import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { openPerson, type Person } from '../helpers/browser.js';
import { nativeApi } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The Livebox document's browser examples, from a page on another origin: the XMLHttpRequest with
// a JSON body (which the browser preflights) and jQuery's $.post (form fields: no preflight).
// The account allows one origin (http://127.0.0.2:PORT); a page there reads the answers, a page
// on http://127.0.0.3:PORT cannot.
let t: TestServer;
let acc: AccountCredentials;
let person: Person;
const servers: Server[] = [];
let site: string;
let other: string;
const api = nativeApi(() => t, () => acc.apiToken);

// The document's examples as a page runs them. Its XMLHttpRequest sample calls setRequestHeader
// before open, which browsers refuse: here open comes first. jQuery is not at hand offline, so
// $.post is written as what it sends: a form-encoded XMLHttpRequest.
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Integrator</title></head><body>
<script>
  function call(url, body, contentType) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.setRequestHeader('Content-Type', contentType);
      xhr.onload = function () { resolve({ status: xhr.status, text: xhr.responseText }); };
      xhr.onerror = function () { resolve({ status: xhr.status, error: true }); };
      xhr.send(body);
    });
  }
  window.xhrJson = function (url, params) { return call(url, JSON.stringify(params), 'application/json'); };
  window.post = function (url, params) { return call(url, new URLSearchParams(params).toString(), 'application/x-www-form-urlencoded'); };
</script></body></html>`;

function serve(host: string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE));
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`));
  });
}

beforeAll(async () => {
  t = await startTestServer();
  acc = await t.newAccount('cors');
  site = await serve('127.0.0.2');
  other = await serve('127.0.0.3');
  const set = await api('PATCH', '/account', { corsOrigins: [site] });
  expect(set.status, set.text).toBe(200);
  person = await openPerson();
});
afterAll(async () => {
  await person?.close();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await t?.close();
});

interface Result { status: number; text?: string; error?: boolean }
const creds = () => ({ username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey });
const run = (fn: 'xhrJson' | 'post', operation: string, params: Record<string, string>) => person.page.evaluate(
  ([f, url, p]) => (globalThis as unknown as Record<string, (u: string, p: Record<string, string>) => Promise<Result>>)[f](url, p),
  [fn, `${t.url}/livebox/appsservice/api/${operation}`, params] as const,
);
const conferences = async () => (await api('GET', '/meetings?limit=100')).body.data.map((m: { key: string }) => m.key) as string[];

describe('the Livebox API from a page on another origin', () => {
  it('a page on the allowed origin reads the answers of both examples', async () => {
    await person.page.goto(`${site}/`);
    const added = await run('xhrJson', 'videoConfSettings', { ...creds(), action: 'Add', name: 'from-site', selectPreset: 'Preset-1', Authentication: 'false' });
    expect(added.error).toBeUndefined();
    expect(added.status).toBe(200);
    expect(JSON.parse(added.text!)).toMatchObject({ name: 'from-site', status: 'Added' });

    const listed = await run('post', 'videoConfSettings', { ...creds(), action: 'get' });
    expect(listed.status).toBe(200);
    expect((JSON.parse(listed.text!) as { ConferenceName: string }[]).map((c) => c.ConferenceName)).toEqual(['from-site']);

    // A refusal is readable too, so the page can tell the user why.
    const wrong = await run('xhrJson', 'videoConfSettings', { ...creds(), key: 'wrong', action: 'get' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text!)).toMatchObject({ status: 'error', code: 'unauthenticated' });
  });

  it('a page on another origin reads nothing; its JSON request is stopped at the preflight', async () => {
    await person.page.goto(`${other}/`);
    const added = await run('xhrJson', 'videoConfSettings', { ...creds(), action: 'Add', name: 'from-other' });
    expect(added).toEqual({ status: 0, error: true });
    const listed = await run('post', 'videoConfSettings', { ...creds(), action: 'get' });
    expect(listed).toEqual({ status: 0, error: true });
    // The preflight was refused, so the JSON Add never reached the API.
    expect(await conferences()).toEqual(['from-site']);
  });
});
