import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { joinRoom, openPerson, roomState, type Person } from '../helpers/browser.js';
import { basic, bearer, post, send } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Who may enter, and when (issue #4), in real Chromium: the ways in of a public link, presets
// enforced by the server, the lobby, invitations answered from personal links, and countdowns.
let t: TestServer;
let acc: AccountCredentials;
let host: Person;
let ann: Person;
let bob: Person;

/** Hooks of the room (window.__parley) and of the init script below, typed without the DOM lib. */
interface Hooks {
  __parley: {
    state(): string;
    selfId(): string | undefined;
    participants(): { id: string; name: string; screenSharing: boolean }[];
    remoteSources(): { participantId: string; source: string }[];
    waiting(): { id: string; name: string }[];
  };
  __sockets: { readyState: number }[];
  __cameraAsks: number;
}
type Page = Person['page'];
const hooks = (page: Page) => ({
  state: () => page.evaluate(() => (globalThis as unknown as Hooks).__parley.state()),
  selfId: () => page.evaluate(() => (globalThis as unknown as Hooks).__parley.selfId()),
  participants: () => page.evaluate(() => (globalThis as unknown as Hooks).__parley.participants()),
  remoteSources: () => page.evaluate(() => (globalThis as unknown as Hooks).__parley.remoteSources()),
});

// Every page: its sockets are kept where a test can reach them (to send hand-made messages),
// and camera / microphone requests are counted.
const INIT_SCRIPT = `(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
  window.__cameraAsks = 0;
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => { window.__cameraAsks++; return gum(c); };
  }
})();`;

// Run in the guest's page: a canvas track added to the room's own publisher connection, offered
// as 'screen' on the room's own socket (the server's answer applied, so media would flow).
const HAND_MADE_SCREEN = `(async () => {
  const pc = window.__parley.publisher();
  const ws = window.__sockets.filter((s) => s.readyState === 1).pop();
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 180;
  const g = canvas.getContext('2d');
  setInterval(() => { g.fillStyle = 'hsl(' + (Date.now() % 360) + ' 60% 50%)'; g.fillRect(0, 0, 320, 180); }, 50);
  const screen = pc.addTransceiver(canvas.captureStream(15).getVideoTracks()[0], { direction: 'sendonly' });
  window.__screenSender = screen.sender;
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000);
  });
  const sources = {};
  for (const tr of pc.getTransceivers()) {
    if (tr.mid !== null) sources[tr.mid] = tr === screen ? 'screen' : tr.receiver.track.kind === 'audio' ? 'microphone' : 'camera';
  }
  const answer = new Promise((resolve) => {
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.type === 'publishAnswer') resolve(msg.sdp);
      if (msg.type === 'error') resolve('error: ' + msg.message);
    });
    setTimeout(() => resolve('timeout'), 10000);
  });
  ws.send(JSON.stringify({ type: 'publish', sdp: pc.localDescription.sdp, sources }));
  const sdp = await answer;
  if (sdp.startsWith('v=')) await pc.setRemoteDescription({ type: 'answer', sdp });
  ws.send(JSON.stringify({ type: 'setMuted', source: 'screen', muted: false }));
  return { answered: sdp.startsWith('v=') ? 'answer' : sdp, mid: screen.mid };
})()`;

async function person(): Promise<Person> {
  const p = await openPerson();
  await p.context.addInitScript(INIT_SCRIPT);
  return p;
}

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('access');
  [host, ann, bob] = await Promise.all([person(), person(), person()]);
  await api('POST', '/presets', { name: 'NoScreen', shareScreen: false }, 201);
  await api('POST', '/presets', { name: 'Registered', chat: false }, 201);
});
afterAll(async () => {
  await Promise.all([host, ann, bob].map((p) => p?.close()));
  await t?.close();
});

async function api<T = Record<string, any>>(method: string, path: string, body?: unknown, expected?: number): Promise<T> {
  const res = await send<T>(`${t.url}/api/v1${path}`, {
    method,
    headers: { ...bearer(acc.apiToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (expected !== undefined && res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

interface Created { id: string; links: { meeting: string }; pin?: string }
const createMeeting = (body: Record<string, unknown>) => api<Created>('POST', '/meetings', body, 201);
const invite = async (meetingId: string, body: Record<string, unknown>) => (await api<{ id: string; joinUrl: string }>('POST', `/meetings/${meetingId}/participants`, body, 201));
const participants = async (meetingId: string) => (await api<{ data: { id: string; name: string; preset: string | null; status: string }[] }>('GET', `/meetings/${meetingId}/participants?limit=100`)).data;

const waitState = (page: Page, state: string, timeout = 20_000) =>
  page.waitForFunction((s) => (globalThis as unknown as Hooks).__parley?.state() === s, state, { timeout });

/**
 * Records, through the exposed function `name`, what the page's live regions say (each new
 * text) and what its timer shows, from now on (also across a reload, for the same page).
 */
let listenSeq = 0;
async function listen(page: Page) {
  const live: string[] = [];
  const timer: string[] = [];
  const name = `__heard${++listenSeq}`;
  await page.exposeFunction(name, (kind: string, text: string) => {
    const list = kind === 'live' ? live : timer;
    if (list.at(-1) !== text) list.push(text);
  });
  const observe = `(() => {
    const report = window[${JSON.stringify(name)}];
    const seen = new Map();
    const look = () => {
      for (const el of document.querySelectorAll('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"]')) {
        const text = el.textContent.trim();
        if (seen.get(el) !== text) {
          seen.set(el, text);
          if (text) report('live', text);
        }
      }
      const t = document.querySelector('[role="timer"]');
      if (t) report('timer', t.textContent.trim());
    };
    look();
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`;
  await page.evaluate(observe);
  return { live, timer };
}

/** Leaves whatever page a person is on (closing a room page leaves the meeting). */
const reset = (p: Person) => p.page.goto('about:blank');

describe('ways in', () => {
  it('an open meeting lets anyone with the link in with a name', async () => {
    const m = await createMeeting({ title: 'Open door' });
    await joinRoom(ann.page, m.links.meeting, 'Ann Open');
    const [self] = await hooks(ann.page).participants();
    expect(self?.name).toBe('Ann Open');
    // One way in: no choice to make, no PIN or password asked.
    expect(await ann.page.getByRole('tab').count()).toBe(0);
    await reset(ann);
  });

  it('a PIN: a wrong one keeps the pre-join with a message, the right one enters', async () => {
    const m = await createMeeting({ title: 'PIN only', access: { mode: 'restricted', pin: true } });
    expect(m.pin).toMatch(/^\d{6}$/);
    const page = ann.page;
    await page.goto(m.links.meeting);
    const pin = page.getByLabel('PIN');
    expect(await pin.getAttribute('inputmode')).toBe('numeric');
    await page.getByLabel(/name/i).fill('Ann Pin');
    await pin.fill(m.pin === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/PIN is not right/);
    expect(await hooks(page).state()).toBe('prejoin');
    expect(await page.getByLabel(/name/i).inputValue()).toBe('Ann Pin'); // what was typed stays
    expect(await pin.getAttribute('aria-invalid')).toBe('true');
    await pin.fill(m.pin!);
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    expect((await hooks(page).participants())[0]?.name).toBe('Ann Pin');
    await reset(ann);
  });

  it('too many wrong PINs: the page says how long to wait and holds the Join button', async () => {
    const m = await createMeeting({ title: 'PIN guessing', access: { mode: 'restricted', pin: true } });
    const page = ann.page;
    await page.goto(m.links.meeting);
    await page.getByLabel(/name/i).fill('Greta Guesser');
    const wrong = m.pin === '0000' ? '1111' : '0000';
    let message = '';
    for (let i = 0; i < 8 && !/Too many/.test(message); i++) {
      await page.getByLabel('PIN').fill(wrong);
      await page.getByRole('button', { name: 'Join' }).click();
      await expect.poll(() => page.getByRole('alert').getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(i + 1));
      message = (await page.getByRole('alert').textContent()) ?? '';
    }
    expect(message).toMatch(/Too many wrong attempts\. Try again in \d+ (seconds?|minutes?)\./);
    expect(await page.getByRole('button', { name: 'Join' }).isDisabled()).toBe(true);
    expect(await page.getByLabel(/name/i).inputValue()).toBe('Greta Guesser');
    await reset(ann);
  });

  it("the account's registered users sign in; a wrong password is refused and emptied", async () => {
    await api('POST', '/users', { username: 'rita', password: 'correct horse 1', displayName: 'Rita Registered' }, 201);
    const m = await createMeeting({ title: 'Members', access: { mode: 'restricted', usernamePassword: true } });
    const page = ann.page;
    await page.goto(m.links.meeting);
    // Signing in needs no name: the account knows it.
    expect(await page.getByLabel('Your name').count()).toBe(0);
    await page.getByLabel('Username').fill('rita');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/username or password/i);
    expect(await page.getByLabel('Username').inputValue()).toBe('rita');
    await expect.poll(() => page.getByLabel('Password').inputValue()).toBe('');
    await page.getByLabel('Password').fill('correct horse 1');
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    expect((await hooks(page).participants())[0]?.name).toBe('Rita Registered');
    await reset(ann);
  });

  it('a visitor registers on the join page, becomes a user and gets the sign-up preset', async () => {
    const m = await createMeeting({ title: 'Sign up here', access: { mode: 'restricted', usernamePassword: true, signupPreset: 'Registered' } });
    const page = ann.page;
    await page.goto(m.links.meeting);
    // Two ways: a choice of tabs, keyboard-usable.
    await page.getByRole('tab', { name: 'Sign in' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('tab', { name: 'Register' }).getAttribute('aria-selected')).toBe('true');
    await page.getByLabel(/your name/i).fill('Sam Signup');
    await page.getByLabel('Username').fill('sam');
    await page.getByLabel('Password').fill('sam secret 123');
    await page.getByLabel('E-mail (optional)').fill('sam@example.com');
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    const users = (await api<{ data: { username: string; displayName: string; email: string }[] }>('GET', '/users?limit=100')).data;
    expect(users.find((u) => u.username === 'sam')).toMatchObject({ displayName: 'Sam Signup', email: 'sam@example.com' });
    expect((await participants(m.id)).find((p) => p.name === 'Sam Signup')?.preset).toBe('Registered');
    // The preset is felt in the room: no chat for this person.
    await page.getByRole('button', { name: 'Chat' }).click();
    await page.getByText('Chat is turned off for you').waitFor();
    await reset(ann);
    // The same username cannot register twice.
    await page.goto(m.links.meeting);
    await page.getByRole('tab', { name: 'Register' }).click();
    await page.getByLabel(/your name/i).fill('Sam Again');
    await page.getByLabel('Username').fill('sam');
    await page.getByLabel('Password').fill('another secret');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/already taken/);
    await expect.poll(() => page.getByLabel('Password').inputValue()).toBe('');
    await reset(ann);
  });

  it('where only sign-ups are taken, a visitor who registered signs in again and keeps the sign-up preset', async () => {
    const m = await createMeeting({ title: 'Sign-ups only', access: { mode: 'restricted', signupPreset: 'Registered' } });
    const page = ann.page;
    await page.goto(m.links.meeting);
    // Registering comes first; signing in is for those who come back.
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Register', 'Sign in']);
    await page.getByLabel(/your name/i).fill('Reggie Return');
    await page.getByLabel('Username').fill('reggie');
    await page.getByLabel('Password').fill('reggie secret 1');
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    await reset(ann);

    await page.goto(m.links.meeting);
    await page.getByRole('tab', { name: 'Sign in' }).click();
    await page.getByText('Registered before?').waitFor();
    await page.getByLabel('Username').fill('reggie');
    await page.getByLabel('Password').fill('reggie secret 1');
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    expect((await hooks(page).participants())[0]?.name).toBe('Reggie Return');
    await page.getByRole('button', { name: 'Chat' }).click();
    await page.getByText('Chat is turned off for you').waitFor();
    await reset(ann);
  });

  it('a meeting for invited people only says so instead of a form', async () => {
    const m = await createMeeting({ title: 'Invitees', access: { mode: 'restricted' } });
    await ann.page.goto(m.links.meeting);
    await ann.page.getByText('admits invited people only').waitFor();
    expect(await ann.page.getByRole('button', { name: 'Join' }).count()).toBe(0);
    await reset(ann);
  });
});

describe('presets', () => {
  it("a guest whose preset forbids screen sharing has no share button, and a hand-made screen track never reaches the others", async () => {
    const m = await createMeeting({ title: 'No screens', access: { mode: 'restricted', guestPreset: 'NoScreen' } });
    const hana = await invite(m.id, { externalId: 'host', name: 'Hana Host', role: 'host' });
    await joinRoom(host.page, hana.joinUrl);
    await joinRoom(ann.page, m.links.meeting, 'Gail Guest');
    expect(await host.page.getByRole('button', { name: 'Share screen' }).count()).toBe(1); // the host may
    expect(await ann.page.getByRole('button', { name: 'Share screen' }).count()).toBe(0);
    const guestId = (await hooks(ann.page).selfId())!;
    // Media flows: the host receives the guest's camera (so "no screen" below means something).
    expect(await eventually(async () => (await hooks(host.page).remoteSources()).some((s) => s.participantId === guestId && s.source === 'camera'), 20_000, 200)).toBe(true);

    // The guest's page goes around the UI: a screen m-line on its publisher, announced as such.
    const result = await ann.page.evaluate(HAND_MADE_SCREEN) as { answered: string; mid: string | null };
    // The server took the offer (it answered it) and the screen really goes to the server…
    expect(result).toMatchObject({ answered: 'answer', mid: expect.any(String) });
    const screenBytesSent = () => ann.page.evaluate(`(async () => {
      let bytes = 0;
      (await window.__screenSender.getStats()).forEach((s) => { if (s.type === 'outbound-rtp') bytes += s.bytesSent || 0; });
      return bytes;
    })()`) as Promise<number>;
    expect(await eventually(async () => (await screenBytesSent()) > 5_000, 15_000, 250)).toBe(true);

    // For a while: the host never gets a screen from the guest, nor a screen tile, nor a "sharing" flag.
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      const sources = await hooks(host.page).remoteSources();
      expect(sources.filter((s) => s.source === 'screen')).toEqual([]);
      expect(await host.page.locator('[data-source="screen"]').count()).toBe(0);
      const guest = (await hooks(host.page).participants()).find((p) => p.id === guestId);
      expect(guest?.screenSharing).toBe(false);
      await host.page.waitForTimeout(500);
    }
    // …and kept arriving there the whole time, going no further. The guest is still in, and still seen.
    const sentBefore = await screenBytesSent();
    expect(await eventually(async () => (await screenBytesSent()) > sentBefore, 10_000, 250)).toBe(true);
    expect((await hooks(host.page).remoteSources()).some((s) => s.participantId === guestId && s.source === 'camera')).toBe(true);
    await Promise.all([reset(ann), reset(host)]);
  });
});

describe('the lobby', () => {
  it('people wait until the host lets them in or turns them away; the host sees who knocks', async () => {
    const m = await createMeeting({ title: 'Lobby', lobby: true });
    const hana = await invite(m.id, { externalId: 'host', name: 'Hana Host', role: 'host' });
    await joinRoom(host.page, hana.joinUrl); // hosts go straight in

    for (const [p, name] of [[ann, 'Ann Knock'], [bob, 'Bob Knock']] as const) {
      await p.page.goto(m.links.meeting);
      await p.page.getByLabel(/name/i).fill(name);
      await p.page.getByRole('button', { name: 'Join' }).click();
      await waitState(p.page, 'lobby');
      await p.page.getByRole('heading', { name: 'Waiting to be let in' }).waitFor();
    }
    // The host: an announced notice, a badge, and the waiting list with Admit / Decline.
    const notice = host.page.locator('.knock-region[role="status"]');
    await expect.poll(() => notice.textContent(), { timeout: 10_000 }).toMatch(/2 waiting/);
    expect(await host.page.locator('.controls [aria-label="Participants"] .count').textContent()).toBe('2');
    await notice.getByRole('button', { name: 'Review' }).click();
    const waiting = host.page.locator('section.waiting');
    await waiting.getByText('Ann Knock').waitFor();
    await waiting.getByRole('button', { name: 'Admit Ann Knock' }).click();
    await waitState(ann.page, 'room');
    await waiting.getByRole('button', { name: 'Decline Bob Knock' }).click();
    await waitState(bob.page, 'declined');
    await bob.page.getByText('The host did not let you in').waitFor();
    expect(await eventually(async () => (await hooks(host.page).participants()).some((p) => p.name === 'Ann Knock'))).toBe(true);
    expect((await hooks(host.page).participants()).some((p) => p.name === 'Bob Knock')).toBe(false);
    await expect.poll(() => notice.textContent()).toBe('');
    await Promise.all([reset(ann), reset(bob), reset(host)]);
  });
});

describe('invitations and schedules', () => {
  const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));

  it('a personal link declines, accepts, declines again, and still joins', async () => {
    await lm('createMeeting', { meetingKey: 'inv1', hostid: 'host', hostnickname: 'Hana Host', title: 'Invitation' });
    const added = await lm('addParticipant', { meetingKey: 'inv1', puid: 'ivy', nickname: 'Ivy Invitee' });
    const status = async () => (await lm('getParticipantStatus', { meetingKey: 'inv1', puid: 'ivy' })).body.status;
    const page = ann.page;
    await page.goto(added.body.participantUrl as string);
    expect(await status()).toBe('2');
    await page.getByRole('button', { name: 'Decline' }).click();
    await page.getByText('You declined — you can still accept').waitFor();
    expect(await status()).toBe('3');
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('You accepted').waitFor();
    expect(await status()).toBe('2');
    await page.getByRole('button', { name: 'Decline' }).click();
    await page.getByText('You declined').waitFor();
    expect(await status()).toBe('3');
    // The link remembers the answer…
    await page.reload();
    await page.getByText('You declined — you can still accept').waitFor();
    // …and a change of mind is just joining.
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    expect(await eventually(async () => (await status()) === '10', 20_000)).toBe(true);
    await reset(ann);
  });

  it('before the start the link counts down, then opens the pre-join by itself', async () => {
    const startsAt = new Date(Date.now() + 6_000);
    const m = await createMeeting({ title: 'Starts soon', startsAt: startsAt.toISOString() });
    const page = bob.page;
    await page.goto(m.links.meeting);
    await waitState(page, 'countdown', 5_000);
    const heard = await listen(page);
    const timer = page.getByRole('timer');
    // The timer is read when the person goes to it; it is not announced every second.
    expect(await timer.getAttribute('aria-live')).toBe('off');
    expect(await timer.textContent()).toMatch(/Starts in \d+ seconds?/);
    await page.getByText(startsAt.getFullYear().toString(), { exact: false }).first().waitFor();
    // No camera, no form while counting down.
    expect(await page.evaluate(() => (globalThis as unknown as Hooks).__cameraAsks)).toBe(0);
    expect(await page.getByRole('button', { name: 'Join' }).count()).toBe(0);
    // The page goes on by itself: the pre-join appears, after a reload the test did not do.
    await page.getByRole('button', { name: 'Join' }).waitFor({ timeout: 15_000 });
    // Seconds went by on the screen; screen readers heard two sentences.
    expect(heard.timer.length).toBeGreaterThanOrEqual(3);
    expect(heard.live).toEqual(['The meeting starts in less than a minute.', 'The meeting is opening.']);
    expect(Date.now()).toBeGreaterThanOrEqual(startsAt.getTime() - 1000);
    expect(await page.evaluate("performance.getEntriesByType('navigation')[0].type")).toBe('reload');
    expect(await roomState(page)).toBe('prejoin');
    await page.getByLabel(/name/i).fill('Bob Early');
    await page.getByRole('button', { name: 'Join' }).click();
    await waitState(page, 'room');
    await reset(bob);
  });

  it('a meeting moved to later while the page was open: Join counts down to the new start, in both time zones', async () => {
    const m = await createMeeting({ title: 'Moved later' });
    const guest = await invite(m.id, { externalId: 'moved-later', name: 'Mo Later' });
    // A personal link (its token is fetched as the page opens, and refused on the socket) and a
    // public one (refused by the join request).
    await ann.page.goto(guest.joinUrl);
    await bob.page.goto(m.links.meeting);
    await waitState(ann.page, 'prejoin');
    await waitState(bob.page, 'prejoin');
    const startsAt = new Date(Math.ceil((Date.now() + 2 * 3_600_000) / 60_000) * 60_000);
    await api('PATCH', `/meetings/${m.id}`, { startsAt: startsAt.toISOString() }, 200);
    await ann.page.getByRole('button', { name: 'Join' }).click();
    await bob.page.getByLabel(/name/i).fill('Bob Later');
    await bob.page.getByRole('button', { name: 'Join' }).click();
    for (const page of [ann.page, bob.page]) {
      await waitState(page, 'countdown');
      const card = page.locator('main[data-state="countdown"]');
      // The viewer's time, and the organiser's with its time zone.
      expect(await card.locator('time').getAttribute('datetime')).toBe(startsAt.toISOString());
      expect(await card.locator('time').textContent()).toContain(String(startsAt.getFullYear()));
      await card.getByText(/Organiser’s time: .*\d{4}.*\(.+\)/).waitFor({ state: 'visible' });
      expect(await page.getByRole('timer').textContent()).toMatch(/Starts in \d h \d+ min/);
    }
    // Far from the start, screen readers hear it once, not every second.
    const heard = await listen(ann.page);
    await expect.poll(() => heard.timer.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    // (The invitation's status is a live region of its own.)
    const countdown = heard.live.filter((text) => !/organiser know/.test(text));
    expect(countdown, JSON.stringify(heard.live)).toHaveLength(1);
    expect(countdown[0]).toMatch(/^The meeting starts .*\d{4}/);
    await reset(ann);
    await reset(bob);
  });
});
