// The join benchmark in Firefox ESR (puppeteer-core over WebDriver BiDi, as the tests drive it):
// navigation start → Join pressed by the page itself → first decoded remote frame.
import type { Page } from 'puppeteer-core';
import { openFirefox } from '../test/helpers/firefox.js';
import { AUTO_JOIN } from './auto-join.js';

async function timeJoin(page: Page, url: string): Promise<number> {
  await page.evaluateOnNewDocument(AUTO_JOIN);
  await page.goto(url);
  // A tab in the background may start its camera late (MEDIA-NOTES).
  await page.bringToFront();
  await page.waitForFunction(() => (globalThis as { __firstFrameMs?: number }).__firstFrameMs !== undefined, { timeout: 20_000, polling: 50 });
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
      await page.locator('::-p-aria(Leave[role="button"])').click();
      await page.close();
    }
    return times;
  } finally {
    await firefox.close();
  }
}
