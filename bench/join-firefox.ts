// The join benchmark in Firefox ESR (puppeteer-core over WebDriver BiDi, as the tests drive it):
// navigation start → Join pressed by the page itself → first decoded remote frame.
import type { Page } from 'puppeteer-core';
import { clickButtonFx, openFirefox, waitInPageFx } from '../test/helpers/firefox.js';
import { AUTO_JOIN } from './auto-join.js';

async function timeJoin(page: Page, url: string): Promise<number> {
  await page.evaluateOnNewDocument(AUTO_JOIN);
  await page.goto(url);
  // A tab in the background may start its camera late (MEDIA-NOTES).
  await page.bringToFront();
  // Not page.waitForFunction: test/helpers/firefox.ts says why.
  await waitInPageFx(page, 'a first frame', () => (globalThis as { __firstFrameMs?: number }).__firstFrameMs !== undefined, { intervalMs: 50 });
  return page.evaluate(() => (globalThis as { __firstFrameMs?: number }).__firstFrameMs as number);
}

/** `links[0]` warms Firefox up (not counted); each of the next `joins` links is one timed join. */
export async function timeFirefoxJoins(links: string[], joins: number): Promise<number[]> {
  const firefox = await openFirefox();
  try {
    const times: number[] = [];
    for (let i = 0; i <= joins; i++) {
      const page = await firefox.browser.newPage();
      const ms = await timeJoin(page, links[i % links.length]!);
      if (i > 0) times.push(ms);
      await clickButtonFx(page, 'Leave');
      await page.close();
    }
    return times;
  } finally {
    await firefox.close();
  }
}
