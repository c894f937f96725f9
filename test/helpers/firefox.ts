import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { inPage } from './browser.js';
import { eventually, eventuallyFound } from './meeting-bot.js';

/**
 * Debian's firefox-esr (.ci/run installs it), driven over WebDriver BiDi by puppeteer-core:
 * Playwright's Firefox is a patched build that would have to be downloaded.
 */
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const XVFB = process.env.XVFB_PATH ?? '/usr/bin/Xvfb';

// Prefs measured on this machine (../shared/MEDIA-NOTES.md): fake camera and microphone without
// prompts; candidates on 127.0.0.1 (permission.fake, or Firefox gathers only the default-route
// interface) with real addresses instead of mDNS names; no background traffic.
const PREFS: Record<string, unknown> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.navigator.permission.fake': true,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.default_address_only': false,
  'network.dns.disableIPv6': true,
  // Remote audio plays without a click, as Chromium's --autoplay-policy=no-user-gesture-required.
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'app.update.enabled': false,
  'app.update.auto': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'extensions.update.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': '',
};

export interface FirefoxPerson {
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/**
 * One person = one Firefox with its own (temporary) profile. Headless by default; with
 * `display` it opens a window on that X display, which is what getDisplayMedia captures.
 * `executablePath` and `debuggingPort`: e.g. Firefox in a test's network namespace
 * (NetLab.firefoxInClient); `prefs` are added to the usual ones.
 */
export async function openFirefox(
  opts: { display?: string; executablePath?: string; debuggingPort?: number; prefs?: Record<string, unknown> } = {},
): Promise<FirefoxPerson> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: opts.executablePath ?? FIREFOX,
    debuggingPort: opts.debuggingPort,
    headless: opts.display === undefined,
    extraPrefsFirefox: { ...PREFS, ...opts.prefs },
    defaultViewport: { width: 1024, height: 700 },
    env: opts.display === undefined ? process.env : { ...process.env, DISPLAY: opts.display },
  });
  const page = (await browser.pages())[0] ?? await browser.newPage();
  return {
    browser,
    page,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}

/*
 * Firefox ESR 140.12 applies the page's Content-Security-Policy (ours has no 'unsafe-eval') to the
 * code that puppeteer's `waitForFunction` and `Locator` build inside the page (`new Function`):
 * "blocked a JavaScript eval", and they wait until their timeout (every Firefox test failed so,
 * 2026-12-07); so does `waitForSelector` once it has to poll. `page.evaluate`, `page.$` and element
 * handles still work: these helpers poll with them.
 */

/** Polls `predicate` in the page until it is true (every `intervalMs`, at most `timeoutMs`). */
export async function waitInPageFx(
  page: Page,
  what: string,
  predicate: () => boolean,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  if (!(await eventually(async () => Boolean(await page.evaluate(predicate)), timeoutMs, opts.intervalMs ?? 100))) {
    throw new Error(`Firefox: ${what} not within ${timeoutMs} ms`);
  }
}

/** The element `selector` finds, once it is there (polled every 100 ms, at most `timeoutMs`). */
async function elementFx(page: Page, selector: string, timeoutMs = 30_000): Promise<ElementHandle> {
  const handle = await eventuallyFound(() => page.$(selector), timeoutMs, 100);
  if (!handle) throw new Error(`Firefox: no ${selector} within ${timeoutMs} ms`);
  return handle;
}

/** Clicks the element `selector` finds once it is there (a trusted click). */
async function clickFx(page: Page, selector: string): Promise<void> {
  const handle = await elementFx(page, selector);
  await handle.click();
  await handle.dispose();
}

/** Opens a link and joins through the pre-join screen (a name if the page asks for one). */
export async function joinRoomFx(page: Page, url: string, name?: string): Promise<void> {
  await page.goto(url);
  // A tab in the background may start its camera late (MEDIA-NOTES).
  await page.bringToFront();
  if (name) {
    const field = await elementFx(page, '::-p-aria(Your name)');
    await field.type(name);
    await field.dispose();
  }
  await clickFx(page, '::-p-aria(Join[role="button"])');
  const inRoom = () => (globalThis as unknown as { __parley?: { state(): string } }).__parley?.state() === 'room';
  await waitInPageFx(page, 'the room', inRoom);
}

/** Video frames decoded so far from everyone else. */
export async function framesDecodedFx(page: Page): Promise<number> {
  return (await page.evaluate(inPage.inbound, 'video')).framesDecoded;
}

/** Audio packets received so far from everyone else. */
export async function audioPacketsFx(page: Page): Promise<number> {
  return (await page.evaluate(inPage.inbound, 'audio')).packetsReceived;
}

/** Clicks the room's button with this accessible name (a trusted click: it may open a screen share). */
export async function clickButtonFx(page: Page, name: string): Promise<void> {
  await clickFx(page, `::-p-aria(${name}[role="button"])`);
}

/** A private X server for a Firefox with a window (screen capture); undefined without Xvfb. */
export async function startXvfb(): Promise<{ display: string; stop(): void } | undefined> {
  if (!existsSync(XVFB)) return undefined;
  // -displayfd: Xvfb picks a free display number and writes it to stdout once it is ready.
  const proc: ChildProcess = spawn(XVFB, ['-displayfd', '1', '-screen', '0', '1280x720x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    proc.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it was ready`)));
  });
  return { display, stop: () => proc.kill() };
}
