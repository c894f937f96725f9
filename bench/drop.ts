// Recovery after a network drop, for the join benchmark: a server and a Chromium in one network
// namespace, a second Chromium behind a veth pair into another (test/helpers/netlab.ts); that
// link goes down for OUTAGE_MS, and we time, from the moment it comes back, until audio packets
// and decoded frames grow again on both pages (both directions).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { audioPackets, CHROMIUM, framesDecoded, joinRoom, openPerson } from '../test/helpers/browser.js';
import { audioPacketsFx, FIREFOX, framesDecodedFx, joinRoomFx, openFirefox } from '../test/helpers/firefox.js';
import { makeNetLab, SERVER_IP } from '../test/helpers/netlab.js';
import { spawnListening, stopSpawned } from '../test/helpers/spawn.js';

const OUTAGE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Flow = () => Promise<{ audio: number; video: number }>;
const chromiumFlow = (page: Page): Flow => async () => ({ audio: await audioPackets(page), video: await framesDecoded(page) });

/** ms from `since` until audio, then video, grow again on both pages (at most 30 s each). */
async function recovery(pages: Flow[], since: number): Promise<{ audioMs: number; videoMs: number; videoEachMs: number[] }> {
  const flow = (f: Flow) => f();
  const start = await Promise.all(pages.map(flow));
  let audioMs = NaN;
  let videoMs = NaN;
  const videoEachMs = pages.map(() => NaN);
  // A counter that went down started again (a receiver replaced, e.g. after a rebuild): all of
  // it is new.
  const grown = (now: number, before: number) => (now >= before ? now - before : now);
  while (Date.now() - since < 30_000 && (Number.isNaN(audioMs) || Number.isNaN(videoMs))) {
    const now = await Promise.all(pages.map(flow));
    now.forEach((f, i) => {
      if (Number.isNaN(videoEachMs[i]!) && grown(f.video, start[i]!.video) > 3) videoEachMs[i] = Date.now() - since;
    });
    if (Number.isNaN(audioMs) && now.every((f, i) => grown(f.audio, start[i]!.audio) > 5)) audioMs = Date.now() - since;
    if (Number.isNaN(videoMs) && now.every((f, i) => grown(f.video, start[i]!.video) > 3)) videoMs = Date.now() - since;
    await sleep(50);
  }
  return { audioMs, videoMs, videoEachMs };
}

/** `guest`: the browser behind the veth whose link drops (the other one is a Chromium). */
export async function measureDrops(rounds: number, guest: 'chromium' | 'firefox' = 'chromium'): Promise<{ outageMs: number; audioMs: number[]; videoMs: number[]; videoSeenByEachMs: number[][] }> {
  const lab = await makeNetLab();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-drop-'));
  const people: { close(): Promise<void> }[] = [];
  const server = await spawnListening(['bin/parley.js', 'serve'], {
    DATA_DIR: dataDir, HOST: SERVER_IP, PORT: '0', LOG_LEVEL: 'warn', MEDIA_WORKERS: '1', RTC_LISTEN_IP: SERVER_IP, ANNOUNCED_IP: SERVER_IP,
  }, [...lab.inServer, process.execPath]);
  try {
    const token = /Bearer:\s+(\S+)/.exec(server.output())![1]!;
    const base = await lab.forward(Number(new URL(server.url).port));
    const api = async (method: string, path: string, body?: unknown) => (await (await fetch(`${base}/api/v1${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read here only
    const m = await api('POST', '/meetings', { title: 'Drop bench', host: { externalId: 'h', name: 'Host' } });
    await api('POST', `/meetings/${m.id}/participants`, { externalId: 'g', name: 'Guest' });
    const list = (await api('GET', `/meetings/${m.id}/participants`)).data as { role: string; joinUrl: string }[];
    const args = [`--unsafely-treat-insecure-origin-as-secure=${new URL(server.url).origin}`];
    const host = await openPerson({ executablePath: lab.chromiumIn('server', CHROMIUM), args });
    people.push(host);
    await joinRoom(host.page, list.find((p) => p.role === 'host')!.joinUrl);
    const guestUrl = list.find((p) => p.role !== 'host')!.joinUrl;
    let guestFlow: Flow;
    if (guest === 'firefox') {
      const fx = await openFirefox({ ...(await lab.firefoxInClient(FIREFOX)), prefs: { 'dom.securecontext.allowlist': SERVER_IP } });
      people.push(fx);
      // BENCH_DROP_LOG=1: what the page says it does (ICE restarts, probes), with times.
      if (process.env.BENCH_DROP_LOG) fx.page.on('console', (m) => console.log(`firefox @${Date.now() % 100_000}: ${m.text()}`));
      await joinRoomFx(fx.page, guestUrl);
      guestFlow = async () => ({ audio: await audioPacketsFx(fx.page), video: await framesDecodedFx(fx.page) });
      if (process.env.BENCH_DROP_LOG) {
        const t = setInterval(() => {
          void fx.page.evaluate(async () => {
            // No DOM types here (type-checked for Node): the page's transports, as used.
            type Pc = { iceConnectionState: string; signalingState: string; getStats(): Promise<Map<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- getStats entries of several types
            const h = (globalThis as unknown as { __parley: { publisher(): Pc | undefined; subscriber(): Pc | undefined } }).__parley;
            const out: string[] = [];
            for (const [name, pc] of [['pub', h.publisher()], ['sub', h.subscriber()]] as const) {
              if (!pc) { out.push(`${name}:none`); continue; }
              let extra = '';
              (await pc.getStats()).forEach((s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any -- getStats entries of several types
                if (s.type === 'outbound-rtp' && s.kind === 'video') extra += ` vOut enc=${s.framesEncoded} pkts=${s.packetsSent} pli=${s.pliCount}`;
                if (s.type === 'inbound-rtp' && s.kind === 'video') extra += ` vIn dec=${s.framesDecoded}`;
                if (s.type === 'candidate-pair' && (s.nominated || s.selected)) extra += ` pair=${s.state}${s.nominated ? 'N' : ''}${s.selected ? 'S' : ''}`;
              });
              out.push(`${name}:${pc.iceConnectionState}/${pc.signalingState}${extra}`);
            }
            return out.join(' | ');
          }).then((x) => console.log(`fxstats @${Date.now() % 100_000}: ${x}`), () => undefined);
        }, 1000);
        people.push({ close: async () => clearInterval(t) });
      }
    } else {
      const p = await openPerson({ executablePath: lab.chromiumIn('client', CHROMIUM), args });
      people.push(p);
      await joinRoom(p.page, guestUrl);
      guestFlow = chromiumFlow(p.page);
    }
    const pages = [chromiumFlow(host.page), guestFlow];
    await recovery(pages, Date.now()); // media flows both ways before the first drop
    const audioMs: number[] = [];
    const videoMs: number[] = [];
    const videoSeenByEachMs: number[][] = [];
    for (let i = 0; i < rounds; i++) {
      await sleep(3_000);
      await lab.linkDown();
      await sleep(OUTAGE_MS);
      await lab.linkUp();
      if (process.env.BENCH_DROP_LOG) console.log(`link up @${Date.now() % 100_000}`);
      const r = await recovery(pages, Date.now());
      audioMs.push(r.audioMs);
      videoMs.push(r.videoMs);
      videoSeenByEachMs.push(r.videoEachMs);
    }
    // videoSeenByEachMs: [the other participant's page, the page behind the veth] per drop.
    return { outageMs: OUTAGE_MS, audioMs, videoMs, videoSeenByEachMs };
  } finally {
    await Promise.all(people.map((p) => p.close()));
    await stopSpawned(server, 'SIGKILL');
    await lab.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
