/**
 * The link pages every API hands out, over real HTTP against a started server:
 * `/{code}` (LiveMinutes meetingUrl), `/e/{token}` (hostUrl / participantUrl),
 * `/lbmeeting/?key=` (Livebox conferencelink) and `/embed/{hashKey}` (iframe src). Each is an
 * HTML page naming the meeting (escaped) and saying where it stands, in words and in
 * `<main data-state>`; unknown links are a 404 page; link tokens are unguessable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import type { RoomState } from '../../src/protocol/domain.js';
import { STATE_TEXT } from '../../src/protocol/states.js';
import { basic, bearer, post, send, type Answer, type Style } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface NativeMeeting {
  id: string; key: string; status: string; endReason: string | null; availability: string; startsAt: string | null;
  links: { meeting: string; conference: string; embed: string };
}
interface Created { resultcode: number; meetingKey: string; meetingUrl: string; hostUrl: string }

/** Crockford base32 (no I, L, O, U). */
const B32 = '[0-9A-HJKMNP-TV-Z]';
const TOKEN = new RegExp(`^${B32}{26}$`);
const STATES = ['open', 'not_started', 'ended', 'cancelled', 'disabled', 'service_stopped', 'invitation_cancelled', 'not_found'];
const NEXT_YEAR = new Date().getUTCFullYear() + 1;

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.close();
});

// ---- helpers ------------------------------------------------------------------------------

const lm = <T = Record<string, unknown>>(a: AccountCredentials, method: string, data: Record<string, unknown>, style: Style = 'json') =>
  post<T>(`${srv.url}/${method}`, data, style, basic(a.accountSid, a.authToken));

async function createMeeting(a: AccountCredentials, data: Record<string, unknown> = {}): Promise<Created> {
  const r = await lm<Created>(a, 'createMeeting', { hostid: 'host-1', hostnickname: 'Hana Host', title: 'Weekly sync', ...data });
  expect(r.status, r.text).toBe(200);
  expect(r.body.resultcode).toBe(1);
  return r.body;
}

async function invite(a: AccountCredentials, meetingKey: string, puid: string, nickname: string): Promise<string> {
  const r = await lm<{ resultcode: number; participantUrl: string }>(a, 'addParticipant', { meetingKey, puid, nickname });
  expect(r.status, r.text).toBe(200);
  expect(r.body.resultcode).toBe(1);
  return r.body.participantUrl;
}

async function native<T = unknown>(a: AccountCredentials, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  return send<T>(`${srv.url}/api/v1${path}`, {
    method,
    headers: { ...bearer(a.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function nativeMeeting(a: AccountCredentials, key: string): Promise<NativeMeeting> {
  const r = await native<{ data: NativeMeeting[] }>(a, 'GET', '/meetings?limit=100');
  expect(r.status).toBe(200);
  const m = r.body.data.find((x) => x.key === key);
  expect(m, `native API lists ${key}`).toBeDefined();
  return m as NativeMeeting;
}

async function liveboxAdd(a: AccountCredentials, name: string): Promise<string> {
  const r = await post<{ status: string; hashKey: string }>(`${srv.url}/livebox/appsservice/api/videoConfSettings`, {
    username: a.apiUsername, key: a.apiKey, Serverkey: a.serverKey, action: 'Add', name, selectPreset: 'Preset-1', Authentication: 'false',
  }, 'json');
  expect(r.status, r.text).toBe(200);
  expect(r.body.status).toBe('Added');
  return r.body.hashKey;
}

async function liveboxMode(a: AccountCredentials, name: string, mode: 'on' | 'off'): Promise<string> {
  const r = await post<{ conferencelink: string }>(`${srv.url}/livebox/appsservice/api/videoConfSettings`, {
    username: a.apiUsername, key: a.apiKey, Serverkey: a.serverKey, action: 'changeConferenceMode', name, conferenceMode: mode,
  }, 'form');
  expect(r.status, r.text).toBe(200);
  return r.body.conferencelink;
}

interface Page { status: number; state: string | undefined; title: string | undefined; main: string; text: string; headers: Headers }

/** A joinable link serves the meeting room: its bootstrap JSON stands in for the page's words. */
const BOOTSTRAP = /<script type="application\/json" id="parley-bootstrap">([\s\S]*?)<\/script>/;

async function page(url: string): Promise<Page> {
  const r = await send(url, {});
  expect(r.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i);
  const room = BOOTSTRAP.exec(r.text)?.[1];
  const main = room ?? /<main\b[^>]*>[\s\S]*<\/main>/.exec(r.text)?.[0] ?? '';
  return {
    status: r.status,
    state: room ? (JSON.parse(room) as { state?: string }).state ?? 'open' : /<main data-state="([a-z_]+)"/.exec(r.text)?.[1],
    title: /<title>([\s\S]*?)<\/title>/.exec(r.text)?.[1],
    main,
    text: r.text,
    headers: r.headers,
  };
}

/** Every link of one meeting shows the same state (an open one: the room, for its own link). */
async function expectState(urls: string[], state: string, words: RegExp) {
  for (const url of urls) {
    const p = await page(url);
    expect(p.status, url).toBe(200);
    expect(p.state, url).toBe(state);
    if (state === 'open') expect(JSON.parse(p.main).link, url).toBeDefined();
    else if (state === 'not_started') expect(JSON.parse(p.main).meeting.startsAtText, url).toMatch(words);
    else expect(p.main, url).toMatch(words);
  }
}

/** All four kinds of link to a LiveMinutes meeting: its code, its host's link, the Livebox conference link, the embed. */
async function allLinks(a: AccountCredentials, created: Created): Promise<string[]> {
  const m = await nativeMeeting(a, created.meetingKey);
  expect(m.links.meeting).toBe(created.meetingUrl);
  return [created.meetingUrl, created.hostUrl, m.links.conference, m.links.embed];
}

// ---- what a page says ------------------------------------------------------------------------

describe('every link names the meeting and its state', () => {
  it('/{code}: the LiveMinutes meetingUrl opens the room, which names the meeting and asks for a name', async () => {
    const a = await srv.newAccount('Code');
    const created = await createMeeting(a, { title: 'Quarterly review' });
    expect(created.meetingUrl).toMatch(new RegExp(`^${srv.url}/${B32}{8}$`));
    const p = await page(created.meetingUrl);
    expect(p.status).toBe(200);
    expect(p.state).toBe('open');
    expect(p.title).toContain('Quarterly review');
    expect(JSON.parse(p.main)).toEqual({
      link: { kind: 'public', code: created.meetingUrl.slice(srv.url.length + 1) },
      meeting: { title: 'Quarterly review' }, needsName: true, embedded: false,
      ways: { guest: true, pin: false, usernamePassword: false, signup: false },
    });
    expect(p.text).toMatch(/^<!doctype html>/i);
  });

  it('the meeting code is read without regard to case', async () => {
    const a = await srv.newAccount('Code case');
    const created = await createMeeting(a, { title: 'Case' });
    const code = created.meetingUrl.slice(srv.url.length + 1);
    const p = await page(`${srv.url}/${code.toLowerCase()}`);
    expect(p.status).toBe(200);
    expect(p.main).toContain('Case');
  });

  it('/e/{token}: hostUrl and participantUrl open the room for the person they name', async () => {
    const a = await srv.newAccount('Personal');
    const created = await createMeeting(a, { title: 'Interview', hostnickname: 'Hana Host' });
    const participantUrl = await invite(a, created.meetingKey, 'cand-1', 'Carl Candidate');
    for (const [url, who, role] of [[created.hostUrl, 'Hana Host', 'host'], [participantUrl, 'Carl Candidate', 'participant']]) {
      expect(url).toMatch(new RegExp(`^${srv.url}/e/${B32}{26}$`));
      const p = await page(url);
      expect(p.status).toBe(200);
      expect(p.state).toBe('open');
      expect(p.title).toContain('Interview');
      expect(JSON.parse(p.main)).toEqual({
        link: { kind: 'personal', token: url.slice(url.lastIndexOf('/') + 1) },
        // The host's own link has no invitation to accept or decline: it is their meeting.
        meeting: { title: 'Interview' }, person: { name: who, role, ...(role === 'host' ? {} : { invitation: 'invited' }) }, needsName: false, embedded: false,
      });
    }
  });

  it('/lbmeeting/?key= and /embed/{hashKey}: Livebox links name the conference', async () => {
    const a = await srv.newAccount('Livebox links');
    const hashKey = await liveboxAdd(a, 'Conference-1');
    const link = await liveboxMode(a, 'Conference-1', 'on');
    expect(link).toBe(`${srv.url}/lbmeeting/?key=${hashKey}`);
    for (const [url, embedded] of [[link, false], [`${srv.url}/embed/${hashKey}`, true]] as const) {
      const p = await page(url);
      expect(p.status).toBe(200);
      expect(p.state).toBe('open');
      expect(p.title).toContain('Conference-1');
      expect(JSON.parse(p.main)).toEqual({
        link: { kind: 'conference', key: hashKey }, meeting: { title: 'Conference-1' }, needsName: true, embedded,
        ways: { guest: true, pin: false, usernamePassword: false, signup: false },
      });
    }
  });

  it('a meeting title with <script> is escaped everywhere on every link', async () => {
    const a = await srv.newAccount('Escape');
    const title = '<script>alert("x")</script> & \'friends\'';
    const created = await createMeeting(a, { title, hostnickname: '<img src=x onerror=alert(1)>' });
    const participantUrl = await invite(a, created.meetingKey, 'p-1', '<b>Bold</b> "Pat"');
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;';
    for (const url of [...await allLinks(a, created), participantUrl]) {
      const p = await page(url);
      expect(p.status).toBe(200);
      expect(p.text).not.toMatch(/<script>alert/i);
      expect(p.text).not.toContain('<img');
      expect(p.text).not.toContain('<b>');
      expect(p.title).toBe(`${escaped} · Parley`);
      // Inside the room's bootstrap JSON, < is written \u003c: no text can close the script element.
      expect(p.main).toContain('\\u003cscript>alert(\\"x\\")\\u003c/script>');
      expect(JSON.parse(p.main).meeting.title).toBe(title);
    }
    expect(JSON.parse((await page(created.hostUrl)).main).person.name).toBe('<img src=x onerror=alert(1)>');
    expect(JSON.parse((await page(participantUrl)).main).person.name).toBe('<b>Bold</b> "Pat"');

    // A Livebox conference name is its title: escaped too.
    const hashKey = await liveboxAdd(a, '<script>x</script>');
    const p = await page(`${srv.url}/lbmeeting/?key=${hashKey}`);
    expect(p.text).not.toMatch(/<script/i);
    expect(p.main).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it("a title or a name with $' $& $$ is shown as written, and the page stays whole", async () => {
    const a = await srv.newAccount('Dollars');
    const title = "Costs in $'s & $& of $$ and $1 (US$)";
    const name = "Don $' Dollar $&";
    const created = await createMeeting(a, { title, hostnickname: name });
    for (const url of await allLinks(a, created)) {
      const p = await page(url);
      expect(p.status).toBe(200);
      expect(p.text.match(/id="parley-bootstrap"/g), url).toHaveLength(1);
      expect(p.text.match(/<title>/g), url).toHaveLength(1);
      expect(p.text).not.toContain('<!--PARLEY_BOOTSTRAP-->');
      expect(p.text.trimEnd()).toMatch(/<\/html>$/i);
      expect(p.title).toBe(`Costs in $&#39;s &amp; $&amp; of $$ and $1 (US$) · Parley`);
      expect(JSON.parse(p.main).meeting.title).toBe(title);
    }
    expect(JSON.parse((await page(created.hostUrl)).main).person.name).toBe(name);
  });

  it('pages carry a CSP, are not cached, leak no referrer, and may be framed', async () => {
    const a = await srv.newAccount('Headers');
    const created = await createMeeting(a);
    for (const url of [...await allLinks(a, created), `${srv.url}/e/${'Z'.repeat(26)}`]) {
      const p = await page(url);
      expect(p.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(p.headers.get('content-security-policy')).not.toContain('frame-ancestors');
      expect(p.headers.get('cache-control')).toBe('no-store');
      expect(p.headers.get('referrer-policy')).toBe('no-referrer');
      expect(p.headers.get('x-frame-options')).toBeNull();
    }
  });

  it('data-state is always one of the documented states', async () => {
    const a = await srv.newAccount('States');
    const created = await createMeeting(a);
    for (const url of await allLinks(a, created)) expect(STATES).toContain((await page(url)).state);
  });
});

// ---- states --------------------------------------------------------------------------------

describe('states', () => {
  it('open, and in progress once someone is in the room', async () => {
    const a = await srv.newAccount('Open');
    const created = await createMeeting(a);
    const links = await allLinks(a, created);
    await expectState(links, 'open', /The meeting is open/);

    // Presence comes from the media layer, which these HTTP tests do not run: report it as it would.
    const m = await nativeMeeting(a, created.meetingKey);
    const host = (await native<{ data: { id: string; role: string }[] }>(a, 'GET', `/meetings/${m.id}/participants`)).body.data.find((p) => p.role === 'host');
    expect(host).toBeDefined();
    await srv.server.core.presence.connected(m.id, (host as { id: string }).id);
    await expectState(links, 'open', /The meeting is in progress/);
  });

  it('not_started, with the scheduled date in the account\'s time zone', async () => {
    const a = await srv.newAccount('New York', { timeZone: 'America/New_York' });
    // 5 March is winter time in New York (UTC-5): 14:30 there is 19:30 UTC.
    const created = await createMeeting(a, { title: 'Board meeting', time: `${NEXT_YEAR}-03-05 14:30:00`, duration: 1.5 });
    const participantUrl = await invite(a, created.meetingKey, 'member-1', 'Member');
    const m = await nativeMeeting(a, created.meetingKey);
    expect(m.startsAt).toBe(`${NEXT_YEAR}-03-05T19:30:00.000Z`);
    for (const url of [...await allLinks(a, created), participantUrl]) {
      const p = await page(url);
      expect(p.status).toBe(200);
      expect(p.state).toBe('not_started'); // the room, counting down
      expect(JSON.parse(p.main).meeting.startsAt).toBe(`${NEXT_YEAR}-03-05T19:30:00.000Z`);
      expect(p.main).toContain(`5 March ${NEXT_YEAR}`);
      const text = JSON.parse(p.main).meeting.startsAtText as string;
      expect(text).toContain('14:30');
      expect(text).not.toContain('19:30');
      expect(text).toContain('America/New_York');
    }

    // Summer time (UTC-4) is applied too.
    const summer = await createMeeting(a, { title: 'Summer', time: `${NEXT_YEAR}-07-01 09:00:00`, duration: 1 });
    expect((await nativeMeeting(a, summer.meetingKey)).startsAt).toBe(`${NEXT_YEAR}-07-01T13:00:00.000Z`);
    const s = await page(summer.meetingUrl);
    expect(s.state).toBe('not_started');
    expect(s.main).toContain(`1 July ${NEXT_YEAR}`);
    expect(s.main).toContain('09:00');

    // The same wall time in a UTC account is shown as UTC.
    const u = await srv.newAccount('UTC');
    const utc = await createMeeting(u, { time: `${NEXT_YEAR}-03-05 14:30:00`, duration: 1 });
    const up = await page(utc.meetingUrl);
    expect(up.main).toContain('14:30');
    expect(up.main).toContain('(UTC)');
  });

  it('not_started for a scheduled Livebox conference, in the account\'s time zone', async () => {
    const a = await srv.newAccount('Tokyo', { timeZone: 'Asia/Tokyo' });
    const hashKey = await liveboxAdd(a, 'Standup');
    await liveboxMode(a, 'Standup', 'on');
    const r = await post(`${srv.url}/livebox/appsservice/api/changeSchedulingMode`, {
      AuthenticationDetails: { username: a.apiUsername, key: a.apiKey }, Serverkey: a.serverKey,
      conferenceName: 'Standup', SchedulingMode: 'on', startdate: `20-08-${NEXT_YEAR} 08:15:00`, enddate: `20-08-${NEXT_YEAR} 08:45:00`,
    }, 'form');
    expect(r.text).toBe('Scheduled');
    for (const url of [`${srv.url}/lbmeeting/?key=${hashKey}`, `${srv.url}/embed/${hashKey}`]) {
      const p = await page(url);
      expect(p.state).toBe('not_started');
      expect(p.main).toContain(`20 August ${NEXT_YEAR}`);
      expect(p.main).toContain('08:15');
      expect(p.main).toContain('Asia/Tokyo');
    }
  });

  it('cancelled (LiveMinutes cancelMeeting): every link says so', async () => {
    const a = await srv.newAccount('Cancel');
    const created = await createMeeting(a, { title: 'Doomed' });
    const participantUrl = await invite(a, created.meetingKey, 'p-1', 'Pat');
    const links = await allLinks(a, created);
    const r = await lm(a, 'cancelMeeting', { meetingKey: created.meetingKey }, 'form');
    expect(r.body).toEqual({ resultcode: 1, meetingKey: created.meetingKey });
    await expectState([...links, participantUrl], 'cancelled', /The meeting was cancelled/);
    expect((await page(created.meetingUrl)).main).toContain('Doomed');
  });

  it('disabled: a Livebox conference until switched on, and a meeting switched off', async () => {
    const a = await srv.newAccount('Disabled');
    const hashKey = await liveboxAdd(a, 'Later');
    const m = await nativeMeeting(a, 'Later');
    const links = [m.links.meeting, m.links.conference, m.links.embed];
    expect(m.links.conference).toBe(`${srv.url}/lbmeeting/?key=${hashKey}`);
    await expectState(links, 'disabled', /The meeting is disabled/);
    await liveboxMode(a, 'Later', 'on');
    await expectState(links, 'open', /The meeting is open/);

    const created = await createMeeting(a);
    const patched = await native(a, 'PATCH', `/meetings/${(await nativeMeeting(a, created.meetingKey)).id}`, { enabled: false });
    expect(patched.status).toBe(200);
    await expectState(await allLinks(a, created), 'disabled', /The meeting is disabled/);
  });

  it('ended (native POST /api/v1/meetings/{id}/end): every link says the host ended it', async () => {
    const a = await srv.newAccount('Ended');
    const created = await createMeeting(a, { title: 'Done' });
    const participantUrl = await invite(a, created.meetingKey, 'p-1', 'Pat');
    const m = await nativeMeeting(a, created.meetingKey);
    const r = await native<{ status: string; endReason: string }>(a, 'POST', `/meetings/${m.id}/end`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.status).toBe('ended');
    await expectState([...await allLinks(a, created), participantUrl], 'ended', /The meeting has ended[\s\S]*The host ended it for everyone/);
  });

  it('ended: a scheduled window that has passed', async () => {
    const a = await srv.newAccount('Window passed');
    const created = await createMeeting(a);
    const m = await nativeMeeting(a, created.meetingKey);
    const now = Date.now();
    // Time passes (no API sets a window that is already over).
    await srv.server.store.meetings.update(m.id, { startsAt: new Date(now - 7200_000), endsAt: new Date(now - 3600_000) });
    await expectState(await allLinks(a, created), 'ended', /The meeting has ended[\s\S]*scheduled time is over/);
  });

  it('service_stopped while the media service is stopped, open again once started', async () => {
    const a = await srv.newAccount('Stopped', { serviceControl: true });
    const created = await createMeeting(a);
    const links = await allLinks(a, created);
    try {
      const stop = await native<{ running: boolean }>(a, 'POST', '/service', { action: 'stop' });
      expect(stop.status, stop.text).toBe(200);
      expect(stop.body.running).toBe(false);
      await expectState(links, 'service_stopped', /The video service is stopped/);
      // States that say more keep saying it.
      const later = await createMeeting(a, { time: `${NEXT_YEAR}-01-10 10:00:00`, duration: 1 });
      expect((await page(later.meetingUrl)).state).toBe('not_started');
    } finally {
      const start = await native<{ running: boolean }>(a, 'POST', '/service', { action: 'start' });
      expect(start.body.running).toBe(true);
    }
    await expectState(links, 'open', /The meeting is open/);
  });

  it('a cancelled participant\'s personal link says the invitation was cancelled; others still work', async () => {
    const a = await srv.newAccount('Cancel participant');
    const created = await createMeeting(a, { title: 'Panel' });
    const patUrl = await invite(a, created.meetingKey, 'pat', 'Pat');
    const samUrl = await invite(a, created.meetingKey, 'sam', 'Sam');
    const r = await lm(a, 'cancelParticipant', { meetingKey: created.meetingKey, puid: 'pat' }, 'text/json');
    expect(r.body).toEqual({ resultcode: 1, meetingKey: created.meetingKey });

    const pat = await page(patUrl);
    expect(pat.status).toBe(200);
    expect(pat.state).toBe('invitation_cancelled');
    expect(pat.main).toContain('Your invitation was cancelled');
    expect(pat.main).toContain('Panel');
    expect(pat.main).not.toContain('Personal link for');
    await expectState([samUrl, created.hostUrl, created.meetingUrl], 'open', /The meeting is open/);

    // Invited again: a new link that works; the cancelled one stays dead.
    const again = await invite(a, created.meetingKey, 'pat', 'Pat');
    expect(again).not.toBe(patUrl);
    expect((await page(again)).state).toBe('open');
    // (Today the old token is forgotten, so it is a plain 404; either way it opens nothing.)
    expect(['invitation_cancelled', 'not_found']).toContain((await page(patUrl)).state);
  });

  it('a participant deleted through the native API, or a removed conference, leaves a 404', async () => {
    const a = await srv.newAccount('Deleted');
    const created = await createMeeting(a);
    const url = await invite(a, created.meetingKey, 'gone', 'Gone');
    const m = await nativeMeeting(a, created.meetingKey);
    const list = await native<{ data: { id: string; externalId: string | null }[] }>(a, 'GET', `/meetings/${m.id}/participants`);
    const gone = list.body.data.find((p) => p.externalId === 'gone') as { id: string };
    expect((await native(a, 'DELETE', `/meetings/${m.id}/participants/${gone.id}`)).status).toBe(204);
    expect((await page(url)).status).toBe(404);

    expect((await native(a, 'DELETE', `/meetings/${m.id}`)).status).toBe(204);
    for (const link of [created.meetingUrl, created.hostUrl, m.links.conference, m.links.embed]) {
      const p = await page(link);
      expect(p.status, link).toBe(404);
      expect(p.state).toBe('not_found');
    }
  });
});

// ---- unknown links and tokens ------------------------------------------------------------------

describe('unknown links', () => {
  const unknown = () => [
    `/${'Z'.repeat(8)}`,
    '/0000',
    `/${'A'.repeat(16)}`,
    `/e/${'Z'.repeat(26)}`,
    '/e/short',
    `/e/${'A'.repeat(100)}`,
    '/e/%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    `/lbmeeting/?key=${'Z'.repeat(26)}`,
    '/lbmeeting/',
    '/lbmeeting/?key=',
    '/lbmeeting/?key=..%2F..%2Fetc%2Fpasswd',
    '/lbmeeting/?key[]=x',
    `/embed/${'Z'.repeat(26)}`,
    '/embed/x',
    '/no/such/page',
  ];

  it('are a 404 HTML page that says the link leads nowhere and echoes nothing', async () => {
    for (const path of unknown()) {
      const p = await page(`${srv.url}${path}`);
      expect(p.status, path).toBe(404);
      expect(p.state, path).toBe('not_found');
      expect(p.main).toContain('This link does not lead to a meeting');
      expect(p.text).not.toMatch(/<script/i);
      expect(p.text).not.toContain('passwd');
    }
  });

  it('a token only opens the kind of link it was made for', async () => {
    const a = await srv.newAccount('Namespaces');
    const created = await createMeeting(a);
    const hostToken = created.hostUrl.split('/e/')[1];
    const hashKey = await liveboxAdd(a, 'Conf');
    const code = created.meetingUrl.slice(srv.url.length + 1);
    for (const path of [`/lbmeeting/?key=${hostToken}`, `/embed/${hostToken}`, `/e/${hashKey}`, `/e/${code}`, `/embed/${code}`, `/${hostToken}`, `/${hashKey}`]) {
      expect((await page(`${srv.url}${path}`)).status, path).toBe(404);
    }
  });

  it('tokens in URLs are unguessable: 26 base32 characters (130 bits), all different', async () => {
    const a = await srv.newAccount('Tokens');
    const tokens: string[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await createMeeting(a, { meetingKey: `m-${i}`, hostid: `host-${i}` });
      codes.push(created.meetingUrl.slice(srv.url.length + 1));
      tokens.push(created.hostUrl.split('/e/')[1]);
      for (let j = 0; j < 3; j++) tokens.push((await invite(a, created.meetingKey, `p-${i}-${j}`, `P ${j}`)).split('/e/')[1]);
      tokens.push(new URL((await nativeMeeting(a, created.meetingKey)).links.conference).searchParams.get('key') as string);
    }
    for (let i = 0; i < 3; i++) tokens.push(await liveboxAdd(a, `conf-${i}`));
    for (const t of tokens) expect(t).toMatch(TOKEN);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const c of codes) expect(c).toMatch(new RegExp(`^${B32}{8}$`));
    expect(new Set(codes).size).toBe(codes.length);
    // Tokens say nothing about what they open.
    for (const t of tokens) expect(t.toLowerCase()).not.toMatch(/m-\d|p-\d|host|conf/);

    // Asking again for a participant's link gives the same link.
    const url = await invite(a, 'm-0', 'p-0-0', 'P 0');
    const again = await lm<{ participantUrl: string }>(a, 'getParticipantUrl', { meetingKey: 'm-0', puid: 'p-0-0' });
    expect(again.body.participantUrl).toBe(url);
  });

  it('a near miss of a real token is a 404', async () => {
    const a = await srv.newAccount('Near miss');
    const created = await createMeeting(a);
    const token = created.hostUrl.split('/e/')[1];
    const flipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    expect((await page(`${srv.url}/e/${flipped}`)).status).toBe(404);
    expect((await page(`${srv.url}/e/${token.slice(0, -1)}`)).status).toBe(404);
    expect((await page(`${srv.url}/e/${token}0`)).status).toBe(404);
    expect((await page(created.hostUrl)).status).toBe(200);
  });
});

// ---- one look ----------------------------------------------------------------------------------

/** `<link rel="stylesheet" href>`s of a page, in order. */
const stylesheetsOf = (html: string) => [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*>/g)].map((tag) => /\bhref="([^"]+)"/.exec(tag[0])?.[1]);

/** A page's body as a reader meets it: block by block, then sentence by sentence. */
function sentencesOf(html: string): string[] {
  const body = /<body>([\s\S]*)<\/body>/.exec(html)?.[1] ?? '';
  const text = body.replace(/<[^>]+>/g, '\n')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return text.split(/\n+|(?<=[.!?])\s+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

describe('one look: the link pages wear the room\'s design', () => {
  /** One page of every state a link can show without the room, with the state it shows. */
  async function statePages(): Promise<{ url: string; state: RoomState }[]> {
    const a = await srv.newAccount('Look');
    const cancelled = await createMeeting(a, { meetingKey: 'look-cancelled', title: 'Cancelled one' });
    await lm(a, 'cancelMeeting', { meetingKey: cancelled.meetingKey });
    const ended = await createMeeting(a, { meetingKey: 'look-ended', title: 'Ended one' });
    expect((await native(a, 'POST', `/meetings/${(await nativeMeeting(a, ended.meetingKey)).id}/end`)).status).toBe(200);
    const open = await createMeeting(a, { meetingKey: 'look-open', title: 'Open one' });
    const dropped = await invite(a, open.meetingKey, 'dropped', 'Dropped');
    await lm(a, 'cancelParticipant', { meetingKey: open.meetingKey, puid: 'dropped' });
    const hashKey = await liveboxAdd(a, 'Look conference');
    return [
      { url: cancelled.meetingUrl, state: 'cancelled' },
      { url: cancelled.hostUrl, state: 'cancelled' },
      { url: ended.meetingUrl, state: 'ended' },
      { url: dropped, state: 'invitation_cancelled' },
      { url: `${srv.url}/lbmeeting/?key=${hashKey}`, state: 'disabled' },
      { url: `${srv.url}/e/${'Z'.repeat(26)}`, state: 'not_found' },
      { url: `${srv.url}/no/such/page`, state: 'not_found' },
    ];
  }

  it('every state page links the room\'s own built stylesheet (tokens, light and dark) and has no style of its own', async () => {
    const a = await srv.newAccount('Look room');
    const room = await page((await createMeeting(a)).meetingUrl);
    const sheets = stylesheetsOf(room.text);
    expect(sheets).toHaveLength(1);
    expect(sheets[0]).toMatch(/^\/room-assets\/[\w-]+\.css$/);

    const css = await send(`${srv.url}${sheets[0]}`, {});
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    // The design tokens, their dark values, and the state card the pages use.
    expect(css.text).toMatch(/--bg:/);
    expect(css.text).toMatch(/@media \(prefers-color-scheme:\s?dark\)\s?\{\s?:root\s?\{[^}]*--bg:/);
    expect(css.text).toContain('.state-page');
    expect(css.text).toContain('.card');

    for (const { url, state } of await statePages()) {
      const p = await page(url);
      expect(p.state, url).toBe(state);
      expect(stylesheetsOf(p.text), url).toEqual(sheets);
      expect(p.text, url).not.toMatch(/<style\b|\sstyle="/);
      expect(p.text, url).toContain('<meta name="color-scheme" content="light dark">');
      // The room's state card (src/web/ui/StatePage.tsx): the same classes, so the same look.
      expect(p.main, url).toMatch(/^<main data-state="[a-z_]+" class="state-page">\s*<div class="card">/);
    }
  });

  it('a state page says its state once, in the wording of src/protocol/states.ts, and no sentence twice', async () => {
    for (const { url, state } of await statePages()) {
      const p = await page(url);
      const sentences = sentencesOf(p.text);
      const normal = (s: string) => s.toLowerCase().replace(/[.!?…]+$/u, '');
      const heading = normal(STATE_TEXT[state].title);
      expect(sentences.filter((s) => normal(s) === heading), url).toHaveLength(1);
      expect(/<h1>([^<]*)<\/h1>/.exec(p.main)?.[1], url).toBe(STATE_TEXT[state].title);
      const counts = new Map<string, number>();
      for (const s of sentences) counts.set(normal(s), (counts.get(normal(s)) ?? 0) + 1);
      expect([...counts].filter(([, n]) => n > 1).map(([s]) => s), url).toEqual([]);
    }
  });
});
