import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { CHROMIUM, joinRoom, openPerson, type Person } from '../helpers/browser.js';
import { clearDownlinkAfter, labForTests, labMeeting } from '../helpers/lab-server.js';

// Issue 9: a screen share goes out in two simulcast layers (src/web/peers.ts), so a person whose
// downlink cannot carry the whole screen still sees it, at half the size, and hears the sharer.
// Her link is held to 400 kbit/s: Chromium's fake screen costs 260-400 kbit/s whole (the server
// prices a layer by its peaks) and ~160 kbit/s at half the size. With one layer (measured
// 2026-12-06) she got the whole screen, frozen 27-30% of the time.
const WINDOW_MS = 20_000;
/** Chromium's fake screen, and its low layer */
const FULL_WIDTH = 1024;

const people: Person[] = [];
const setup = labForTests('parley-screen-downlink-', people);

interface Seen { screen: { frames: number; frozen: number; width: number } | undefined; camera: number; audio: { samples: number; concealed: number } }

/** What her page decodes so far: the screen share, the camera's frames, and the audio. */
const seen = (page: Page): Promise<Seen> => page.evaluate(async () => {
  type Stat = { type: string; kind?: string; trackIdentifier?: string; framesDecoded?: number; totalFreezesDuration?: number; frameWidth?: number; totalSamplesReceived?: number; concealedSamples?: number };
  const hooks = (globalThis as unknown as { __parley: {
    subscriber(): { getStats(): Promise<{ forEach(cb: (s: Stat) => void): void }> } | undefined;
    remoteSources(): { source: string; trackId: string }[];
  } }).__parley;
  const source = new Map(hooks.remoteSources().map((r) => [r.trackId, r.source]));
  const out: Seen = { screen: undefined, camera: 0, audio: { samples: 0, concealed: 0 } };
  (await hooks.subscriber()?.getStats())?.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'audio') {
      out.audio.samples += s.totalSamplesReceived ?? 0;
      out.audio.concealed += s.concealedSamples ?? 0;
    } else if (source.get(s.trackIdentifier ?? '') === 'screen') {
      out.screen = { frames: s.framesDecoded ?? 0, frozen: s.totalFreezesDuration ?? 0, width: s.frameWidth ?? 0 };
    } else {
      out.camera += s.framesDecoded ?? 0;
    }
  });
  return out;
});

it('keeps a screen share, at half the size, for a participant whose link cannot carry all of it', { retry: 1, timeout: 240_000 }, async (ctx) => {
  if (setup.unavailable) return ctx.skip(true, setup.unavailable);
  const { lab, server } = setup;
  clearDownlinkAfter(ctx, lab, people);
  const { hostUrl, invite } = await labMeeting(lab, server, 'Slides', 'Sue Sharer');
  const weakUrl = await invite('w', 'Wen Weak');
  const args = [`--unsafely-treat-insecure-origin-as-secure=${new URL(hostUrl).origin}`];
  const sharer = await openPerson({ executablePath: lab.chromiumIn('server', CHROMIUM), args });
  people.push(sharer);
  await joinRoom(sharer.page, hostUrl);
  const weak = await openPerson({ executablePath: lab.chromiumIn('client', CHROMIUM), args });
  people.push(weak);
  await joinRoom(weak.page, weakUrl);
  await expect.poll(async () => (await seen(weak.page)).camera, { timeout: 30_000 }).toBeGreaterThan(0);

  await sharer.page.getByRole('button', { name: 'Share screen', exact: true }).click();
  // On a clear link she gets the whole screen, once the sharer's estimate lets both layers out.
  await expect.poll(async () => (await seen(weak.page)).screen?.width ?? 0, { timeout: 45_000 }).toBe(FULL_WIDTH);
  await lab.limitDownlink({ kbit: 400, queueMs: 200 });
  await sleep(20_000); // her estimate falls and the server fits what it sends her to it
  const before = await seen(weak.page);
  await sleep(WINDOW_MS);
  const after = await seen(weak.page);
  const screen = {
    fps: (((after.screen?.frames ?? 0) - (before.screen?.frames ?? 0)) * 1000) / WINDOW_MS,
    frozen: (((after.screen?.frozen ?? 0) - (before.screen?.frozen ?? 0)) * 1000) / WINDOW_MS,
    width: after.screen?.width ?? 0,
  };
  const concealed = (after.audio.concealed - before.audio.concealed) / Math.max(1, after.audio.samples - before.audio.samples);
  const cameraFps = ((after.camera - before.camera) * 1000) / WINDOW_MS;
  const what = JSON.stringify({ screen, concealed, cameraFps, load: loadavg()[0] });
  console.log(`screen over 400 kbit/s: ${what}`);
  expect(screen.width, what).toBe(FULL_WIDTH / 2);
  expect(screen.fps, what).toBeGreaterThanOrEqual(10);
  expect(screen.frozen, what).toBeLessThan(0.1);
  expect(concealed, what).toBeLessThan(0.05);
});
