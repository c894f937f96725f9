import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it); Playwright's own download is not reachable here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Flags measured on this machine (DEVELOPERS.md): fake camera and microphone, no permission
// prompts, candidates on loopback, real IPs instead of mDNS names, and no background traffic.
const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

/** A person's window unless a test sets another. */
const VIEWPORT = { width: 1024, height: 700 };

export interface Person {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * One person = one Chromium with its own profile (own camera, own storage). `executablePath`:
 * e.g. a wrapper that starts it in a network namespace (helpers/netns.ts, helpers/netlab.ts); `args` are added.
 */
export async function openPerson(opts: { executablePath?: string; args?: string[] } = {}): Promise<Person> {
  return launchPerson({ executablePath: opts.executablePath ?? CHROMIUM, args: [...ARGS, ...(opts.args ?? [])], viewport: VIEWPORT });
}

/** A Chromium with its own temporary profile, removed on close. */
async function launchPerson(options: BrowserContextOptions & { executablePath: string; args: string[] }): Promise<Person> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { ...options, headless: false });
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Several people in one Chromium, each in a context of its own (own cookies, storage and window,
 * so every page is visible), sharing the browser's processes: its capture, audio, GPU and network
 * services took about a quarter of a core per browser in a four-person meeting on two cores.
 */
export async function openPeople(count: number, opts: { executablePath?: string; args?: string[]; viewport?: { width: number; height: number } } = {}): Promise<Person[]> {
  const browser = await chromium.launch({ executablePath: opts.executablePath ?? CHROMIUM, args: [...ARGS, ...(opts.args ?? [])], headless: false });
  const open = new Set<BrowserContext>();
  const people: Person[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const context = await browser.newContext({ viewport: opts.viewport ?? VIEWPORT });
      open.add(context);
      const page = await context.newPage();
      people.push({
        context,
        page,
        async close() {
          if (!open.delete(context)) return;
          await context.close().catch(() => undefined);
          if (open.size === 0) await browser.close().catch(() => undefined);
        },
      });
    }
  } catch (error) {
    await browser.close().catch(() => undefined);
    throw error;
  }
  return people;
}

/** What the room exposes to tests on window.__parley (see src/web). Typed here without the DOM lib. */
interface Stat {
  type: string; id: string; kind?: string; framesDecoded?: number; packetsReceived?: number; framesEncoded?: number; codecId?: string; mimeType?: string;
  selectedCandidatePairId?: string; availableOutgoingBitrate?: number; bytesSent?: number; rid?: string; frameHeight?: number; qualityLimitationReason?: string; targetBitrate?: number;
}
interface StatsReport { forEach(cb: (s: Stat) => void): void }
interface PeerConnectionLike { getStats(): Promise<StatsReport> }
export interface RoomHooks {
  state(): string;
  selfId(): string | undefined;
  participants(): { id: string; name: string; videoMuted?: boolean; screenSharing?: boolean; reconnecting?: boolean }[];
  remoteSources(): { participantId: string; source: string }[];
  publisher(): PeerConnectionLike | undefined;
  subscriber(): PeerConnectionLike | undefined;
  sender(source: string): PeerConnectionLike | undefined;
  dropSocket(): void;
}

/**
 * Functions that run inside the room's page, shared by the Chromium (Playwright) and the
 * Firefox (Puppeteer) helpers: both drivers serialize a function and call it with one argument.
 */
export const inPage = {
  state: (): string | undefined => (globalThis as unknown as { __parley?: RoomHooks }).__parley?.state(),
  selfId: (): string | undefined => (globalThis as unknown as { __parley?: RoomHooks }).__parley?.selfId(),
  participants: () => (globalThis as unknown as { __parley?: RoomHooks }).__parley?.participants() ?? [],
  /** What the page receives from the others now, by participant and source. */
  remoteSources: (): { participantId: string; source: string }[] => (globalThis as unknown as { __parley?: RoomHooks }).__parley?.remoteSources() ?? [],
  /** Counters summed over the subscriber transport's inbound streams of one kind (audio, video). */
  inbound: async (kind: string): Promise<{ framesDecoded: number; packetsReceived: number }> => {
    const pc = (globalThis as unknown as { __parley?: RoomHooks }).__parley?.subscriber();
    const sum = { framesDecoded: 0, packetsReceived: 0 };
    if (!pc) return sum;
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== kind) return;
      sum.framesDecoded += s.framesDecoded ?? 0;
      sum.packetsReceived += s.packetsReceived ?? 0;
    });
    return sum;
  },
  /**
   * The publisher's bandwidth estimate, what its video sent so far (bytes), and each layer it
   * sends: rid, height, target rate and what limits it (a failed test says why layers are missing).
   */
  sending: async (): Promise<{ estimateKbps: number; videoBytes: number; layers: string }> => {
    const pc = (globalThis as unknown as { __parley?: RoomHooks }).__parley?.publisher();
    let bytes = 0;
    const layers: string[] = [];
    // The pair the transport sends on; a nominated one may be another (seen: no estimate on it).
    const pairs = new Map<string, number>();
    let selected: string | undefined;
    (await pc?.getStats())?.forEach((s) => {
      if (s.type === 'candidate-pair' && s.availableOutgoingBitrate !== undefined) pairs.set(s.id, s.availableOutgoingBitrate);
      if (s.type === 'transport') selected = s.selectedCandidatePairId;
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        bytes += s.bytesSent ?? 0;
        layers.push(`${s.rid}:${s.frameHeight ?? 0}p ${Math.round((s.targetBitrate ?? 0) / 1000)}kbps ${s.qualityLimitationReason}`);
      }
    });
    const estimate = (selected === undefined ? undefined : pairs.get(selected)) ?? Math.max(0, ...pairs.values());
    return { estimateKbps: estimate / 1000, videoBytes: bytes, layers: layers.sort().join(', ') };
  },
  /** Frames encoded so far by each simulcast layer of one source (camera, screen), by rid. */
  framesEncoded: async (source: string): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    (await (globalThis as unknown as { __parley?: RoomHooks }).__parley?.sender(source)?.getStats())?.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.rid !== undefined) out[s.rid] = s.framesEncoded ?? 0;
    });
    return out;
  },
  /**
   * The video streams of one transport (inbound on the subscriber, outbound on the publisher)
   * with the codec each uses now (its `codecId` → the codec's mimeType) and its frame count.
   */
  videoCodecs: async (transport: string): Promise<{ id: string; mimeType: string; frames: number }[]> => {
    const hooks = (globalThis as unknown as { __parley?: RoomHooks }).__parley;
    const pc = transport === 'publisher' ? hooks?.publisher() : hooks?.subscriber();
    if (!pc) return [];
    const report = await pc.getStats();
    const codecs = new Map<string, string>();
    report.forEach((s) => {
      if (s.type === 'codec' && s.mimeType) codecs.set(s.id, s.mimeType);
    });
    const out: { id: string; mimeType: string; frames: number }[] = [];
    report.forEach((s) => {
      const type = transport === 'publisher' ? 'outbound-rtp' : 'inbound-rtp';
      if (s.type !== type || s.kind !== 'video' || !s.codecId) return;
      out.push({ id: s.id, mimeType: codecs.get(s.codecId) ?? '?', frames: (transport === 'publisher' ? s.framesEncoded : s.framesDecoded) ?? 0 });
    });
    return out;
  },
};

/** The room's state, as the app reports it. */
export const roomState = (page: Page) => page.evaluate(inPage.state);

/** Opens a link and joins through the pre-join screen (a name if the page asks for one). */
export async function joinRoom(page: Page, url: string, name?: string): Promise<void> {
  await page.goto(url);
  if (name) await page.getByLabel(/name/i).fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await waitForRoom(page);
}

/** Waits until the page is in the room; if it never gets there, says where it stayed and what it shows. */
export async function waitForRoom(page: Page): Promise<void> {
  try {
    await page.waitForFunction(() => (globalThis as unknown as { __parley?: RoomHooks }).__parley?.state() === 'room', undefined, { timeout: 20_000 });
  } catch (err) {
    const state = await page.evaluate(inPage.state).catch(() => 'unknown');
    const text = await page.locator('body').innerText().catch(() => '');
    throw new Error(`not in the room after 20 s: state ${state}, page shows ${JSON.stringify(text.replace(/\s+/g, ' ').slice(0, 300))}`, { cause: err });
  }
}

/** Video frames decoded so far from everyone else (subscriber transport's inbound video). */
export async function framesDecoded(page: Page): Promise<number> {
  return (await page.evaluate(inPage.inbound, 'video')).framesDecoded;
}

/** Audio packets received so far from everyone else (subscriber transport's inbound audio). */
export async function audioPackets(page: Page): Promise<number> {
  return (await page.evaluate(inPage.inbound, 'audio')).packetsReceived;
}

/**
 * One person on an emulated phone (playwright-core's `devices['Pixel 7']` and the like:
 * viewport, scale, touch, mobile user agent), otherwise as openPerson.
 */
export async function openPhone(device: BrowserContextOptions): Promise<Person> {
  return launchPerson({ ...device, executablePath: CHROMIUM, args: ARGS });
}
