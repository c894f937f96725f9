import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { audioPackets, framesDecoded, inPage, joinRoom, openPerson } from '../helpers/browser.js';
import { XVFB, type FirefoxPerson, audioPacketsFx, clickButtonFx, framesDecodedFx, joinRoomFx, openFirefox, startXvfb } from '../helpers/firefox.js';
import { basic, post } from '../helpers/http.js';
import { eventually } from '../helpers/meeting-bot.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestMediaService } from '../../src/media/testing.js';

// Firefox (Debian's firefox-esr over WebDriver BiDi) in real meetings, with Chromium and with
// itself: what one publishes, the other decodes. One worker, so both sides meet in one SFU.
let t: TestServer;
let media: TestMediaService;
let acc: AccountCredentials;
const cleanup: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' }, { mediaService: (config, logger) => (media = new TestMediaService(config, logger)) });
  acc = await t.newAccount('firefox');
});
afterEach(async () => {
  // Browsers first (they hold the media), then anything they ran on (Xvfb).
  for (const done of cleanup.splice(0)) await done();
});
afterAll(async () => {
  await t?.close();
});

let seq = 0;
const lm = (method: string, data: Record<string, unknown>) => post<Record<string, string | number>>(`${t.url}/${method}`, data, 'form', basic(acc.accountSid, acc.authToken));
async function meeting() {
  const key = `ff${++seq}`;
  const created = await lm('createMeeting', { meetingKey: key, hostid: 'host', hostnickname: 'Hana Host', title: `Firefox meeting ${seq}` });
  const added = await lm('addParticipant', { meetingKey: key, puid: 'guest', nickname: 'Gus Guest' });
  return { hostUrl: created.body.hostUrl as string, guestUrl: added.body.participantUrl as string };
}

/** One person in either browser, seen through the same few questions. */
interface Side {
  join(url: string): Promise<void>;
  frames(): Promise<number>;
  audio(): Promise<number>;
  /** what this page receives now, by participant and source */
  sources(): Promise<{ participantId: string; source: string }[]>;
  /** how this page lists the people in the room (self included) */
  participants(): Promise<{ id: string; videoMuted?: boolean; screenSharing?: boolean }[]>;
  selfId(): Promise<string | undefined>;
  click(button: string): Promise<void>;
  /** frames encoded so far by each simulcast layer of one of its sources, by rid */
  framesEncoded(source: string): Promise<Record<string, number>>;
}

async function chromiumSide(): Promise<Side> {
  const p = await openPerson();
  cleanup.unshift(() => p.close());
  return {
    join: (url) => joinRoom(p.page, url),
    frames: () => framesDecoded(p.page),
    audio: () => audioPackets(p.page),
    sources: () => p.page.evaluate(inPage.remoteSources),
    participants: () => p.page.evaluate(inPage.participants),
    selfId: () => p.page.evaluate(inPage.selfId),
    click: (name) => p.page.getByRole('button', { name, exact: true }).click(),
    framesEncoded: (source) => p.page.evaluate(inPage.framesEncoded, source),
  };
}

async function firefoxSide(display?: string): Promise<Side & { page: FirefoxPerson['page'] }> {
  const p = await openFirefox({ display });
  cleanup.unshift(() => p.close());
  return {
    page: p.page,
    join: (url) => joinRoomFx(p.page, url),
    frames: () => framesDecodedFx(p.page),
    audio: () => audioPacketsFx(p.page),
    sources: () => p.page.evaluate(inPage.remoteSources),
    participants: () => p.page.evaluate(inPage.participants),
    selfId: () => p.page.evaluate(inPage.selfId),
    click: (name) => clickButtonFx(p.page, name),
    framesEncoded: (source) => p.page.evaluate(inPage.framesEncoded, source),
  };
}

/** `rx` keeps decoding video and receiving audio from the others. */
async function receives(rx: Side): Promise<boolean> {
  const [f0, a0] = [await rx.frames(), await rx.audio()];
  return eventually(async () => (await rx.frames()) > f0 + 20 && (await rx.audio()) > a0 + 50, 20_000, 250);
}

/** Whether `rx` receives `source` from `from` now. */
async function hasSource(rx: Side, from: Side, source: string): Promise<boolean> {
  const id = await from.selfId();
  return (await rx.sources()).some((s) => s.participantId === id && s.source === source);
}

/** How `rx` sees `whom` in its list of people. */
async function seenBy(rx: Side, whom: Side) {
  const id = await whom.selfId();
  return (await rx.participants()).find((p) => p.id === id);
}

/**
 * `sharer` turns its camera off and shares its screen, in two simulcast layers; `viewer` is told
 * so and decodes it. Camera off first: from then on every frame the viewer decodes is the screen.
 */
async function shareReaches(sharer: Side, viewer: Side): Promise<void> {
  expect(await receives(viewer)).toBe(true);
  await sharer.click('Camera');
  expect(await eventually(async () => (await seenBy(viewer, sharer))?.videoMuted === true)).toBe(true);
  await sharer.click('Share screen');
  expect(await eventually(async () => (await seenBy(viewer, sharer))?.screenSharing === true && (await hasSource(viewer, sharer, 'screen')), 20_000)).toBe(true);
  expect(await receives(viewer)).toBe(true);
  // Both layers go out once the sharer's estimate allows (it grows over the first seconds).
  const layers = async () => Object.entries(await sharer.framesEncoded('screen')).filter(([, frames]) => frames > 0).map(([rid]) => rid).sort().join();
  expect(await eventually(async () => (await layers()) === 'f,h', 30_000), await layers()).toBe(true);
}

type IceHooks = { restartIce(): void; publisher(): MarkedPc | undefined; subscriber(): MarkedPc | undefined };
type MarkedPc = { __mark?: true; remoteDescription: { sdp: string } | null };

/**
 * Firefox's two transports: whether they are the ones marked last time (an ICE restart keeps
 * them, a rebuild makes new ones) and the ICE username fragments the server uses on each now.
 */
async function firefoxTransports(page: FirefoxPerson['page']): Promise<{ same: boolean; ufrags: string }> {
  return page.evaluate(() => {
    const h = (globalThis as unknown as { __parley: IceHooks }).__parley;
    const pcs = [h.publisher(), h.subscriber()];
    const same = pcs.every((pc) => pc?.__mark === true);
    for (const pc of pcs) if (pc) pc.__mark = true;
    return { same, ufrags: pcs.map((pc) => /a=ice-ufrag:(\S+)/.exec(pc?.remoteDescription?.sdp ?? '')?.[1] ?? '').join(' ') };
  });
}

describe('Firefox in a meeting', () => {
  it('Firefox and Chromium each decode the other’s camera and receive the other’s microphone', async () => {
    const m = await meeting();
    const fx = await firefoxSide();
    const cr = await chromiumSide();
    await fx.join(m.hostUrl);
    await cr.join(m.guestUrl);
    expect(await receives(cr)).toBe(true);
    expect(await receives(fx)).toBe(true);

    // Each answers the server's probe clusters (numbered padding, transport-cc feedback), with
    // which a subscriber's layers go back up once its link allows (src/media/README.md).
    for (const [name, side] of [['Firefox', fx], ['Chromium', cr]] as const) {
      const peer = media.peerOf((await side.selfId())!);
      expect(peer, name).toBeDefined();
      const outcome = await media.probeSubscriber(peer!, 1_000_000);
      console.log(`${name} probe cluster: ${JSON.stringify(outcome)}`);
      expect(outcome.judged, name).toBeGreaterThanOrEqual(15);
      expect(outcome.answered, `${name}: ${JSON.stringify(outcome)}`).toBeGreaterThanOrEqual(outcome.judged * 0.9);
      expect(outcome.answered - outcome.lost, `${name}: ${JSON.stringify(outcome)}`).toBeGreaterThanOrEqual(outcome.judged * 0.9);
    }
  }, 90_000);

  // Firefox's ICE agent waits for the server to nominate a pair after a restart the server
  // offered (the subscriber transport); werift did not run its checks then (werift-ice.ts, 4).
  it('after an ICE restart Firefox keeps sending and receiving on the same transports', async () => {
    const m = await meeting();
    const fx = await firefoxSide();
    const cr = await chromiumSide();
    await fx.join(m.hostUrl);
    await cr.join(m.guestUrl);
    expect(await receives(fx)).toBe(true);
    const before = await firefoxTransports(fx.page);
    await fx.page.evaluate(() => (globalThis as unknown as { __parley: IceHooks }).__parley.restartIce());
    expect(await eventually(async () => (await firefoxTransports(fx.page)).ufrags.split(' ').every((u, i) => u !== before.ufrags.split(' ')[i]), 10_000)).toBe(true);
    expect(await receives(fx)).toBe(true);
    expect(await receives(cr)).toBe(true);
    expect((await firefoxTransports(fx.page)).same).toBe(true);
  }, 90_000);

  it('two Firefoxes each decode the other’s camera and receive the other’s microphone', async () => {
    const m = await meeting();
    const a = await firefoxSide();
    const b = await firefoxSide();
    await a.join(m.hostUrl);
    await b.join(m.guestUrl);
    expect(await receives(a)).toBe(true);
    expect(await receives(b)).toBe(true);
  }, 90_000);

  // One retry, as the simulcast tests have: in the clean-clone CI run of 2026-12-07 05:42 UTC
  // (Firefox ESR 140.12, load on two cores) Firefox sent only the half layer for the 30 s the
  // full one is waited for; the run before and two local runs passed. Not understood yet.
  it('a screen shared from Firefox reaches Chromium', { retry: 1, timeout: 90_000 }, async (ctx) => {
    const xvfb = await startXvfb();
    if (!xvfb) {
      ctx.skip(true, `${XVFB} is missing (apt-get install xvfb): headless Firefox cannot capture a screen`);
      return;
    }
    cleanup.push(() => xvfb.stop());
    const m = await meeting();
    // A window on the private display: that display is the screen it shares.
    const fx = await firefoxSide(xvfb.display);
    const cr = await chromiumSide();
    await fx.join(m.hostUrl);
    await cr.join(m.guestUrl);
    await shareReaches(fx, cr);
  });

  it('a screen shared from Chromium reaches Firefox', async () => {
    const m = await meeting();
    const cr = await chromiumSide();
    const fx = await firefoxSide();
    await cr.join(m.hostUrl);
    await fx.join(m.guestUrl);
    await shareReaches(cr, fx);
  }, 90_000);
});
