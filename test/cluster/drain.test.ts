import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { JoinResponse, RoomLink } from '../../src/protocol/messages.js';
import { send } from '../helpers/http.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { clusterApi, clusterForTests, type Json, type TestCluster, type TestNode } from './nodes.js';

// SIGTERM on a node of a cluster drains it: no new meeting there, the running ones go on, and the
// process exits once they end, or at the end of its grace period (DRAIN_GRACE_SECONDS). The
// operator's view (GET /api/v1/admin/nodes) shows it.

let cluster: TestCluster;
let host: BotHost;
const bots: MeetingBot[] = [];
clusterForTests(2, { DRAIN_GRACE_SECONDS: '600' }, (c, h) => {
  cluster = c;
  host = h;
}, bots);

const api = clusterApi(() => cluster);
const nodesSeenBy = async (node: TestNode) => {
  const r = await api(node, 'GET', '/admin/nodes', undefined, cluster.adminToken);
  expect(r.status).toBe(200);
  return r.body;
};
const joinReq = (node: TestNode, link: RoomLink) => send<JoinResponse>(`${node.url}/rtc/join`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link, name: 'Newcomer' }),
});
const publicLink = (m: Json): RoomLink => ({ kind: 'public', code: (m.links.meeting as string).split('/').pop()! });
const exited = (node: TestNode) => node.child.exitCode !== null || node.child.signalCode !== null;
const cli = (...args: string[]) => execFileSync(process.execPath, [new URL('../../bin/parley.js', import.meta.url).pathname, 'drain', ...args], {
  env: { ...process.env, REDIS_URL: cluster.redis.url }, encoding: 'utf8',
});

/** A meeting with a host and a guest in it (their links); the host's bot joined through `via`. */
async function meetingWithHost(via: TestNode, title: string) {
  const m = (await api(via, 'POST', '/meetings', { title, host: { externalId: `${title}-h`, name: 'Host' } })).body;
  const hostUrl = ((await api(via, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[])[0]!.joinUrl as string;
  const guest = (await api(via, 'POST', `/meetings/${m.id}/participants`, { externalId: `${title}-g`, name: 'Guest' })).body;
  const bot = await MeetingBot.join(host, via.url, `${title}-host`, personalLink(hostUrl), { audio: false });
  bots.push(bot);
  return { m, bot, guestUrl: guest.joinUrl as string };
}

describe('SIGTERM on a node of a cluster', () => {
  it('the operator sees every node and where each meeting runs, the same on every node', async () => {
    const { m, bot } = await meetingWithHost(cluster.nodes[0]!, 'seen');
    const owner = cluster.nodeAt(bot.nodeUrl)!;
    let views: Json[] = [];
    expect(await eventually(async () => {
      views = await Promise.all(cluster.nodes.map(nodesSeenBy));
      return views.every((v) => (v.data as Json[]).find((n) => n.id === owner.id)?.meetings.some((x: Json) => x.id === m.id));
    })).toBe(true);
    for (const v of views) {
      expect(v.clustered).toBe(true);
      expect((v.data as Json[]).map((n) => [n.id, n.url, n.state])).toEqual(cluster.nodes.map((n) => [n.id, n.url, 'live']));
    }
    await bot.leave();
  }, 60_000);

  it('drains: no new meeting there, the running one goes on, and the process exits when it ends', async () => {
    const { m, bot, guestUrl } = await meetingWithHost(cluster.nodes[0]!, 'running');
    const draining = cluster.nodeAt(bot.nodeUrl)!;
    const other = cluster.nodes.find((n) => n !== draining)!;
    draining.child.kill('SIGTERM');
    expect(await eventually(async () => ((await nodesSeenBy(other)).data as Json[]).find((n) => n.id === draining.id)?.state === 'draining')).toBe(true);
    // New meetings go elsewhere, even when asked through the draining node itself.
    for (let i = 0; i < 3; i++) {
      const fresh = (await api(draining, 'POST', '/meetings', { title: `after-${i}` })).body;
      const joined = await joinReq(draining, publicLink(fresh));
      expect(joined.status).toBe(200);
      expect(joined.body.nodeUrl).toBe(other.url);
    }
    // The running meeting goes on there: someone else joins it (through the other node) and
    // sees the host.
    const guest = await MeetingBot.join(host, other.url, 'running-guest', personalLink(guestUrl), { audio: false });
    bots.push(guest);
    expect(guest.nodeUrl).toBe(draining.url);
    expect(await eventually(async () => (await guest.framesFrom(bot.id)) > 0, 20_000)).toBe(true);
    expect(exited(draining)).toBe(false);
    // It ends (both leave): the node stops by itself, cleanly.
    await Promise.all([bot.leave(), guest.leave()]);
    expect(await eventually(() => exited(draining), 30_000, 250)).toBe(true);
    expect(draining.child.exitCode).toBe(0);
    // Its meeting stays as it was: no end for everyone was recorded.
    expect((await api(other, 'GET', `/meetings/${m.id}`)).body.status).not.toBe('ended');
  }, 90_000);

  it.each([
    { why: 'at the end of its grace period', grace: '1', signals: 1 },
    { why: 'at a second SIGTERM', grace: '600', signals: 2 },
  ])('stops $why with people still in a meeting there', async ({ grace, signals }) => {
    const survivor = cluster.nodes.find((n) => !exited(n) && !n.id.startsWith('node-cut'))!;
    const cut = await cluster.add(`node-cut-${signals}`, { DRAIN_GRACE_SECONDS: grace });
    // Only the new node takes meetings, so this one is placed there.
    cli('--node', survivor.id);
    try {
      expect(await eventually(async () => ((await nodesSeenBy(cut)).data as Json[]).find((n) => n.id === survivor.id)?.state === 'draining')).toBe(true);
      const { bot } = await meetingWithHost(survivor, `cut-${signals}`);
      expect(bot.nodeUrl).toBe(cut.url);
      cut.child.kill('SIGTERM');
      if (signals === 2) {
        // Draining for up to 600 s: the second signal is what stops it.
        expect(await eventually(async () => ((await nodesSeenBy(survivor)).data as Json[]).find((n) => n.id === cut.id)?.state === 'draining')).toBe(true);
        expect(exited(cut)).toBe(false);
        cut.child.kill('SIGTERM');
      }
      expect(await eventually(() => exited(cut), 30_000, 250)).toBe(true);
      expect(cut.child.exitCode).toBe(0);
      // The person still there was told the server goes away (their page joins again elsewhere).
      expect(bot.received('restarting').length).toBe(1);
    } finally {
      cli('--node', survivor.id, '--off');
    }
  }, 90_000);
});
