import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, joinRoom, openPerson, type Person } from '../helpers/browser.js';
import { fakeCamera, labApi, startLabServer, type Json } from '../helpers/lab-server.js';
import { eventually } from '../helpers/meeting-bot.js';
import { makeNetLab, type NetLab } from '../helpers/netlab.js';
import { namespacesUnavailable } from '../helpers/netns.js';
import { stopSpawned, type Spawned } from '../helpers/spawn.js';

// Issue 9, item 1: a publisher's bitrate follows its uplink. The SFU sends transport-wide
// congestion feedback (werift-twcc.ts); Chromium's estimate is built from it: high on a free
// link at once, down when the participant's uplink is held to 600 kbit/s, up again after.
// Without the feedback Chromium starts at 300 kbit/s and creeps up on loss reports alone (measured
// ~1 Mbit/s after 15 s); with werift's own feedback it stayed at 300 kbit/s.

let lab: NetLab;
let server: Spawned | undefined;
let dir: string;
let camera: string;
let person: Person | undefined;

// Skipped where namespaces cannot be made (not root); CI runs as root.
const unavailable = namespacesUnavailable();

beforeAll(async () => {
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), 'parley-uplink-'));
  // A detailed moving picture, so that the encoder wants more than the limited link carries.
  camera = fakeCamera(dir, '960x540', 30);
  lab = await makeNetLab();
  server = await startLabServer(lab, join(dir, 'data'));
}, 60_000);
afterAll(async () => {
  await person?.close();
  if (server) await stopSpawned(server, 'SIGKILL');
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The publisher's bandwidth estimate and what its video sent so far (bytes), from its stats. */
async function sending(p: Person): Promise<{ estimateKbps: number; videoBytes: number }> {
  return p.page.evaluate(async () => {
    type Stat = { type: string; kind?: string; nominated?: boolean; state?: string; availableOutgoingBitrate?: number; bytesSent?: number };
    const pc = (globalThis as unknown as { __parley: { publisher(): { getStats(): Promise<{ forEach(cb: (s: Stat) => void): void }> } | undefined } }).__parley.publisher();
    let estimate = 0;
    let bytes = 0;
    (await pc?.getStats())?.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') estimate = s.availableOutgoingBitrate ?? 0;
      if (s.type === 'outbound-rtp' && s.kind === 'video') bytes += s.bytesSent ?? 0;
    });
    return { estimateKbps: estimate / 1000, videoBytes: bytes };
  });
}

it('the publisher’s estimate rises on a free uplink, falls to what a limited one carries, and rises again', async (ctx) => {
  if (unavailable) return ctx.skip(true, unavailable);
  const api = await labApi(lab, server!);
  const m = await api('POST', '/meetings', { title: 'Uplink', host: { externalId: 'h', name: 'Uma Uplink' } });
  const url = ((await api('GET', `/meetings/${m.id}/participants`)).data as Json[])[0]!.joinUrl as string;
  person = await openPerson({
    executablePath: lab.chromiumIn('client', CHROMIUM),
    args: [`--unsafely-treat-insecure-origin-as-secure=${new URL(server!.url).origin}`, `--use-file-for-fake-video-capture=${camera}`],
  });
  await joinRoom(person.page, url);
  const p = person;
  let last = { estimateKbps: 0, videoBytes: 0 };
  const estimate = async () => (last = await sending(p)).estimateKbps;

  expect(await eventually(async () => (await estimate()) >= 2000, 20_000, 500), `estimate ${last.estimateKbps} kbps`).toBe(true);
  console.log(`free uplink: estimate ${Math.round(last.estimateKbps)} kbps`);

  await lab.limitUplink({ kbit: 600, queueMs: 500 });
  expect(await eventually(async () => (await estimate()) <= 900, 30_000, 500), `estimate ${last.estimateKbps} kbps`).toBe(true);
  // The video then fits the link: what it sends over a few seconds stays under the limit.
  const before = await sending(p);
  const sentAt = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  const after = await sending(p);
  const kbps = ((after.videoBytes - before.videoBytes) * 8) / (Date.now() - sentAt);
  console.log(`uplink held to 600 kbit/s: estimate ${Math.round(after.estimateKbps)} kbps, video sent at ${Math.round(kbps)} kbps`);
  expect(kbps).toBeLessThan(650);

  await lab.limitUplink(undefined);
  expect(await eventually(async () => (await estimate()) >= 1500, 30_000, 500), `estimate ${last.estimateKbps} kbps`).toBe(true);
  console.log(`limit lifted: estimate ${Math.round(last.estimateKbps)} kbps`);
}, 150_000);
