import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/core/index.js';
import { TestMediaService } from '../../src/media/testing.js';
import type { RoomLink } from '../../src/protocol/messages.js';
import { nativeApi } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { scrape } from '../helpers/metrics.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// /metrics follows a real meeting: bots join through the join API and WebSocket, publish audio
// and video through the media worker, and leave. Loopback only.
let t: TestServer;
let media: TestMediaService;
let host: BotHost;
let acc: AccountCredentials;
const bots: MeetingBot[] = [];

beforeAll(async () => {
  t = await startTestServer({ MEDIA_WORKERS: '1' }, { mediaService: (config, logger) => (media = new TestMediaService(config, logger)) });
  host = new BotHost();
  acc = await t.newAccount('metrics');
});
afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await t?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers read in assertions
const api = nativeApi(() => t, () => acc.apiToken);
const personal = personalLink;

it('meetings, participants, tracks, packets and bytes move when people join, and fall back when they leave', async () => {
  const idle = await scrape(t.url);
  expect(idle.sum('parley_meetings_live')).toBe(0);
  expect(idle.sum('parley_participants_seated')).toBe(0);
  expect(idle.sum('parley_media_worker_alive')).toBe(1);
  expect(idle.sum('parley_media_tracks_forwarded')).toBe(0);

  const m = (await api('POST', '/meetings', { host: { externalId: 'host', name: 'Host' } })).body as Json;
  await api('POST', `/meetings/${m.id}/participants`, { externalId: 'p1', name: 'P1' });
  const people = (await api('GET', `/meetings/${m.id}/participants`)).body.data as Json[];
  for (const [i, p] of people.entries()) bots.push(await MeetingBot.join(host, t.url, `metrics-${i}`, personal(p.joinUrl as string)));

  // Two people each publish audio and video, each receives the other’s two tracks.
  expect(await eventually(async () => {
    const s = await scrape(t.url);
    return s.sum('parley_meetings_live') === 1 && s.sum('parley_participants_connected') === 2
      && s.sum('parley_participants_seated') === 2 && s.sum('parley_rooms_open') === 1
      && s.sum('parley_media_tracks_published') === 4 && s.sum('parley_media_tracks_forwarded') === 4;
  }, 30_000)).toBe(true);

  // Packets and bytes flow both ways, and keep counting.
  const first = await scrape(t.url);
  const inbound = first.sum('parley_media_rtp_packets_total', { direction: 'in' });
  const outbound = first.sum('parley_media_rtp_packets_total', { direction: 'out' });
  expect(await eventually(async () => {
    const s = await scrape(t.url);
    return s.sum('parley_media_rtp_packets_total', { direction: 'in' }) > inbound && s.sum('parley_media_rtp_packets_total', { direction: 'out' }) > outbound
      && s.sum('parley_media_rtp_bytes_total', { direction: 'out' }) > 0 && s.sum('parley_media_worker_event_loop_active_seconds_total') > 0;
  })).toBe(true);
  const running = await scrape(t.url);
  expect(running.samples.some((s) => s.name === 'parley_media_rtp_packets_lost_total' && s.labels.worker === '0')).toBe(true);
  expect(running.samples.some((s) => s.name === 'parley_media_worker_cpu_seconds_total')).toBe(true);
  if (process.platform === 'linux') expect(running.samples.some((s) => s.name === 'parley_media_udp_receive_drops_total')).toBe(true);
  for (const name of ['parley_media_rtp_packets_resent_total', 'parley_media_rtp_resends_missing_total']) {
    expect(running.samples.some((s) => s.name === name && s.labels.worker === '0')).toBe(true);
  }
  const elu = running.sum('parley_media_worker_event_loop_utilization');
  expect(elu).toBeGreaterThanOrEqual(0);
  expect(elu).toBeLessThanOrEqual(1);

  // The worker's thread stops for 600 ms (as in a long garbage collection): one stall more, and
  // at least that long. (Others may come from this machine's own load.)
  const stalls = running.sum('parley_media_worker_stalls_total');
  const stalled = running.sum('parley_media_worker_stalled_seconds_total');
  await media.stallWorker(m.id as string, 600);
  const after = await scrape(t.url);
  expect(after.sum('parley_media_worker_stalls_total')).toBeGreaterThanOrEqual(stalls + 1);
  expect(after.sum('parley_media_worker_stalled_seconds_total')).toBeGreaterThanOrEqual(stalled + 0.6);

  // Both leave (a dropped socket would keep its seat for the resume window): the room empties,
  // the tracks go.
  await Promise.all(bots.splice(0).map((b) => b.leave()));
  expect(await eventually(async () => {
    const s = await scrape(t.url);
    return s.sum('parley_participants_seated') === 0 && s.sum('parley_participants_connected') === 0
      && s.sum('parley_media_tracks_published') === 0 && s.sum('parley_media_tracks_forwarded') === 0;
  })).toBe(true);
});
