import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { RoomLink } from '../../src/protocol/messages.js';
import { openPerson, type Person } from '../helpers/browser.js';
import { bearer, send } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The meeting inside another site: a page on another loopback address loads parley-embed.js
// from Parley and embeds a meeting. Events and commands cross origins over postMessage, and
// frames of other origins (or other frames of the same site) cannot steer the room.
let t: TestServer;
let acc: AccountCredentials;
let person: Person;
const servers: Server[] = [];
let site: string; // the embedding site: http://127.0.0.2:PORT
let evil: string; // somebody else: http://127.0.0.3:PORT

interface Recorded { event: string; data: Record<string, any> }

// The integrator's page: embeds the meeting at ?src=…, records every event.
const SITE_PAGE = (parley: string, evilOrigin: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Integrator</title></head><body>
<h1>Our learning platform</h1>
<iframe id="evil" src="${evilOrigin}/evil.html" title="Advert" style="width:20px;height:20px"></iframe>
<iframe id="sibling" src="/sibling.html" title="Widget" style="width:20px;height:20px"></iframe>
<div id="meeting"></div>
<script src="${parley}/parley-embed.js"></script>
<script>
  window.events = [];
  var params = new URLSearchParams(location.search);
  window.room = Parley.embed('#meeting', { url: params.get('src'), width: '900px', height: '620px', title: 'Our meeting' });
  // Commands given at once, long before the meeting page is there: they wait for it.
  if (params.get('early')) { room.mute(); room.cameraOff(); }
  ['ready', 'joined', 'left', 'participantJoined', 'participantLeft', 'muteChanged', 'meetingEnded'].forEach(function (name) {
    room.on(name, function (data) { window.events.push({ event: name, data: data }); });
  });
</script>
</body></html>`;

// A plain iframe of the room without ?origin=: it must post nothing at all.
const PLAIN_PAGE = `<!doctype html><html><body>
<script>
  window.received = [];
  window.addEventListener('message', function (e) { window.received.push(e.data); });
  var f = document.createElement('iframe');
  f.src = new URLSearchParams(location.search).get('src');
  f.allow = 'camera; microphone';
  document.body.appendChild(f);
</script></body></html>`;

// An integrator's page with the embed code an API returned pasted into it, as is.
const PASTED_PAGE = (code: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Pasted</title></head><body>
<h1>Our intranet</h1>
${code}
</body></html>`;

// Frames that try to steer the room and to fool the integrator's page.
const MEDDLER = `<!doctype html><html><body><script>
  window.meddle = function (command) {
    for (var i = 0; i < parent.frames.length; i++) {
      if (parent.frames[i] !== window) parent.frames[i].postMessage({ parley: 1, command: command }, '*');
    }
    parent.postMessage({ parley: 1, event: 'meetingEnded', data: { state: 'ended' } }, '*');
    parent.postMessage({ parley: 1, event: 'muteChanged', data: { microphone: true, camera: true } }, '*');
  };
</script></body></html>`;

function serve(host: string, routes: Record<string, (url: URL) => string>): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = routes[url.pathname];
    if (!route) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(route(url));
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`));
  });
}

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('embedding');
  evil = await serve('127.0.0.3', { '/evil.html': () => MEDDLER });
  site = await serve('127.0.0.2', {
    '/': () => SITE_PAGE(t.url, evil),
    '/sibling.html': () => MEDDLER,
    '/plain.html': () => PLAIN_PAGE,
    '/pasted.html': (url) => PASTED_PAGE(url.searchParams.get('code') ?? ''),
  });
  person = await openPerson();
});
afterAll(async () => {
  await person?.close();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await t?.close();
});

async function api<T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send<T>(`${t.url}/api/v1${path}`, {
    method,
    headers: { ...bearer(acc.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

/** Someone else in the meeting: the real join API and socket, no media. */
async function ghost(link: RoomLink, name: string) {
  const res = await fetch(`${t.url}/rtc/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link, name }) });
  const { joinToken } = (await res.json()) as { joinToken: string };
  const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/rtc/ws?token=${joinToken}`);
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no welcome')), 10_000);
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; self?: { id: string } };
      if (m.type === 'welcome') {
        clearTimeout(timer);
        resolve(m.self!.id);
      }
    });
    ws.on('error', reject);
  });
  return {
    id,
    leave: () => {
      ws.send(JSON.stringify({ type: 'leave' }));
      ws.close();
    },
  };
}

const events = () => person.page.evaluate('window.events') as Promise<Recorded[]>;
/** The first `event` (matching) recorded at index `after` or later. */
const waitEvent = async (event: string, match: (data: Record<string, any>) => boolean = () => true, after = 0) => {
  let found: Recorded | undefined;
  const seen = await eventually(async () => Boolean(found = (await events()).slice(after).find((e) => e.event === event && match(e.data))), 15_000, 100);
  if (!seen) throw new Error(`no ${event} event; got ${JSON.stringify(await events())}`);
  return found!;
};
const roomFrame = () => person.page.frames().find((f) => f.url().startsWith(t.url))!;
/** Video bytes the room inside the frame has sent to the server (its camera, if it may use it). */
const cameraBytesSent = () => roomFrame().evaluate(`(async () => {
  const pc = window.__parley.publisher();
  if (!pc) return 0;
  let bytes = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') bytes += s.bytesSent || 0; });
  return bytes;
})()`) as Promise<number>;
const roomState = () => roomFrame().evaluate('window.__parley.state()') as Promise<string>;

describe('the meeting embedded in another site', () => {
  it('parley-embed.js: events out, commands in, strangers ignored', async () => {
    const m = await api<{ id: string; links: { meeting: string } }>('POST', '/meetings', { title: 'Embedded class' });
    const embed = await api<{ src: string; script: string }>('GET', `/meetings/${m.id}/embed`);
    expect(embed.script).toBe(`${t.url}/parley-embed.js`);
    const page = person.page;
    await page.goto(`${site}/?src=${encodeURIComponent(embed.src)}`);

    // The iframe as the script made it.
    const iframe = page.locator('iframe[title="Our meeting"]');
    expect(await iframe.getAttribute('allow')).toBe('camera; microphone; display-capture; autoplay; fullscreen; clipboard-write');
    const src = new URL((await iframe.getAttribute('src'))!);
    expect(src.searchParams.get('origin')).toBe(site);
    await waitEvent('ready');

    // Join inside the frame.
    const frame = page.frameLocator('iframe[title="Our meeting"]');
    await frame.getByLabel(/name/i).fill('Emma Embedded');
    await frame.getByRole('button', { name: 'Join' }).click();
    const joined = await waitEvent('joined');
    const selfId = await roomFrame().evaluate('window.__parley.selfId()');
    expect(joined.data).toMatchObject({ participantId: selfId, name: 'Emma Embedded' });
    // The microphone is on when joining (the fake device).
    await waitEvent('muteChanged', (d) => d.microphone === false);

    // Someone else comes and goes.
    const code = new URL(m.links.meeting).pathname.slice(1);
    const bob = await ghost({ kind: 'public', code }, 'Bob Other');
    const arrived = await waitEvent('participantJoined');
    expect(arrived.data).toEqual({ participantId: bob.id, name: 'Bob Other' });
    bob.leave();
    expect((await waitEvent('participantLeft')).data).toEqual({ participantId: bob.id, name: 'Bob Other' });

    // Another site's frame, and another frame of the same site, try to steer the room and to
    // fool the page: nothing happens.
    const before = (await events()).length;
    const meddlers = page.frames().filter((f) => f.url().endsWith('/evil.html') || f.url().endsWith('/sibling.html'));
    expect(meddlers.map((f) => new URL(f.url()).origin).sort()).toEqual([site, evil]);
    for (const f of meddlers) await f.evaluate("meddle('mute'); meddle('cameraOff'); meddle('leave')");
    await page.waitForTimeout(1_500);
    expect(await roomState()).toBe('room');
    expect(await frame.getByRole('button', { name: 'Microphone' }).getAttribute('aria-pressed')).toBe('true');
    expect((await events()).slice(before)).toEqual([]);

    // The page's own command works.
    await page.evaluate('room.mute()');
    const muted = await waitEvent('muteChanged', (d) => d.microphone === true, before);
    expect(muted.data).toEqual({ microphone: true, camera: false });
    await expect.poll(() => frame.getByRole('button', { name: 'Microphone' }).getAttribute('aria-pressed')).toBe('false');
    const mutedAt = (await events()).length;
    await page.evaluate('room.unmute(); room.cameraOff()');
    await waitEvent('muteChanged', (d) => d.microphone === false && d.camera === true, mutedAt);

    // The organiser ends the meeting: the page hears it.
    await api('POST', `/meetings/${m.id}/end`);
    const ended = await waitEvent('meetingEnded');
    expect(ended.data).toEqual({ state: 'ended' });
    await waitEvent('left', (d) => d.reason === 'ended');
    expect(await roomState()).toBe('ended');
    // Only the real end was heard (the strangers' forged one was not).
    expect((await events()).filter((e) => e.event === 'meetingEnded')).toHaveLength(1);
  }, 60_000);

  it('the iframe markup of getEmbedCodeofConference (Livebox) and of the native embed endpoint, pasted into another site, joins with camera and microphone', async () => {
    // Livebox: a conference, switched on, and its embed code.
    const lb = (data: Record<string, unknown>) => send<string>(`${t.url}/livebox/appsservice/api/${data.op as string}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, ...data, op: undefined }),
    });
    expect((await lb({ op: 'videoConfSettings', action: 'Add', name: 'Pasted conference', selectPreset: 'Preset-1', Authentication: 'false' })).status).toBe(200);
    expect((await lb({ op: 'videoConfSettings', action: 'changeConferenceMode', name: 'Pasted conference', conferenceMode: 'on' })).status).toBe(200);
    const livebox = await lb({ op: 'getEmbedCodeofConference', name: 'Pasted conference', width: '800px', height: '560' });
    expect(livebox.status, livebox.text).toBe(200);
    // Native: a meeting's embed code.
    const m = await api<{ id: string }>('POST', '/meetings', { title: 'Pasted meeting' });
    const native = await api<{ iframe: string }>('GET', `/meetings/${m.id}/embed?width=100%25&height=70vh`);

    for (const [code, name] of [[livebox.text, 'Lena Livebox'], [native.iframe, 'Nico Native']] as const) {
      const page = person.page;
      await page.goto(`${site}/pasted.html?code=${encodeURIComponent(code)}`);
      const iframe = page.locator('iframe[title^="Meeting: Pasted"]');
      expect(await iframe.getAttribute('allow')).toContain('camera; microphone');
      const frame = page.frameLocator('iframe[title^="Meeting: Pasted"]');
      await frame.getByLabel(/name/i).fill(name);
      await frame.getByRole('button', { name: 'Join' }).click();
      expect(await eventually(async () => (await roomState().catch(() => undefined)) === 'room', 20_000, 200)).toBe(true);
      // Inside another site's page the room may use the camera and microphone: its camera reaches the server.
      expect(await roomFrame().evaluate("document.featurePolicy.allowsFeature('camera') && document.featurePolicy.allowsFeature('microphone')")).toBe(true);
      expect(await eventually(async () => (await cameraBytesSent()) > 5_000, 20_000, 250)).toBe(true);
      const self = await roomFrame().evaluate('window.__parley.participants()[0]?.name');
      expect(self).toBe(name);
      await page.goto('about:blank');
    }
  }, 90_000);

  it('commands wait for the room to be ready, leave works; sizes are checked; no ?origin= means no messages', async () => {
    const m = await api<{ id: string }>('POST', '/meetings', { title: 'Second' });
    const embed = await api<{ src: string }>('GET', `/meetings/${m.id}/embed`);
    const page = person.page;
    await page.goto(`${site}/?early=1&src=${encodeURIComponent(embed.src)}`);
    await waitEvent('ready');
    const frame = page.frameLocator('iframe[title="Our meeting"]');
    await expect.poll(() => frame.getByRole('button', { name: 'Microphone' }).getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => frame.getByRole('button', { name: 'Camera' }).getAttribute('aria-pressed')).toBe('false');
    // Joined that way: muted, camera off; then the page makes them leave.
    await frame.getByLabel(/name/i).fill('Quiet Quentin');
    await frame.getByRole('button', { name: 'Join' }).click();
    await waitEvent('joined');
    expect((await waitEvent('muteChanged')).data).toEqual({ microphone: true, camera: true });
    await page.evaluate('room.leave()');
    expect((await waitEvent('left')).data).toEqual({ reason: 'left' });
    expect(await roomState()).toBe('left');

    const thrown = await page.evaluate(`(() => {
      try { Parley.embed('#meeting', { url: ${JSON.stringify(embed.src)}, height: '100px;position:fixed' }); return 'no error'; }
      catch (e) { return e.name + ': ' + e.message; }
    })()`);
    expect(thrown).toMatch(/^TypeError: .*height/);
    expect(await page.locator('iframe[title="Video meeting"]').count()).toBe(0);
    const handle = await page.evaluate(`(() => { var h = Parley.embed('#meeting', { url: ${JSON.stringify(embed.src)}, width: '320', height: '50vh' }); var s = h.iframe.style.width + ' ' + h.iframe.style.height; h.destroy(); return s + ' ' + document.querySelectorAll('iframe[title="Video meeting"]').length; })()`);
    expect(handle).toBe('320px 50vh 0');

    // The same room framed without ?origin=: it says nothing to its parent.
    await page.goto(`${site}/plain.html?src=${encodeURIComponent(embed.src)}`);
    expect(await eventually(async () => (await roomState().catch(() => undefined)) === 'prejoin', 10_000, 100)).toBe(true);
    await page.waitForTimeout(1_000);
    expect(await page.evaluate('window.received')).toEqual([]);
  }, 60_000);
});
