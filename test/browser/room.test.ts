import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { framesDecoded, joinRoom, openPerson, roomState, type Person, type RoomHooks } from '../helpers/browser.js';
import { basic, nativeApi, post } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Real Chromium joining real meetings through the links the LiveMinutes API hands out.
let t: TestServer;
let acc: AccountCredentials;
const people: Person[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1', RESUME_WINDOW_SECONDS: '20' });
  acc = await t.newAccount('browsers', { serviceControl: true });
});
afterAll(async () => {
  await Promise.all(people.map((p) => p.close()));
  await t?.close();
});

let seq = 0;
const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
const status = async (key: string) => (await lm('getMeetingStatus', { meetingKey: key })).body.status;
const pstatus = async (key: string, puid: string) => (await lm('getParticipantStatus', { meetingKey: key, puid })).body.status;

async function meeting() {
  const key = `b${++seq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Hana Host', title: `Browser meeting ${seq}` });
  const added = await lm('addParticipant', { meetingKey: key, puid: 'guest', nickname: 'Gus Guest' });
  return { key, hostUrl: created.body.hostUrl as string, guestUrl: added.body.participantUrl as string };
}

async function person(): Promise<Person> {
  const p = await openPerson();
  people.push(p);
  return p;
}

const api = nativeApi(() => t, () => acc.apiToken);

/** The native ids of a LiveMinutes meeting and of one of its participants (by puid). */
async function nativeIds(key: string, puid: string) {
  const meeting = ((await api('GET', '/meetings?limit=100')).body.data as { id: string; key: string }[]).find((x) => x.key === key)!;
  const people = (await api('GET', `/meetings/${meeting.id}/participants`)).body.data as { id: string; externalId: string }[];
  return { meetingId: meeting.id, pid: people.find((p) => p.externalId === puid)!.id };
}

const others = (p: Person) => p.page.evaluate(() => (globalThis as unknown as { __parley: RoomHooks }).__parley.participants().length);

/** Both pages keep decoding each other's video. */
async function seeEachOther(a: Person, b: Person) {
  const [a0, b0] = [await framesDecoded(a.page), await framesDecoded(b.page)];
  expect(await eventually(async () => (await framesDecoded(a.page)) > a0 + 10 && (await framesDecoded(b.page)) > b0 + 10, 20_000, 250)).toBe(true);
}

describe('a meeting in two browsers', () => {
  it('host and participant see each other; statuses follow; a dropped socket resumes the seat; leaving is recorded', async () => {
    const m = await meeting();
    const [host, guest] = [await person(), await person()];
    await joinRoom(host.page, m.hostUrl);
    await joinRoom(guest.page, m.guestUrl);
    await seeEachOther(host, guest);
    expect(await status(m.key)).toBe('8');
    expect(await pstatus(m.key, 'host')).toBe('10');
    expect(await pstatus(m.key, 'guest')).toBe('10');
    await host.page.getByText('Gus Guest').first().waitFor({ state: 'visible' });

    // A network blip: the socket dies, the page reconnects and keeps its seat.
    await guest.page.evaluate(() => (globalThis as unknown as { __parley: RoomHooks }).__parley.dropSocket());
    expect(await eventually(async () => (await roomState(guest.page)) === 'room', 15_000, 100)).toBe(true);
    expect(await others(host)).toBe(2); // the host's list never lost the guest (self + guest)
    expect(await pstatus(m.key, 'guest')).toBe('10');
    await seeEachOther(host, guest);

    await guest.page.getByRole('button', { name: 'Leave' }).click();
    expect(await eventually(async () => (await pstatus(m.key, 'guest')) === '11')).toBe(true);
    expect(await eventually(async () => (await others(host)) === 1)).toBe(true);
    expect(await status(m.key)).toBe('8');

    await host.page.getByRole('button', { name: 'Leave' }).click();
    expect(await eventually(async () => (await status(m.key)) === '11')).toBe(true);
    expect(await pstatus(m.key, 'host')).toBe('11');
  }, 120_000);

  it('the same personal link opened in another tab moves the seat there; the first tab says so, and takes it back', async () => {
    const m = await meeting();
    const [host, guest] = [await person(), await person()];
    await joinRoom(host.page, m.hostUrl);
    await joinRoom(guest.page, m.guestUrl);
    const tab = await guest.context.newPage();
    try {
      await joinRoom(tab, m.guestUrl);
      expect(await eventually(async () => (await roomState(guest.page)) === 'joined_elsewhere')).toBe(true);
      const page = guest.page.locator('main[data-state="joined_elsewhere"]');
      await page.getByRole('heading', { name: 'You joined from another window or tab' }).waitFor({ state: 'visible' });
      expect(await page.textContent()).not.toMatch(/removed/i);
      // Nobody left: the host still lists the guest, who is still in the meeting (10).
      expect(await others(host)).toBe(2);
      expect(await pstatus(m.key, 'guest')).toBe('10');

      // Back to the first tab, from the keyboard.
      const back = page.getByRole('button', { name: 'Rejoin here' });
      await back.focus();
      await guest.page.keyboard.press('Enter');
      expect(await eventually(async () => (await roomState(guest.page)) === 'room', 20_000)).toBe(true);
      expect(await eventually(async () => (await roomState(tab)) === 'joined_elsewhere')).toBe(true);
      await seeEachOther(host, guest);
      expect(await pstatus(m.key, 'guest')).toBe('10');
    } finally {
      await tab.close();
    }
  }, 120_000);

  it('"end for all" reaches the other page', async () => {
    const m = await meeting();
    const [host, guest] = [await person(), await person()];
    await joinRoom(host.page, m.hostUrl);
    await joinRoom(guest.page, m.guestUrl);
    await seeEachOther(host, guest);
    await host.page.getByRole('button', { name: 'End meeting for all' }).click();
    await host.page.getByRole('button', { name: 'End meeting', exact: true }).click();
    expect(await eventually(async () => (await roomState(guest.page)) === 'ended')).toBe(true);
    expect(await guest.page.locator('main[data-state="ended"]').textContent()).toMatch(/ended/i);
    expect(await status(m.key)).toBe('12');
    // The link now says so too.
    await guest.page.goto(m.guestUrl);
    await guest.page.locator('main[data-state="ended"]').waitFor({ state: 'visible' });
  }, 120_000);

  it('stopping the service shows the stopped page in the room and on the links', async () => {
    const m = await meeting();
    const [host, guest] = [await person(), await person()];
    await joinRoom(host.page, m.hostUrl);
    await joinRoom(guest.page, m.guestUrl);
    await seeEachOther(host, guest);
    const control = (action: string) => post(`${t.url}/livebox/appsservice/api/ControlInsideAppServices`, {
      username: acc.apiUsername, key: acc.apiKey, Serverkey: acc.serverKey, action, appservice: 'VideoConferencingService',
    }, 'json');
    try {
      expect((await control('stop')).text).toBe('Stopped');
      for (const p of [host, guest]) expect(await eventually(async () => (await roomState(p.page)) === 'service_stopped')).toBe(true);
      await guest.page.locator('main[data-state="service_stopped"]').waitFor({ state: 'visible' });
      await guest.page.goto(m.guestUrl);
      await guest.page.locator('main[data-state="service_stopped"]').waitFor({ state: 'visible' });
    } finally {
      expect((await control('start')).text).toBe('Started');
      await t.server.media!.control.idle();
    }
    // Back in service: the same link opens the room again.
    await joinRoom(guest.page, m.guestUrl);
    expect(await roomState(guest.page)).toBe('room');
  }, 120_000);

  it('the organiser’s mute and removal through the API reach the page, which says who did it and why', async () => {
    const m = await meeting();
    const guest = await person();
    await joinRoom(guest.page, m.guestUrl);
    const { meetingId, pid } = await nativeIds(m.key, 'guest');
    // The organiser mutes someone who is sending (the page has told the server its camera and
    // microphone are on: an unmute still on the wire would otherwise race the mute, see the note
    // in src/signaling/handlers.ts).
    expect(await eventually(async () => {
      const [p] = (await api('GET', `/meetings/${meetingId}/live`)).body.participants;
      return p?.audio.on === true && p.video.on === true;
    })).toBe(true);

    expect((await api('POST', `/meetings/${meetingId}/participants/${pid}/mute`, { sources: ['audio', 'video'] })).status).toBe(204);
    await guest.page.getByText('The organiser muted your microphone').first().waitFor({ state: 'visible' });
    await guest.page.getByText('The organiser turned your camera off').first().waitFor({ state: 'visible' });
    // The page's own state follows, and it tells the server nothing it did not ask for.
    const live = (await api('GET', `/meetings/${meetingId}/live`)).body.participants[0];
    expect(live.audio).toEqual({ on: false, mutedByHost: true });
    expect(live.video).toEqual({ on: false, mutedByHost: true });
    await guest.page.getByRole('button', { name: 'Microphone', pressed: false }).waitFor({ state: 'visible' });
    await guest.page.getByRole('button', { name: 'Camera', pressed: false }).waitFor({ state: 'visible' });
    // They may turn the microphone on again themselves.
    await guest.page.getByRole('button', { name: 'Microphone' }).click();
    expect(await eventually(async () => (await api('GET', `/meetings/${meetingId}/live`)).body.participants[0].audio.on === true)).toBe(true);
    expect((await api('GET', `/meetings/${meetingId}/live`)).body.participants[0].audio.mutedByHost).toBe(false);

    expect((await api('POST', `/meetings/${meetingId}/participants/${pid}/remove`, { reason: 'this room is being reset' })).status).toBe(204);
    expect(await eventually(async () => (await roomState(guest.page)) === 'removed', 15_000, 100)).toBe(true);
    await guest.page.getByText('The organiser removed you from the meeting: this room is being reset').waitFor({ state: 'visible' });
  }, 90_000);
});
