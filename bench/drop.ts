// Recovery after a network drop, for the join benchmark: a server and a Chromium in one network
// namespace, a second Chromium behind a veth pair into another (test/helpers/netns.ts); that
// link goes down for OUTAGE_MS, and we time, from the moment it comes back, until audio packets
// and decoded frames grow again on both pages (both directions).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { audioPackets, CHROMIUM, framesDecoded, joinRoom, openPerson, type Person } from '../test/helpers/browser.js';
import { makeNetLab, SERVER_IP } from '../test/helpers/netns.js';
import { spawnListening, stopSpawned } from '../test/helpers/spawn.js';

const OUTAGE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flow(page: Page) {
  return { audio: await audioPackets(page), video: await framesDecoded(page) };
}

/** ms from `since` until audio, then video, grow again on both pages (at most 30 s each). */
async function recovery(pages: Page[], since: number): Promise<{ audioMs: number; videoMs: number }> {
  const start = await Promise.all(pages.map(flow));
  let audioMs = NaN;
  let videoMs = NaN;
  while (Date.now() - since < 30_000 && (Number.isNaN(audioMs) || Number.isNaN(videoMs))) {
    const now = await Promise.all(pages.map(flow));
    if (Number.isNaN(audioMs) && now.every((f, i) => f.audio > start[i]!.audio + 5)) audioMs = Date.now() - since;
    if (Number.isNaN(videoMs) && now.every((f, i) => f.video > start[i]!.video + 3)) videoMs = Date.now() - since;
    await sleep(50);
  }
  return { audioMs, videoMs };
}

export async function measureDrops(rounds: number): Promise<{ outageMs: number; audioMs: number[]; videoMs: number[] }> {
  const lab = await makeNetLab();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-drop-'));
  const people: Person[] = [];
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
    for (const where of ['server', 'client'] as const) people.push(await openPerson({ executablePath: lab.chromiumIn(where, CHROMIUM), args }));
    await joinRoom(people[0]!.page, list.find((p) => p.role === 'host')!.joinUrl);
    await joinRoom(people[1]!.page, list.find((p) => p.role !== 'host')!.joinUrl);
    const pages = people.map((p) => p.page);
    await recovery(pages, Date.now()); // media flows both ways before the first drop
    const audioMs: number[] = [];
    const videoMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await sleep(3_000);
      await lab.linkDown();
      await sleep(OUTAGE_MS);
      await lab.linkUp();
      const r = await recovery(pages, Date.now());
      audioMs.push(r.audioMs);
      videoMs.push(r.videoMs);
    }
    return { outageMs: OUTAGE_MS, audioMs, videoMs };
  } finally {
    await Promise.all(people.map((p) => p.close()));
    await stopSpawned(server, 'SIGKILL');
    await lab.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
