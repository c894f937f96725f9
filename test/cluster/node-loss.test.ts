import { describe, expect, it } from 'vitest';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { clusterApi, clusterForTests, type Json, type TestCluster, type TestNode } from './nodes.js';

// A node dies (SIGKILL) with a meeting running on it. Its heartbeat expires (NODE_TTL_SECONDS=2),
// the sweep's lease holder (every 5 s) frees its meetings: the people recorded in them have left,
// and the next join through any node places the meeting on a live node, where people meet again.
// Bound: TTL 2 s + one sweep 5 s + a lease hand-over (up to 11 s when the dead node held the lease)
// ≈ 20 s; the test allows 25 s.
const FREED_WITHIN_MS = 25_000;

let cluster: TestCluster;
let host: BotHost;
const bots: MeetingBot[] = [];
clusterForTests(3, {}, (c, h) => {
  cluster = c;
  host = h;
}, bots);

const api = clusterApi(() => cluster);

describe('losing a node', () => {
  it('frees its meetings: statuses settle and the people meet again on a live node', async () => {
    const asked = cluster.nodes[0]!;
    const m = (await api(asked, 'POST', '/meetings', { title: 'Survivor', host: { externalId: 'h', name: 'Host' } })).body;
    const guest = (await api(asked, 'POST', `/meetings/${m.id}/participants`, { externalId: 'g', name: 'Guest' })).body;
    const hostUrl = ((await api(asked, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[]).find((p) => p.role === 'host')!.joinUrl as string;
    const links = [hostUrl, guest.joinUrl as string];
    const first = await Promise.all(links.map((url, i) => MeetingBot.join(host, asked.url, `before-${i}`, personalLink(url), { audio: false })));
    bots.push(...first);
    const dying = cluster.nodeAt(first[0]!.nodeUrl)!;
    expect(first[1]!.nodeUrl).toBe(dying.url);
    const survivor = cluster.nodes.find((n) => n !== dying)!;
    const people = async () => ((await api(survivor, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[]).map((p) => p.statusCode as number);
    expect(await eventually(async () => JSON.stringify(await people()) === '[10,10]')).toBe(true);

    await cluster.kill(dying);
    // Nobody is connected to a dead node: both have left (11), as any node says.
    expect(await eventually(async () => JSON.stringify(await people()) === '[11,11]', FREED_WITHIN_MS, 250)).toBe(true);

    // Back through the link (as the page does): placed on a live node, together.
    const again = await Promise.all(links.map((url, i) => MeetingBot.join(host, survivor.url, `after-${i}`, personalLink(url), { audio: false })));
    bots.push(...again);
    expect(again[0]!.nodeUrl).not.toBe(dying.url);
    expect(again[1]!.nodeUrl).toBe(again[0]!.nodeUrl);
    expect(await eventually(async () => (await again[0]!.framesFrom(again[1]!.id)) > 0 && (await again[1]!.framesFrom(again[0]!.id)) > 0, 20_000)).toBe(true);
    expect(await eventually(async () => JSON.stringify(await people()) === '[10,10]')).toBe(true);
  }, 90_000);
});
