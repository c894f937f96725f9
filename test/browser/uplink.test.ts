import { beforeAll, expect, it } from 'vitest';
import { CHROMIUM, inPage, joinRoom, openPerson, type Person } from '../helpers/browser.js';
import { fakeCamera, labForTests, labMeeting } from '../helpers/lab-server.js';
import { eventually } from '../helpers/meeting-bot.js';

// Issue 9, item 1: a publisher's bitrate follows its uplink. The SFU sends transport-wide
// congestion feedback (werift-twcc.ts); Chromium's estimate is built from it: high on a free
// link at once, down when the participant's uplink is held to 600 kbit/s, up again after.
// Without the feedback Chromium starts at 300 kbit/s and creeps up on loss reports alone (measured
// ~1 Mbit/s after 15 s); with werift's own feedback it stayed at 300 kbit/s.

let camera: string;
let person: Person | undefined;

const setup = labForTests('parley-uplink-');
beforeAll(() => {
  // A detailed moving picture, so that the encoder wants more than the limited link carries.
  if (!setup.unavailable) camera = fakeCamera(setup.dir, '960x540', 30);
});

const sending = (p: Person) => p.page.evaluate(inPage.sending);

// One retry, on a fresh page: the 20 s window holds when Chromium's first bandwidth probes (bursts
// measured by their arrival times in our feedback) lift the estimate. On a loaded machine they
// may not (timed in a JS worker, a probe read in one burst after a stall looks implausibly fast):
// measured 2026-12-06, on two busy cores a 1200 kbit/s probe result, then 2000 kbit/s after
// 9.5 s; one CI run stayed at 1137 kbit/s for 20 s. Without our feedback the estimate climbs
// ~8% a second from 300 kbit/s (1236 kbit/s after 20 s), so it fails on both tries.
it('the publisher’s estimate rises on a free uplink, falls to what a limited one carries, and rises again', { retry: 1, timeout: 150_000 }, async (ctx) => {
  if (setup.unavailable) return ctx.skip(true, setup.unavailable);
  const { lab, server } = setup;
  ctx.onTestFinished(async () => {
    await person?.close();
    person = undefined;
    await lab.limitUplink(undefined);
  });
  const { hostUrl: url } = await labMeeting(lab, server, 'Uplink', 'Uma Uplink');
  person = await openPerson({
    executablePath: lab.chromiumIn('client', CHROMIUM),
    args: [`--unsafely-treat-insecure-origin-as-secure=${new URL(server!.url).origin}`, `--use-file-for-fake-video-capture=${camera}`],
  });
  await joinRoom(person.page, url);
  const p = person;
  let last = { estimateKbps: 0, videoBytes: 0, layers: '' };
  const estimate = async () => (last = await sending(p)).estimateKbps;
  const said = () => `estimate ${Math.round(last.estimateKbps)} kbps; layers ${last.layers}`;

  const joined = Date.now();
  expect(await eventually(async () => (await estimate()) >= 2000, 20_000, 500), said()).toBe(true);
  console.log(`free uplink: estimate ${Math.round(last.estimateKbps)} kbps after ${Date.now() - joined} ms; layers ${last.layers}`);

  await lab.limitUplink({ kbit: 600, queueMs: 500 });
  expect(await eventually(async () => (await estimate()) <= 900, 30_000, 500), said()).toBe(true);
  // The video then fits the link: what it sends over a few seconds stays under the limit.
  const before = await sending(p);
  const sentAt = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  const after = await sending(p);
  const kbps = ((after.videoBytes - before.videoBytes) * 8) / (Date.now() - sentAt);
  console.log(`uplink held to 600 kbit/s: estimate ${Math.round(after.estimateKbps)} kbps, video sent at ${Math.round(kbps)} kbps`);
  expect(kbps).toBeLessThan(650);

  await lab.limitUplink(undefined);
  expect(await eventually(async () => (await estimate()) >= 1500, 30_000, 500), said()).toBe(true);
  console.log(`limit lifted: estimate ${Math.round(last.estimateKbps)} kbps`);
});
