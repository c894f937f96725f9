import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { devices, type Page } from 'playwright-core';
import type { AccountCredentials } from '../../src/core/index.js';
import { framesDecoded, joinRoom, openPerson, openPhone, waitForRoom } from '../helpers/browser.js';
import { basic, post } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The room on a phone, in Chromium's mobile emulation (phone viewport and scale, touch, mobile
// user agent), meeting a desktop participant: everything is reached by tapping, nothing scrolls
// sideways, video and chat work. Phone browsers have no getDisplayMedia (iOS Safari, Chrome on
// Android): the page removes it before the room loads, and the room must not offer a screen share.
let t: TestServer;
let acc: AccountCredentials;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('mobile');
});
afterEach(async () => {
  for (const done of cleanup.splice(0)) await done();
});
afterAll(async () => {
  await t?.close();
});

let seq = 0;
const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
async function meeting() {
  const key = `phone-${++seq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Dana Desk', title: `A meeting with a rather long title, seen on a phone ${seq}` });
  const added = await lm('addParticipant', { meetingKey: key, puid: 'phone', nickname: 'Pat Phone' });
  return { hostUrl: created.body.hostUrl as string, phoneUrl: added.body.participantUrl as string };
}

/** As on iOS Safari and Chrome for Android: no screen capture API at all. */
const NO_DISPLAY_MEDIA = 'delete MediaDevices.prototype.getDisplayMedia;';

async function phone(name: 'Pixel 7' | 'iPhone 14' | 'Pixel 7 landscape'): Promise<Page> {
  // iPhone 14's descriptor names WebKit as its browser: only its screen and touch are used here.
  const { defaultBrowserType: _browser, ...device } = devices[name];
  const p = await openPhone(device);
  cleanup.unshift(() => p.close());
  await p.page.addInitScript({ content: NO_DISPLAY_MEDIA });
  return p.page;
}

/** Joins on a phone: the pre-join screen is used by tapping. */
async function joinByTap(page: Page, url: string): Promise<void> {
  await page.goto(url);
  // As a person does, once the page has settled: the device choices appear above the button
  // when the camera starts, and a tap computed just before that lands beside it (seen on a
  // landscape phone under load).
  await page.locator('select#camera').waitFor();
  await page.getByRole('button', { name: 'Join' }).tap();
  await waitForRoom(page);
}

/** The page is no wider than the screen (nothing to scroll sideways). */
function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number }; body: { scrollWidth: number } } }).document;
    const width = doc.documentElement.clientWidth;
    return doc.documentElement.scrollWidth <= width && doc.body.scrollWidth <= width;
  });
}

/** Every control is inside the viewport, not covered, and at least 44×44 CSS px (a fingertip). */
async function controlsFit(page: Page): Promise<string[]> {
  const viewport = page.viewportSize()!;
  const problems: string[] = [];
  for (const button of await page.locator('.controls button').all()) {
    const name = (await button.getAttribute('aria-label')) ?? '?';
    const box = await button.boundingBox();
    if (!box) {
      problems.push(`${name}: not shown`);
      continue;
    }
    if (box.x < 0 || box.y < 0 || box.x + box.width > viewport.width || box.y + box.height > viewport.height) problems.push(`${name}: outside the screen`);
    if (box.width < 44 || box.height < 44) problems.push(`${name}: ${Math.round(box.width)}×${Math.round(box.height)} is too small to tap`);
  }
  return problems;
}

async function chatReaches(from: Page, to: Page, text: string): Promise<boolean> {
  const message = from.getByRole('textbox', { name: 'Message' });
  await message.fill(text);
  await message.press('Enter');
  return eventually(async () => (await to.getByText(text).count()) > 0, 10_000);
}

describe('the room on a phone', () => {
  // The host has the most controls (End meeting for all); a landscape phone has the least height.
  const cases = [
    { name: 'Pixel 7', host: false },
    { name: 'iPhone 14', host: true },
    { name: 'Pixel 7 landscape', host: false },
  ] as const;
  for (const { name, host } of cases) {
    it(`${name}${host ? ' (host)' : ''}: joins by tapping, fits the screen, decodes the other camera, chats, offers no screen share`, async () => {
      const m = await meeting();
      const [phoneUrl, deskUrl] = host ? [m.hostUrl, m.phoneUrl] : [m.phoneUrl, m.hostUrl];
      const desk = await openPerson();
      cleanup.unshift(() => desk.close());
      await joinRoom(desk.page, deskUrl);
      const page = await phone(name);

      // Pre-join on a phone: nothing wider than the screen.
      await page.goto(phoneUrl);
      await page.getByRole('button', { name: 'Join' }).waitFor();
      expect(await fitsWidth(page)).toBe(true);
      await joinByTap(page, phoneUrl);
      if (host) expect(await page.getByRole('button', { name: 'End meeting for all' }).count()).toBe(1);

      expect(await controlsFit(page)).toEqual([]);
      expect(await fitsWidth(page)).toBe(true);
      expect(await page.getByRole('button', { name: 'Share screen' }).count()).toBe(0);
      const f0 = await framesDecoded(page);
      expect(await eventually(async () => (await framesDecoded(page)) > f0 + 20, 20_000, 250)).toBe(true);
      // The remote camera's tile is on screen, not pushed below the controls.
      const tile = await page.locator('.tile.live').first().boundingBox();
      const controls = await page.locator('.controls').boundingBox();
      expect(tile && controls && tile.y + tile.height <= controls.y + 1 && tile.width > 100 && tile.height > 100).toBe(true);

      // Tapping the microphone mutes it.
      await page.getByRole('button', { name: 'Microphone', pressed: true }).tap();
      await page.getByRole('button', { name: 'Microphone', pressed: false }).waitFor();

      // Chat: opened by a tap, over the whole screen, both ways, then closed by a tap.
      await page.getByRole('button', { name: 'Chat' }).tap();
      const panel = await page.locator('.panel').boundingBox();
      const viewport = page.viewportSize()!;
      expect(panel && panel.x >= 0 && panel.width <= viewport.width && panel.height <= viewport.height).toBe(true);
      expect(await fitsWidth(page)).toBe(true);
      await desk.page.getByRole('button', { name: 'Chat' }).click();
      expect(await chatReaches(page, desk.page, 'Hello from the phone')).toBe(true);
      expect(await chatReaches(desk.page, page, 'Hello from the desk')).toBe(true);
      await page.getByRole('button', { name: 'Close chat' }).tap();
      await page.getByRole('button', { name: 'Chat' }).waitFor();
      expect(await controlsFit(page)).toEqual([]);

      // The desktop offers its screen share (its browser has getDisplayMedia).
      expect(await desk.page.getByRole('button', { name: 'Share screen' }).count()).toBe(1);
    }, 90_000);
  }
});
