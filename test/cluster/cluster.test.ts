import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { JoinRefusal, JoinResponse, RoomLink } from '../../src/protocol/messages.js';
import { send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { scrape } from '../helpers/metrics.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { clusterApi, clusterForTests, type Json, type TestCluster, type TestNode } from './nodes.js';

// Three `parley serve` processes on loopback ports sharing one PostgreSQL and one Redis: any node
// answers, meetings spread over the nodes, limits hold for the cluster.

let cluster: TestCluster;
let host: BotHost;
const bots: MeetingBot[] = [];
clusterForTests(3, { WEBHOOK_POLL_SECONDS: '1' }, (c, h) => {
  cluster = c;
  host = h;
}, bots);

const api = clusterApi(() => cluster);
const joinReq = (node: TestNode, body: Record<string, unknown>) => send<JoinResponse & JoinRefusal>(`${node.url}/rtc/join`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const publicLink = (m: Json): RoomLink => ({ kind: 'public', code: (m.links.meeting as string).split('/').pop()! });
const [n1, n2, n3] = [0, 1, 2].map((i) => () => cluster.nodes[i]!);
/** The address of the node a bot's socket went to (its join answer's nodeUrl). */
const roomOf = (bot: MeetingBot) => bot.nodeUrl;

describe('a cluster of three nodes', () => {
  it('answers the API the same on every node', async () => {
    const created = await api(n1(), 'POST', '/meetings', { title: 'Everywhere', host: { externalId: 'h', name: 'Host' } });
    expect(created.status).toBe(201);
    const answers = await Promise.all(cluster.nodes.map((n) => api(n, 'GET', `/meetings/${created.body.id}`)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual(answers[0]!.body);
    }
    expect(answers[0]!.body.title).toBe('Everywhere');
  });

  it('places new meetings on different nodes, whichever node is asked', async () => {
    const nodes = new Set<string | undefined>();
    for (let i = 0; i < 3; i++) {
      const m = (await api(n1(), 'POST', '/meetings', { title: `Spread ${i}` })).body;
      const joined = await joinReq(n1(), { link: publicLink(m), name: `Guest ${i}` });
      expect(joined.status).toBe(200);
      nodes.add(cluster.nodeAt(joined.body.nodeUrl)?.id);
      // The same meeting asked through another node: the same place.
      const again = await joinReq(n3(), { link: publicLink(m), name: `Other ${i}` });
      expect(again.body.nodeUrl).toBe(joined.body.nodeUrl);
    }
    expect([...nodes].sort()).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('brings people who open the link through different nodes into one room', async () => {
    const m = (await api(n2(), 'POST', '/meetings', { title: 'Together', host: { externalId: 'th', name: 'Host' } })).body;
    const people = (await api(n2(), 'GET', `/meetings/${m.id}/participants`)).body.data as Json[];
    const guests = await Promise.all(['a', 'b'].map(async (x) => (await api(n2(), 'POST', `/meetings/${m.id}/participants`, { externalId: `t${x}`, name: `Guest ${x}` })).body));
    const links = [people.find((p) => p.role === 'host')!.joinUrl as string, ...guests.map((g) => g.joinUrl as string)];
    for (const [i, url] of links.entries()) {
      bots.push(await MeetingBot.join(host, cluster.nodes[i]!.url, `together-${i}`, personalLink(url), { audio: false }));
    }
    const [first, second, third] = bots.slice(-3) as [MeetingBot, MeetingBot, MeetingBot];
    // Everyone sees the camera of everyone else: one room on one node.
    expect(await eventually(async () => (await first.framesFrom(third.id)) > 0 && (await third.framesFrom(first.id)) > 0
      && (await second.framesFrom(first.id)) > 0, 30_000)).toBe(true);
    const status = await Promise.all(cluster.nodes.map(async (n) => (await api(n, 'GET', `/meetings/${m.id}`)).body.status));
    expect(new Set(status).size).toBe(1);
  }, 60_000);

  it('holds the wrong-PIN limit across nodes', async () => {
    const m = (await api(n1(), 'POST', '/meetings', { access: { mode: 'restricted', pin: true }, pin: '424242' })).body;
    // Five wrong PINs from one address, spread over the three nodes (the per-address limit is 5).
    for (let i = 0; i < 5; i++) {
      const wrong = await joinReq(cluster.nodes[i % 3]!, { link: publicLink(m), name: 'Mallory', pin: String(100000 + i) });
      expect(wrong.status).toBe(401);
    }
    for (const node of cluster.nodes) {
      const limited = await joinReq(node, { link: publicLink(m), name: 'Mallory', pin: '424242' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
    }
  });

  it('shows every node and where each meeting runs in /metrics, the same on every node', async () => {
    const seated = bots.filter((b) => b.welcome && !b.closed);
    expect(seated.length).toBeGreaterThan(0);
    for (const node of cluster.nodes) {
      const m = await scrape(node.url);
      expect(m.samples.filter((x) => x.name === 'parley_cluster_node_up').map((x) => x.labels.node).sort()).toEqual(['node-1', 'node-2', 'node-3']);
      expect(m.samples.find((x) => x.name === 'parley_cluster_node_up' && x.labels.node === 'node-2')?.labels.url).toBe(n2().url);
      const placed = m.samples.filter((x) => x.name === 'parley_cluster_meeting_node').map((x) => x.labels.node);
      expect(placed.length).toBeGreaterThan(0);
      // The bots' meetings run where their sockets went.
      for (const bot of seated) expect(placed).toContain(cluster.nodeAt(bot.nodeUrl)!.id);
    }
  });

  it('parley drain takes a node out of placement until taken back', async () => {
    const cli = (...args: string[]) => execFileSync(process.execPath, [new URL('../../bin/parley.js', import.meta.url).pathname, 'drain', ...args], {
      env: { ...process.env, REDIS_URL: cluster.redis.url }, encoding: 'utf8',
    });
    expect(cli('--node', 'node-3')).toMatch(/node-3 takes no new meetings/);
    const draining = async () => (await scrape(n1().url)).sum('parley_cluster_node_draining', { node: 'node-3' });
    expect(await eventually(async () => (await draining()) === 1)).toBe(true);
    for (let i = 0; i < 4; i++) {
      const m = (await api(n3(), 'POST', '/meetings', { title: `Drained ${i}` })).body;
      const joined = await joinReq(n3(), { link: publicLink(m), name: `Guest ${i}` });
      expect(joined.status).toBe(200);
      expect(cluster.nodeAt(joined.body.nodeUrl)?.id).not.toBe('node-3');
    }
    cli('--node', 'node-3', '--off');
    expect(await eventually(async () => (await draining()) === 0)).toBe(true);
  });

  it('sends each webhook delivery once, whichever nodes compete for it', async () => {
    const receiver = new WebhookReceiver();
    try {
      const hook = (await api(n1(), 'POST', '/webhooks', { url: await receiver.listen() })).body;
      receiver.secret = hook.secret as string;
      // Queued through every node; every node's worker hears of each at once and tries to claim it.
      const queued = await Promise.all(Array.from({ length: 30 }, (_, i) => api(cluster.nodes[i % 3]!, 'POST', `/webhooks/${hook.id}/ping`)));
      expect(queued.every((q) => q.status === 202)).toBe(true);
      const delivered = async () => (await api(n2(), 'GET', `/webhooks/${hook.id}/deliveries?state=delivered&limit=100`)).body.data as Json[];
      expect(await eventually(async () => (await delivered()).length === 30, 20_000)).toBe(true);
      // Once all are recorded delivered nothing can claim them again: what arrived is final.
      const ids = receiver.received.map((r) => r.event.id as string);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  // Last: it stops the service for the whole cluster.
  it('stops media on every node when the service is stopped through one, and starts it again', async () => {
    const m = (await api(n1(), 'POST', '/meetings', { title: 'Stopped', host: { externalId: 'sh', name: 'Host' } })).body;
    const hostUrl = ((await api(n1(), 'GET', `/meetings/${m.id}/participants`)).body.data as Json[])[0]!.joinUrl as string;
    const bot = await MeetingBot.join(host, n1().url, 'stopped-host', personalLink(hostUrl), { audio: false });
    bots.push(bot);
    const room = cluster.nodeAt(roomOf(bot))!;
    expect(room).toBeDefined();
    const other = cluster.nodes.find((n) => n !== room)!;
    const stopped = await api(other, 'POST', '/service', { action: 'stop' });
    expect(stopped.status).toBe(200);
    // The room on another node closes for this reason, and every node's media is down.
    expect(await eventually(() => bot.closed?.state === 'service_stopped', 10_000)).toBe(true);
    expect(await eventually(async () => {
      const all = await Promise.all(cluster.nodes.map(async (n) => (await api(n, 'GET', '/service')).body));
      return all.every((s) => s.running === false && s.media?.state === 'stopped');
    }, 10_000)).toBe(true);
    expect((await api(other, 'POST', '/service', { action: 'start' })).status).toBe(200);
    expect(await eventually(async () => {
      const all = await Promise.all(cluster.nodes.map(async (n) => (await api(n, 'GET', '/service')).body));
      return all.every((s) => s.running === true && s.media?.state === 'running');
    }, 10_000)).toBe(true);
  }, 40_000);
});
