import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { framesDecoded, joinRoom, openPerson, roomState, type Person } from '../helpers/browser.js';
import { eventually } from '../helpers/meeting-bot.js';
import { scrape } from '../helpers/metrics.js';
import { clusterApi, TestCluster, type Json, type TestNode } from './nodes.js';

// Two Chromium pages in a meeting on one node of three; that node is killed (SIGKILL). The pages
// find its address refusing them, join again through the page's own server (node-1, which stands
// for the reverse proxy and is drained so that the meeting runs elsewhere), which checks the dead
// node itself and places the meeting on the live one: both are back, seeing each other, without
// a click. Bound: three refused sockets (backoff 0.3 + 0.6 + 1.2 s) + a 1.5 s probe + the join
// and media set-up; the test allows 30 s.
const BACK_WITHIN_MS = 30_000;

let cluster: TestCluster;
const people: Person[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start(3);
}, 90_000);
afterAll(async () => {
  await Promise.all(people.map((p) => p.close()));
  await cluster?.stop();
});

const clusterAnswer = clusterApi(() => cluster);
const api = async (node: TestNode, method: string, path: string, body?: unknown) => (await clusterAnswer(node, method, path, body)).body;

describe('the page when its meeting’s node dies', () => {
  it('joins again through its own server and meets the others on a live node, without a click', async () => {
    const front = cluster.nodes[0]!;
    execFileSync(process.execPath, [new URL('../../bin/parley.js', import.meta.url).pathname, 'drain', '--node', front.id], {
      env: { ...process.env, REDIS_URL: cluster.redis.url },
    });
    expect(await eventually(async () => (await scrape(front.url)).sum('parley_cluster_node_draining', { node: front.id }) === 1)).toBe(true);

    const m = await api(front, 'POST', '/meetings', { title: 'Moving', host: { externalId: 'h', name: 'Hana Host' } });
    await api(front, 'POST', `/meetings/${m.id}/participants`, { externalId: 'g', name: 'Gus Guest' });
    const list = (await api(front, 'GET', `/meetings/${m.id}/participants`)).data as Json[];
    const [host, guest] = [await openPerson(), await openPerson()];
    people.push(host, guest);
    await joinRoom(host.page, list.find((p) => p.role === 'host')!.joinUrl);
    await joinRoom(guest.page, list.find((p) => p.role !== 'host')!.joinUrl);
    const bothDecoding = async (within: number) => {
      const [h0, g0] = [await framesDecoded(host.page), await framesDecoded(guest.page)];
      return eventually(async () => (await framesDecoded(host.page)) > h0 + 10 && (await framesDecoded(guest.page)) > g0 + 10, within, 250);
    };
    expect(await bothDecoding(30_000)).toBe(true);
    const runsOn = async () => (await scrape(front.url)).samples.find((s) => s.name === 'parley_cluster_meeting_node' && s.labels.meeting === m.id)?.labels.node;
    const first = await runsOn();
    expect(first === 'node-2' || first === 'node-3').toBe(true);

    await cluster.kill(cluster.nodes.find((n) => n.id === first)!);
    expect(await eventually(async () => (await roomState(host.page)) === 'room' && (await roomState(guest.page)) === 'room'
      && (await bothDecoding(2_000)), BACK_WITHIN_MS, 250)).toBe(true);
    const now = await runsOn();
    expect(now).not.toBe(first);
    expect(now).not.toBe(front.id);
  }, 150_000);
});
