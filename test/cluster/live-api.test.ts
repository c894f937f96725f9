import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPerson } from '../helpers/browser.js';
import { BotHost, eventually, MeetingBot, personalLink } from '../helpers/meeting-bot.js';
import { clusterApi, clusterForTests, type Json, type TestCluster, type TestNode } from './nodes.js';

// The live API and recording control through a node that does not run the meeting: the command
// is forwarded to the meeting's node, and every node gives the same answer; the console's Nodes
// page (Chromium) shows where the meeting runs.

let cluster: TestCluster;
let host: BotHost;
const bots: MeetingBot[] = [];
clusterForTests(3, {}, (c, h) => {
  cluster = c;
  host = h;
}, bots);

const api = clusterApi(() => cluster);
/** What the live view says that does not change from one instant to the next. */
const stable = (live: Json) => ({
  live: live.live,
  participants: (live.participants as Json[]).map((p) => ({ id: p.id, name: p.name, role: p.role, audio: p.audio, video: p.video })).sort((a, b) => a.id.localeCompare(b.id)),
  lobby: live.lobby,
});
async function sameEverywhere(meetingId: string): Promise<Json[]> {
  const answers = await Promise.all(cluster.nodes.map((n) => api(n, 'GET', `/meetings/${meetingId}/live`)));
  for (const a of answers) expect(a.status).toBe(200);
  return answers.map((a) => stable(a.body));
}

describe('the live API on every node', () => {
  let m: Json;
  let owner: TestNode;
  let others: TestNode[];
  let hostBot: MeetingBot;
  let guestBot: MeetingBot;

  it('lists the same people on every node, whichever runs the meeting', async () => {
    m = (await api(cluster.nodes[0]!, 'POST', '/meetings', { title: 'Steered', host: { externalId: 'lh', name: 'Host' } })).body;
    const hostUrl = ((await api(cluster.nodes[0]!, 'GET', `/meetings/${m.id}/participants`)).body.data as Json[])[0]!.joinUrl as string;
    const guest = (await api(cluster.nodes[0]!, 'POST', `/meetings/${m.id}/participants`, { externalId: 'lg', name: 'Guest' })).body;
    hostBot = await MeetingBot.join(host, cluster.nodes[0]!.url, 'live-host', personalLink(hostUrl), { audio: false });
    guestBot = await MeetingBot.join(host, cluster.nodes[0]!.url, 'live-guest', personalLink(guest.joinUrl as string), { audio: false });
    bots.push(hostBot, guestBot);
    owner = cluster.nodeAt(hostBot.nodeUrl)!;
    others = cluster.nodes.filter((n) => n !== owner);
    expect(others).toHaveLength(2);
    let views: Json[] = [];
    expect(await eventually(async () => {
      views = await sameEverywhere(m.id);
      return views.every((v) => v.participants.length === 2 && v.participants.every((p: Json) => p.video.on));
    })).toBe(true);
    for (const v of views) expect(v).toEqual(views[0]);
    expect(views[0]!.live).toBe(true);
  }, 60_000);

  it('the console of a node that does not run the meeting shows every node and where the meeting runs', async () => {
    const operator = await openPerson();
    try {
      const { page } = operator;
      await page.goto(`${others[0]!.url}/admin`);
      await page.getByLabel('Admin token').fill(cluster.adminToken);
      await page.keyboard.press('Enter');
      await page.getByRole('link', { name: 'Nodes' }).click();
      await page.getByRole('heading', { level: 1, name: 'Nodes' }).waitFor();
      for (const node of cluster.nodes) {
        const card = page.getByRole('region', { name: new RegExp(`^${node.id} live$`) });
        await card.waitFor();
        await expect.poll(() => card.textContent()).toContain(node.url);
        // The meeting is listed under its own node only.
        await expect.poll(async () => (await card.textContent())!.includes('Steered')).toBe(node === owner);
      }
    } finally {
      await operator.close();
    }
  }, 60_000);

  it('mutes through a node that does not run the meeting, and every node sees it', async () => {
    const muted = await api(others[0]!, 'POST', `/meetings/${m.id}/participants/${guestBot.id}/mute`, { sources: ['video'] });
    expect(muted.status).toBe(204);
    expect(await eventually(async () => (await sameEverywhere(m.id)).every((v) => v.participants.find((p: Json) => p.id === guestBot.id)?.video.mutedByHost === true))).toBe(true);
    const views = await sameEverywhere(m.id);
    for (const v of views) expect(v).toEqual(views[0]);
  });

  it('answers a command for someone not there the same on every node (409)', async () => {
    const outsider = (await api(owner, 'POST', `/meetings/${m.id}/participants`, { externalId: 'lo', name: 'Outsider' })).body;
    const answers = await Promise.all(cluster.nodes.map((n) => api(n, 'POST', `/meetings/${m.id}/participants/${outsider.id}/mute`, {})));
    for (const a of answers) {
      expect(a.status).toBe(409);
      expect(a.body).toEqual(answers[0]!.body);
    }
  });

  it('starts a recording through one other node and stops it through the other; composed once', async () => {
    const started = await api(others[0]!, 'POST', `/meetings/${m.id}/recording/start`);
    expect(started.status).toBe(201);
    // The room on the meeting's node was told: the people's pages say it records.
    expect(await eventually(() => [hostBot, guestBot].every((b) => b.received('recording').some((r) => r.recording)))).toBe(true);
    // Some media written: frames that reached a bot since the start reached the recorder too.
    // (Counted from the start: both bots had decoded far more than 60 frames before it, and a stop
    // right after the start found no file written yet in a CI run; a stop 60 frames after the
    // start found none either, once in nine CI runs: a file starts at a keyframe, which the
    // recorder asks for, and the guest's video is muted by then. 150 frames: ~5 s more.)
    const guestBefore = await guestBot.framesFrom(hostBot.id);
    const hostBefore = await hostBot.framesFrom(guestBot.id);
    expect(await eventually(async () => (await guestBot.framesFrom(hostBot.id)) > guestBefore + 150 || (await hostBot.framesFrom(guestBot.id)) > hostBefore + 150, 30_000)).toBe(true);
    const stopped = await api(others[1]!, 'POST', `/meetings/${m.id}/recording/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.tracks.length).toBeGreaterThan(0);
    let rec: Json = {};
    expect(await eventually(async () => {
      rec = (await api(others[1]!, 'GET', `/recordings/${started.body.id}`)).body;
      return rec.state === 'ready' || rec.state === 'failed';
    }, 60_000, 500)).toBe(true);
    expect(rec.state).toBe('ready');
    // Listed the same on every node.
    const listed = await Promise.all(cluster.nodes.map(async (n) => (await api(n, 'GET', `/recordings/${started.body.id}`)).body));
    for (const l of listed) expect(l).toEqual(listed[0]);
    // Downloaded through the nodes that do not have the file: they send the browser to the one that does.
    const link = await api(others[0]!, 'POST', `/recordings/${rec.id}/download`);
    const path = new URL(link.body.url as string);
    for (const node of cluster.nodes) {
      const file = await fetch(`${node.url}${path.pathname}${path.search}`);
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBe(rec.sizeBytes);
    }
    // One composition for the cluster: one attempt counted, whichever node did it.
    const db = new pg.Client({ connectionString: cluster.postgres.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ attempts: number }>('SELECT attempts FROM recordings WHERE id = $1', [started.body.id]);
      expect(rows[0]!.attempts).toBe(1);
    } finally {
      await db.end();
    }
  }, 120_000);

  it('removes through a node that does not run the meeting', async () => {
    const removed = await api(others[1]!, 'POST', `/meetings/${m.id}/participants/${guestBot.id}/remove`, { reason: 'testing' });
    expect(removed.status).toBe(204);
    expect(await eventually(() => guestBot.closed !== undefined)).toBe(true);
    expect(await eventually(async () => (await sameEverywhere(m.id)).every((v) => v.participants.length === 1))).toBe(true);
  });
});
