import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { scrape } from '../helpers/metrics.js';
import { clusterApi, TestCluster, type Json } from './nodes.js';

// Three nodes sharing one DATA_DIR (so one DATA_DIR/recordings, as docs/cluster.md asks for
// downloads through any node): every node hears that a recording waits for composition and could
// compose it; the lease keeps it to one composition. The file is then served by every node.

let cluster: TestCluster;
let host: BotHost;
const bots: MeetingBot[] = [];
const shared = mkdtempSync(join(tmpdir(), 'parley-shared-'));

beforeAll(async () => {
  cluster = await TestCluster.start(3, { DATA_DIR: shared });
  host = new BotHost();
}, 90_000);
afterAll(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  await host?.quit();
  await cluster?.stop();
  rmSync(shared, { recursive: true, force: true });
});

const api = clusterApi(() => cluster);

describe('recordings on a shared directory', () => {
  it('are composed once for the cluster and downloaded through any node', async () => {
    const first = cluster.nodes[0]!;
    const m = (await api(first, 'POST', '/meetings', { title: 'Shared', host: { externalId: 'sh', name: 'Host' } })).body;
    const hostUrl = ((await api(first, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[])[0]!.joinUrl as string;
    const bot = await MeetingBot.join(host, first.url, 'shared-host', personalLink(hostUrl), { audio: false });
    bots.push(bot);
    const owner = cluster.nodeAt(bot.nodeUrl)!;
    const other = cluster.nodes.find((n) => n !== owner)!;
    expect(await eventually(async () => (await api(other, 'GET', `/meetings/${m.id}`)).body.status === 'in_progress')).toBe(true);
    const started = await api(other, 'POST', `/meetings/${m.id}/recording/start`);
    expect(started.status).toBe(201);
    expect(await eventually(() => bot.received('recording').some((r) => r.recording))).toBe(true);
    // Some video written: the recording's directory grows on the shared disk.
    const dir = join(shared, 'recordings', started.body.id as string);
    const written = () => (existsSync(dir) ? readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0) : 0);
    expect(await eventually(() => written() > 20_000, 20_000)).toBe(true);
    const stopped = await api(other, 'POST', `/meetings/${m.id}/recording/stop`);
    expect(stopped.status).toBe(200);
    expect((stopped.body.tracks as Json[]).length).toBeGreaterThan(0);
    let rec: Json = {};
    expect(await eventually(async () => {
      rec = (await api(other, 'GET', `/recordings/${started.body.id}`)).body;
      return rec.state === 'ready' || rec.state === 'failed';
    }, 60_000, 500)).toBe(true);
    expect(rec.state).toBe('ready');
    // Each node counts the compositions it began: one for the cluster.
    const begun = await Promise.all(cluster.nodes.map(async (n) => (await scrape(n.url)).sum('parley_recording_compositions_total', {})));
    expect(begun.reduce((a, b) => a + b, 0)).toBe(1);
    const link = await api(other, 'POST', `/recordings/${rec.id}/download`);
    expect(link.status).toBe(200);
    const path = new URL(link.body.url as string);
    for (const node of cluster.nodes) {
      const file = await fetch(`${node.url}${path.pathname}${path.search}`);
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBe(rec.sizeBytes);
    }
  }, 150_000);
});
