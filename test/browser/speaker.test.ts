import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { joinRoom, openPerson, type Person } from '../helpers/browser.js';
import { nativeApi } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 9, item 3: the speaker view and last-N in Chromium. Two bots with cameras join a page's
// meeting on a server that forwards one camera per person (LAST_N=1): the page decodes the
// latest speaker's camera, shows the other's avatar with "Video paused", and its speaker view
// follows who talks.
let t: TestServer;
let acc: AccountCredentials;
let host: BotHost;
let person: Person | undefined;
const bots: MeetingBot[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1', LAST_N: '1' });
  host = new BotHost();
  acc = await t.newAccount('Speakers');
});
afterAll(async () => {
  await person?.close();
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

const api = nativeApi(() => t, () => acc.apiToken);

it('shows the latest speaker large, pauses the camera of who is not among the last N, and follows a new speaker', async () => {
  const m = (await api('POST', '/meetings', { title: 'Who talks', host: { externalId: 'h', name: 'Hana Host' } })).body;
  const invite = async (externalId: string, name: string) => (await api('POST', `/meetings/${m.id}/participants`, { externalId, name })).body.joinUrl as string;
  const hostUrl = ((await api('GET', `/meetings/${m.id}/participants`)).body.data as { role: string; joinUrl: string }[]).find((p) => p.role === 'host')!.joinUrl;
  const [annUrl, benUrl] = [await invite('ann', 'Ann Loud'), await invite('ben', 'Ben Quiet')];

  person = await openPerson();
  const { page } = person;
  await joinRoom(page, hostUrl);
  bots.push(await MeetingBot.join(host, t.url, 'ann', personalLink(annUrl), { loud: true }));
  bots.push(await MeetingBot.join(host, t.url, 'ben', personalLink(benUrl)));
  const [ann, ben] = bots as [MeetingBot, MeetingBot];

  const tile = (id: string) => page.locator(`.tile[data-participant-id="${id}"][data-source="camera"]`);
  const playing = (id: string) => tile(id).locator('video').evaluate((v) => {
    const video = v as unknown as { videoWidth: number; paused: boolean }; // a <video>; tests are typed without the DOM library
    return video.videoWidth > 0 && !video.paused;
  }).catch(() => false);
  // Ann talks: her camera plays on the page; Ben's is not sent, his tile says so.
  await expect.poll(() => playing(ann.id), { timeout: 30_000 }).toBe(true);
  await expect.poll(() => tile(ben.id).getAttribute('aria-label'), { timeout: 15_000 }).toMatch(/video paused/);
  expect(await tile(ben.id).locator('video').count()).toBe(0);
  await tile(ben.id).getByText('Video paused').waitFor();

  // The speaker view: Ann large, the others (Ben and ourselves) in the strip.
  await page.getByRole('button', { name: 'Speaker view' }).click();
  expect(await page.getByRole('button', { name: 'Speaker view' }).getAttribute('aria-pressed')).toBe('true');
  const large = () => page.locator('.stage.speaker-view .grid .tile').getAttribute('data-participant-id');
  await expect.poll(large).toBe(ann.id);
  expect(await page.locator('.stage.speaker-view .strip .tile').count()).toBe(2);

  // Ben talks now: he becomes the large tile, his camera plays, and Ann's is paused.
  await host.setLoud('ann', false);
  await host.setLoud('ben', true);
  await expect.poll(large, { timeout: 20_000 }).toBe(ben.id);
  await expect.poll(() => playing(ben.id), { timeout: 20_000 }).toBe(true);
  await expect.poll(() => tile(ann.id).getAttribute('aria-label')).toMatch(/video paused/);
  if (process.env.SPEAKER_SCREENSHOT) await page.screenshot({ path: process.env.SPEAKER_SCREENSHOT });
  // Ann is told too: of the two others she now receives Ben's camera, not the page's.
  const pausedForAnn = () => ann.received('videoPaused').at(-1)?.videos.map((v) => v.participantId) ?? [];
  expect(await eventually(() => pausedForAnn().length === 1 && !pausedForAnn().includes(ben.id))).toBe(true);

  // The choice is kept in this browser: back to the grid, and a reload stays there.
  await page.getByRole('button', { name: 'Speaker view' }).click();
  await page.locator('.stage:not(.presenting) .grid').waitFor();
  expect(await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('parley.view'))).toBe('grid');
}, 120_000);
