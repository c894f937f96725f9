import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { inPage, joinRoom, openPerson, type Person } from '../helpers/browser.js';
import { joinRoomFx, openFirefox, type FirefoxPerson } from '../helpers/firefox.js';
import { nativeApi } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 9, items 1 and 2: the room publishes its camera as three simulcast layers, and the server
// forwards each person the layer their tile needs: a small tile the quarter-size layer, a large
// one the full picture, switching on keyframes without breaking the picture (getStats on the
// receiving page).
let t: TestServer;
let acc: AccountCredentials;
let dir: string;
const people: (Person | FirefoxPerson)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-simulcast-'));
  // A 960x540 moving picture: Chromium sends three layers from 960x540 up (two from 640x480).
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=960x540:rate=30', '-t', '2', '-pix_fmt', 'yuv420p', join(dir, 'camera.y4m')]);
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('Simulcast');
}, 60_000);
// Each test's browsers go when it ends: a 30 fps sender and its viewer left running took enough
// of two cores for Firefox, in the next test, to send two layers instead of three.
afterEach(async () => {
  await Promise.all(people.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = nativeApi(() => t, () => acc.apiToken);

type Stat = { type: string; kind?: string; rid?: string; frameWidth?: number; framesDecoded?: number; framesEncoded?: number; freezeCount?: number; trackIdentifier?: string };
type StatsOwner = { getStats(): Promise<{ forEach(cb: (s: Stat) => void): void }> };
type Hooks = { __parley: { subscriber(): StatsOwner | undefined; sender(source: string): StatsOwner | undefined } };

/** Frames encoded so far by each rid of one of the publisher's sources (camera, screen). */
const layersSent = (page: Pick<Page, 'evaluate'>, source: string) => page.evaluate(inPage.framesEncoded, source);

/** The width each rid of one of the publisher's sources is encoded at now (rids with frames encoded). */
const layerWidths = (page: Pick<Page, 'evaluate'>, source: string) => page.evaluate(async (source) => {
  const out: Record<string, number> = {};
  (await (globalThis as unknown as Hooks).__parley.sender(source)?.getStats())?.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.rid && (s.framesEncoded ?? 0) > 0) out[s.rid] = s.frameWidth ?? 0;
  });
  return out;
}, source);

/** The video received now: its width and frames decoded so far. */
const received = (page: Page) => page.evaluate(async () => {
  let width = 0;
  let frames = 0;
  (await (globalThis as unknown as Hooks).__parley.subscriber()?.getStats())?.forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    frames += s.framesDecoded ?? 0;
    if ((s.framesDecoded ?? 0) > 0) width = Math.max(width, s.frameWidth ?? 0);
  });
  return { width, frames };
});

/**
 * Waits until the viewer decodes a picture `width` pixels wide; a failure says what the sender's
 * layers were doing (a layer its encoder dropped cannot be forwarded).
 */
async function decodesWidth(viewer: Person, sender: Person | FirefoxPerson, width: number, timeout: number): Promise<void> {
  try {
    await expect.poll(async () => (await received(viewer.page)).width, { timeout }).toBe(width);
  } catch (err) {
    const s = await (sender.page as Pick<Page, 'evaluate'>).evaluate(inPage.sending).catch(() => undefined);
    throw new Error(`the viewer does not decode ${width} pixels wide after ${timeout / 1000} s (${(await received(viewer.page)).width}); the sender's estimate is ${s?.estimateKbps} kbit/s, its layers ${s?.layers}`, { cause: err });
  }
}

/** A meeting with a host who sends and a participant who views: their links. */
async function meeting(title: string, hostName: string) {
  const m = (await api('POST', '/meetings', { title, host: { externalId: 'h', name: hostName } })).body;
  const hostUrl = ((await api('GET', `/meetings/${m.id}/participants`)).body.data as { joinUrl: string }[])[0]!.joinUrl;
  const viewerUrl = (await api('POST', `/meetings/${m.id}/participants`, { externalId: 'v', name: 'Vera Viewer' })).body.joinUrl as string;
  return { hostUrl, viewerUrl };
}

/** The viewer in a large window (a large tile), in the room. */
async function largeViewer(url: string): Promise<Person> {
  const viewer = await openPerson();
  people.push(viewer);
  await viewer.page.setViewportSize({ width: 1600, height: 1000 });
  await joinRoom(viewer.page, url);
  return viewer;
}

// One retry each for Chromium's camera and screen: in the CI run of 2026-12-06 14:00 UTC one
// load-heavy stretch failed both (the small layer decoded at 6 fps; a share back in a large tile
// still at half the size after 20 s), where they pass in 25 and 35 s.
it('sends a small tile the low layer and a large one the full picture, switching without a break', { retry: 1, timeout: 150_000 }, async () => {
  const { hostUrl, viewerUrl } = await meeting('Layers', 'Sam Sender');
  const sender = await openPerson({ args: [`--use-file-for-fake-video-capture=${join(dir, 'camera.y4m')}`] });
  people.push(sender);
  await joinRoom(sender.page, hostUrl);
  const viewer = await largeViewer(viewerUrl);

  // Three layers leave the sender's browser once its estimate allows (our congestion feedback).
  await expect.poll(async () => Object.values(await layersSent(sender.page, 'camera')).filter((f) => f > 0).length, { timeout: 30_000 }).toBe(3);

  // A large tile: the full 960-pixel picture.
  await decodesWidth(viewer, sender, 960, 30_000);

  // A small window, a small tile: the quarter-size layer, and frames keep coming across the switch.
  // It stays small for 180 frames (6 s at 30 fps): the viewer's first bandwidth estimate (REMB,
  // 5 s after its first video) comes meanwhile, from the small layer's rate, and must not hold
  // the large tile down for the half minute REMB takes to grow.
  await viewer.page.setViewportSize({ width: 480, height: 360 });
  await decodesWidth(viewer, sender, 240, 20_000);
  const before = (await received(viewer.page)).frames;
  await expect.poll(async () => (await received(viewer.page)).frames, { timeout: 20_000 }).toBeGreaterThan(before + 180);

  // Large again: back to the full picture.
  await viewer.page.setViewportSize({ width: 1600, height: 1000 });
  await decodesWidth(viewer, sender, 960, 20_000);
});

// One retry: in the clean-clone CI run of 2026-12-06 17:00 UTC the viewer's frames stopped right
// after it switched to the smallest layer (285 decoded, none more in 10 s); six local runs the
// same day passed, and the run had no debug log. Why is not known (see the media README).
it('takes Firefox\'s camera as three layers too, and sends a small tile its smallest', { retry: 1, timeout: 150_000 }, async () => {
  const { hostUrl, viewerUrl } = await meeting('Firefox layers', 'Fern Fox');
  const sender = await openFirefox();
  people.push(sender);
  await joinRoomFx(sender.page, hostUrl);
  const viewer = await largeViewer(viewerUrl);

  await expect.poll(async () => Object.values(await layersSent(sender.page, 'camera')).filter((f) => f > 0).length, { timeout: 30_000 }).toBe(3);
  // Each layer a quarter, a half and the whole of Firefox's fake camera (960x540 on this machine).
  const widths = await layerWidths(sender.page, 'camera');
  expect(widths.q! * 4).toBe(widths.f);
  expect(widths.h! * 2).toBe(widths.f);
  await decodesWidth(viewer, sender, widths.f!, 30_000);
  await viewer.page.setViewportSize({ width: 480, height: 360 });
  await decodesWidth(viewer, sender, widths.q!, 20_000);
  const before = (await received(viewer.page)).frames;
  await expect.poll(async () => (await received(viewer.page)).frames, { timeout: 10_000 }).toBeGreaterThan(before + 20);
});

/** The screen share this page receives now: its width and frames decoded so far. */
const screenReceived = (page: Page) => page.evaluate(async () => {
  const hooks = (globalThis as unknown as Hooks & { __parley: { remoteSources(): { source: string; trackId: string }[] } }).__parley;
  const screens = new Set(hooks.remoteSources().filter((r) => r.source === 'screen').map((r) => r.trackId));
  const out = { width: 0, frames: 0 };
  (await hooks.subscriber()?.getStats())?.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && screens.has(s.trackIdentifier ?? '')) Object.assign(out, { width: s.frameWidth ?? 0, frames: s.framesDecoded ?? 0 });
  });
  return out;
});

it('sends a screen share as two layers: half the size to a small tile, the whole screen to a large one', { retry: 1, timeout: 150_000 }, async () => {
  const { hostUrl, viewerUrl } = await meeting('Screen layers', 'Sue Sharer');
  const sharer = await openPerson();
  people.push(sharer);
  await joinRoom(sharer.page, hostUrl);
  const viewer = await largeViewer(viewerUrl);
  // A meeting under way: the sharer's uplink estimate has grown to her camera's three layers (it
  // starts low and grows over some 20 s; a share started before that begins at its low layer).
  await expect.poll(async () => Object.values(await layersSent(sharer.page, 'camera')).filter((f) => f > 0).length, { timeout: 30_000 }).toBe(3);
  await sharer.page.getByRole('button', { name: 'Share screen', exact: true }).click();

  // Both layers leave the browser: half the size and the whole screen (Chromium's fake one).
  await expect.poll(async () => Object.keys(await layerWidths(sharer.page, 'screen')).sort().join(), { timeout: 30_000 }).toBe('f,h');
  const widths = await layerWidths(sharer.page, 'screen');
  expect(widths.h! * 2).toBe(widths.f);

  // The share takes the large place: the whole screen.
  await expect.poll(async () => (await screenReceived(viewer.page)).width, { timeout: 30_000 }).toBe(widths.f);
  // A small window: half the size, and the share goes on across the switch.
  await viewer.page.setViewportSize({ width: 480, height: 360 });
  await expect.poll(async () => (await screenReceived(viewer.page)).width, { timeout: 20_000 }).toBe(widths.h);
  const before = (await screenReceived(viewer.page)).frames;
  await expect.poll(async () => (await screenReceived(viewer.page)).frames, { timeout: 20_000 }).toBeGreaterThan(before + 30);
  // Large again: back to the whole screen (a probe cluster may be needed first, up to 8 s apart).
  await viewer.page.setViewportSize({ width: 1600, height: 1000 });
  await expect.poll(async () => (await screenReceived(viewer.page)).width, { timeout: 30_000 }).toBe(widths.f);
});
