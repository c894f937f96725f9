/**
 * One look (issue 8): a server-rendered link page and the room's own page for the same state
 * wear the same stylesheet and tokens, light or dark as the browser prefers, and say each
 * sentence once. Real Chromium against a started server; the meeting is ended through the API
 * while a person is in the room, as an organiser would.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { joinRoom, openPerson, type Person, type RoomHooks } from '../helpers/browser.js';
import { basic, post } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let acc: AccountCredentials;
let person: Person;

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' });
  acc = await t.newAccount('look');
  person = await openPerson();
});
afterAll(async () => {
  await person?.close();
  await t?.close();
});

const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));

let seq = 0;
async function meeting() {
  const key = `look${++seq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Hana Host', title: `Design review ${seq}` });
  const added = await lm('addParticipant', { meetingKey: key, puid: 'guest', nickname: 'Gus Guest' });
  return { key, meetingUrl: created.body.meetingUrl as string, hostUrl: created.body.hostUrl as string, guestUrl: added.body.participantUrl as string };
}

/** What the eye sees of a state page: the styles that make its look, and where they come from. */
interface Look {
  stylesheets: string[];
  page: { background: string; color: string; fontFamily: string; colorScheme: string };
  card?: { background: string; borderColor: string; borderRadius: string; padding: string };
  heading?: { fontSize: string; fontWeight: string; color: string };
  text?: { color: string; fontSize: string };
}

/** The bits of the DOM the page-side readers use (the tests are type-checked without the DOM lib). */
interface PageGlobals {
  document: { styleSheets: Iterable<{ href: string | null }>; querySelector(selector: string): object | null; body: { innerText: string } };
  location: { href: string };
  getComputedStyle(element: object): Record<'backgroundColor' | 'color' | 'fontFamily' | 'colorScheme' | 'borderTopColor' | 'borderTopLeftRadius' | 'paddingTop' | 'fontSize' | 'fontWeight', string>;
}

/** Runs in the page (self-contained: the driver serializes it). */
function readLook(): Look {
  const w = globalThis as unknown as PageGlobals;
  const style = (selector: string) => {
    const element = w.document.querySelector(selector);
    return element ? w.getComputedStyle(element) : undefined;
  };
  const [root, body, card, h1, p] = [style(':root')!, style('body')!, style('main .card'), style('main .card h1'), style('main .card h1 + p')];
  return {
    stylesheets: [...w.document.styleSheets].map((s) => new URL(s.href ?? 'inline:', w.location.href).pathname),
    page: { background: body.backgroundColor, color: body.color, fontFamily: body.fontFamily, colorScheme: root.colorScheme },
    ...(card ? { card: { background: card.backgroundColor, borderColor: card.borderTopColor, borderRadius: card.borderTopLeftRadius, padding: card.paddingTop } } : {}),
    ...(h1 ? { heading: { fontSize: h1.fontSize, fontWeight: h1.fontWeight, color: h1.color } } : {}),
    ...(p ? { text: { color: p.color, fontSize: p.fontSize } } : {}),
  };
}

/** The page's words, sentence by sentence (block by block, then at full stops), as a reader meets them. */
function readSentences(): string[] {
  const w = globalThis as unknown as PageGlobals;
  return w.document.body.innerText.split(/\n+|(?<=[.!?])\s+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Sentences said more than once on a page ("The meeting was cancelled" twice, with or without its full stop). */
async function repeated(page: Page): Promise<string[]> {
  const normal = (s: string) => s.toLowerCase().replace(/[\s.!?…]+$/u, '');
  const seen = new Map<string, number>();
  for (const s of await page.evaluate(readSentences)) seen.set(normal(s), (seen.get(normal(s)) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([s]) => s);
}

/** Relative luminance of a computed `rgb(r, g, b)` colour. */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const isRoomApp = (page: Page) => page.evaluate(() => (globalThis as unknown as { __parley?: RoomHooks }).__parley !== undefined);
const waitState = (page: Page, state: string) =>
  page.waitForFunction((s) => (globalThis as unknown as { __parley?: RoomHooks }).__parley?.state() === s, state, { timeout: 20_000 });

/**
 * The room's page (already showing `state`) and the server's link page for the same state, in
 * both schemes: same stylesheet, same computed look, the scheme the browser prefers, and the
 * same words said once each.
 */
async function compare(room: Page, linkUrl: string, state: string) {
  const link = await person.context.newPage();
  try {
    const answer = await link.goto(linkUrl);
    expect(answer?.status()).toBe(200);
    await link.locator(`main[data-state="${state}"]`).waitFor();
    expect(await isRoomApp(link), 'the link page is rendered by the server, not the room').toBe(false);
    expect(await isRoomApp(room)).toBe(true);

    const looks: Record<string, Look> = {};
    for (const scheme of ['light', 'dark'] as const) {
      await room.emulateMedia({ colorScheme: scheme });
      await link.emulateMedia({ colorScheme: scheme });
      const [inRoom, onLink] = [await room.evaluate(readLook), await link.evaluate(readLook)];
      expect(onLink.stylesheets.length).toBeGreaterThan(0);
      expect(onLink, `${scheme}: the link page looks like the room's page`).toEqual(inRoom);
      looks[scheme] = onLink;
    }
    // The scheme follows the browser's preference: a dark page with light text, and the reverse.
    const [light, dark] = [looks.light!, looks.dark!];
    expect(luminance(dark.page.background)).toBeLessThan(0.05);
    expect(luminance(light.page.background)).toBeGreaterThan(0.8);
    expect(luminance(dark.page.color)).toBeGreaterThan(0.7);
    expect(luminance(light.page.color)).toBeLessThan(0.05);
    expect(light.page.colorScheme).toBe('light dark');

    // Each sentence once, and the same words on both.
    expect(await repeated(room), 'the room repeats itself').toEqual([]);
    expect(await repeated(link), 'the link page repeats itself').toEqual([]);
    const words = (page: Page) => page.locator('main .card').evaluate((card) => [...card.querySelectorAll('h1, h1 + p')].map((e) => e.textContent));
    expect(await words(link)).toEqual(await words(room));
  } finally {
    await link.close();
  }
}

/**
 * Runs in the page: every visible piece of text whose contrast with what is behind it is below
 * WCAG AA (4.5:1; 3:1 for large text). Skips what sits on video (its backdrop is the picture),
 * disabled controls (exempt) and screen-reader-only text.
 */
function contrastFailures(): string[] {
  interface Styled { color: string; backgroundColor: string; fontSize: string; fontWeight: string; visibility: string; opacity: string }
  interface Node { nodeType: number; textContent: string | null }
  interface El extends Node {
    parentElement: El | null; childNodes: Iterable<Node>; tagName: string;
    closest(selector: string): El | null; getBoundingClientRect(): { width: number; height: number };
  }
  const w = globalThis as unknown as { document: { body: El; querySelectorAll(s: string): Iterable<El> }; getComputedStyle(e: El): Styled };
  const parse = (c: string): [number, number, number, number] => {
    const n = (c.match(/-?[\d.]+/g) ?? []).map(Number);
    // color(srgb r g b / a) is 0..1; rgb()/rgba() is 0..255.
    const scale = c.startsWith('color(') ? 255 : 1;
    return [(n[0] ?? 0) * scale, (n[1] ?? 0) * scale, (n[2] ?? 0) * scale, n[3] ?? 1];
  };
  const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i]! * top[3]! + under[i]! * (1 - top[3]!)).concat(1);
  const lum = (c: number[]) => {
    const ch = (v: number) => { const x = v / 255; return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * ch(c[0]!) + 0.7152 * ch(c[1]!) + 0.0722 * ch(c[2]!);
  };
  /** What is painted behind an element: its backgrounds and its ancestors', down to the first opaque one. */
  const backdrop = (el: El): number[] => {
    const layers: number[][] = [];
    for (let e: El | null = el; e; e = e.parentElement) {
      const bg = parse(w.getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const failures: string[] = [];
  for (const el of w.document.querySelectorAll('body *')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && (n.textContent ?? '').trim()).map((n) => n.textContent!.trim()).join(' ');
    if (!own || ['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName)) continue;
    if (el.closest('.tile, .preview-frame, .sr-only, :disabled, [hidden]')) continue;
    const box = el.getBoundingClientRect();
    const style = w.getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility !== 'visible') continue;
    const bg = backdrop(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a) as [number, number];
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) failures.push(`"${own.slice(0, 40)}" ${style.color} on ${bg.map(Math.round).join(',')}: ${ratio.toFixed(2)}`);
  }
  return failures;
}

describe('one look for link pages and the room', () => {
  it('a cancelled meeting: the link page and the room\'s page share stylesheet, tokens and words, light and dark', async () => {
    const m = await meeting();
    await joinRoom(person.page, m.guestUrl);
    expect((await lm('cancelMeeting', { meetingKey: m.key })).body.resultcode).toBe(1);
    await waitState(person.page, 'cancelled');
    await compare(person.page, m.meetingUrl, 'cancelled');
  });

  it('an invitation cancelled during the meeting: said once in the room, and on its link page', async () => {
    const m = await meeting();
    await joinRoom(person.page, m.guestUrl);
    expect((await lm('cancelParticipant', { meetingKey: m.key, puid: 'guest' })).body.resultcode).toBe(1);
    await waitState(person.page, 'invitation_cancelled');
    await compare(person.page, m.guestUrl, 'invitation_cancelled');
  });

  it('an unknown link wears the room\'s stylesheet and page colours, light and dark', async () => {
    const page = person.page;
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect((await page.goto(`${t.url}/e/${'Z'.repeat(26)}`))?.status()).toBe(404);
      const unknown = await page.evaluate(readLook);
      // The room's own stylesheet, from the room's build.
      const roomPage = await person.context.newPage();
      try {
        await roomPage.emulateMedia({ colorScheme: scheme });
        await roomPage.goto((await meeting()).guestUrl);
        await roomPage.getByRole('button', { name: 'Join' }).waitFor();
        const room = await roomPage.evaluate(readLook);
        expect(unknown.stylesheets).toEqual(room.stylesheets);
        expect(unknown.page).toEqual(room.page);
        expect(unknown.card).toBeDefined();
      } finally {
        await roomPage.close();
      }
      expect(await repeated(page)).toEqual([]);
    }
  });

  it('invitation choices only on an invitee\'s own link: never on the host\'s', async () => {
    const m = await meeting();
    const page = person.page;
    await page.goto(m.guestUrl);
    await page.getByRole('button', { name: 'Join' }).waitFor();
    expect(await page.getByRole('button', { name: 'Accept' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Decline' }).count()).toBe(1);
    await page.goto(m.hostUrl);
    await page.getByRole('button', { name: 'Join' }).waitFor();
    expect(await page.getByRole('button', { name: /Accept|Decline/ }).count()).toBe(0);
    expect(await page.getByText(/Will you take part/).count()).toBe(0);
  });

  it('text on the link pages, the pre-join screen, the room and its state pages is AA, light and dark', async () => {
    const m = await meeting();
    const page = person.page;
    const check = async (where: string) => {
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        expect(await page.evaluate(contrastFailures), `${where}, ${scheme}`).toEqual([]);
      }
    };
    await page.goto(m.guestUrl);
    await page.getByRole('button', { name: 'Join' }).waitFor();
    await check('pre-join');
    const later = await lm('createMeeting', { meetingKey: `look-later-${seq}`, hostid: 'host', hostnickname: 'Hana Host', title: 'Later', time: `${new Date().getUTCFullYear() + 1}-03-05 14:30:00`, duration: 1 });
    await page.goto(later.body.hostUrl as string);
    await page.locator('main[data-state="countdown"]').waitFor();
    await check('countdown');
    expect(await repeated(page), 'the countdown repeats itself').toEqual([]);
    await joinRoom(page, m.hostUrl);
    await page.getByRole('button', { name: 'Chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Hello');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Hello').first().waitFor();
    await check('room with chat');
    // Devices off: the controls' "off" tone.
    await page.getByRole('button', { name: 'Microphone' }).click();
    await page.locator('.control.off').first().waitFor();
    await check('room with the microphone off');
    expect((await lm('cancelMeeting', { meetingKey: m.key })).body.resultcode).toBe(1);
    await waitState(page, 'cancelled');
    await check('the room\'s cancelled page');
    await page.goto(m.meetingUrl);
    await page.locator('main[data-state="cancelled"]').waitFor();
    await check('the cancelled link page');
  });
});
