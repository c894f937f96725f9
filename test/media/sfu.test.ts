// The SFU with real media: headless WebRTC bots (a child process, see bots/bot-host.mjs)
// against a MediaService on loopback. Nothing but 127.0.0.1 is bound or announced, no STUN.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MediaService,
  type CloseReason,
  type MediaConfig,
  type MediaLogger,
  type MediaRoom,
} from '../../src/media/index.js';
import { TestMediaService } from '../../src/media/testing.js';
import { BotHost, joinBot, publish, waitFor, type JoinedBot } from './helpers/bots.js';
import { udpPortsOfThisProcess } from './helpers/sockets.js';

const logs: string[] = [];
const logger: MediaLogger = {
  info: () => undefined,
  warn: (obj, msg) => logs.push(`warn ${msg} ${JSON.stringify(obj)}`),
  error: (obj, msg) => logs.push(`error ${msg} ${JSON.stringify(obj)}`),
};

const LOOPBACK: MediaConfig = { listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], iceServers: [] };

/** What one bot receives from every other publisher: video frames and audio packets. */
async function received(host: BotHost, bot: JoinedBot, publishers: string[]) {
  const [frames, stats] = await Promise.all([host.frames(bot.name), host.stats(bot.name)]);
  return publishers
    .filter((p) => p !== bot.name)
    .map((p) => {
      const camera = bot.tracks.find((t) => t.peerId === p && t.source === 'camera');
      const mic = bot.tracks.find((t) => t.peerId === p && t.source === 'microphone');
      const audio = stats.inbound.find((s) => s.kind === 'audio' && s.mid === mic?.mid);
      return {
        from: p,
        frames: camera ? (frames[camera.mid] ?? 0) : 0,
        audioPackets: audio?.packetsReceived ?? 0,
      };
    });
}

async function everyoneHearsAndSeesEveryone(host: BotHost, bots: JoinedBot[], minFrames: number, minAudio: number) {
  const names = bots.map((b) => b.name);
  const all = await Promise.all(bots.map((b) => received(host, b, names)));
  return all.every((list) => list.every((r) => r.frames >= minFrames && r.audioPackets >= minAudio));
}

function closedEvents(target: { on(event: 'closed', l: (reason: CloseReason) => void): unknown }) {
  const reasons: CloseReason[] = [];
  target.on('closed', (reason) => reasons.push(reason));
  return reasons;
}

afterEach(() => {
  // Errors logged by the workers are failures, whatever the test checked.
  const errors = logs.filter((l) => l.startsWith('error'));
  if (process.env.MEDIA_TEST_LOGS) console.log(logs.join('\n'));
  logs.length = 0;
  expect(errors).toEqual([]);
});

describe('a room of six', () => {
  let svc: MediaService;
  let room: MediaRoom;
  let host: BotHost;
  const bots: JoinedBot[] = [];
  const speakers: (string | null)[] = [];

  beforeAll(async () => {
    svc = new MediaService({ ...LOOPBACK, workers: 2 }, logger);
    await svc.start();
    room = await svc.openRoom('six');
    room.on('activeSpeaker', (peerId) => speakers.push(peerId));
    host = new BotHost();
    for (let i = 0; i < 6; i++) bots.push(await joinBot(room, host, `p${i}`, { loud: i === 0 }));
  });

  afterAll(async () => {
    await host?.quit();
    await svc?.stop();
  });

  it('forwards every participant’s video and audio to every other participant', async () => {
    const ok = await waitFor(() => everyoneHearsAndSeesEveryone(host, bots, 10, 25), 20_000, 500);
    if (!ok) {
      const detail = await Promise.all(bots.map(async (b) => [b.name, await received(host, b, bots.map((x) => x.name))]));
      expect(detail).toEqual('everyone receives everyone');
    }
    for (const b of bots) {
      expect(b.errors).toEqual([]);
      // five others, two tracks each; never their own
      expect(b.tracks).toHaveLength(10);
      expect(b.tracks.some((t) => t.peerId === b.name)).toBe(false);
      expect(b.peer.connectionState('publisher')).toBe('connected');
      expect(b.peer.connectionState('subscriber')).toBe('connected');
    }
    const worker = async () => (await svc.stats()).find((w) => w.index === room.workerIndex)!;
    const before = await worker();
    expect(before).toMatchObject({ rooms: 1, peers: 6, alive: true });
    // Each packet in goes out to the five others (measured 5.00), counted over a second once
    // everyone receives: the totals also hold what came in before anyone could be sent it (DTLS,
    // the first keyframe), which under the parallel pass's load brought them to 3.94× once.
    await new Promise((r) => setTimeout(r, 1000));
    const after = await worker();
    const ratio = (after.packetsOut - before.packetsOut) / (after.packetsIn - before.packetsIn);
    console.log(`forwarded ${ratio.toFixed(2)} packets per packet in`);
    expect(ratio).toBeGreaterThan(4.5);
  });

  it('makes the loud participant the active speaker, and follows a change of voice', async () => {
    expect(await waitFor(() => room.activeSpeaker === 'p0', 5000)).toBe(true);
    await host.setLoud('p0', false);
    await host.setLoud('p3', true);
    expect(await waitFor(() => room.activeSpeaker === 'p3', 6000)).toBe(true);
    expect(speakers.slice(-2)).toEqual(['p0', 'p3']);
  });

  it('renegotiates the others when a participant leaves, and reuses its m-lines for the next', async () => {
    const leaving = bots.pop()!;
    const reasons = closedEvents(leaving.peer);
    const offersBefore = bots.map((b) => b.offers);
    const freedMids = bots.map((b) => b.tracks.filter((t) => t.peerId === leaving.name).map((t) => t.mid).sort());
    await leaving.peer.close();
    await host.close(leaving.name);
    expect(reasons).toEqual(['closed']);
    const gone = await waitFor(
      () => bots.every((b, i) => b.offers > offersBefore[i]! && !b.tracks.some((t) => t.peerId === leaving.name)),
      5000,
    );
    expect(gone).toBe(true);
    for (const b of bots) {
      expect(b.errors).toEqual([]);
      expect(b.tracks).toHaveLength(8);
    }
    // The survivors still receive each other after the renegotiation: every video m-line
    // decodes new frames.
    const before = await Promise.all(bots.map((b) => host.frames(b.name)));
    let after = before;
    const stillFlowing = await waitFor(async () => {
      after = await Promise.all(bots.map((b) => host.frames(b.name)));
      return bots.every((b, i) =>
        b.tracks.filter((x) => x.kind === 'video').every((t) => (after[i]![t.mid] ?? 0) > (before[i]![t.mid] ?? 0)),
      );
    }, 5000);
    if (!stillFlowing) {
      bots.forEach((b, i) => {
        for (const t of b.tracks.filter((x) => x.kind === 'video')) {
          expect(after[i]![t.mid] ?? 0, `${b.name} from ${t.peerId}`).toBeGreaterThan(before[i]![t.mid] ?? 0);
        }
      });
    }

    // The next publisher's tracks take over the freed (inactive) m-lines: no SDP growth.
    const next = await joinBot(room, host, 'p6', {});
    const arrived = await waitFor(async () => {
      const r = await Promise.all(bots.map((b) => received(host, b, ['p6'])));
      return r.every(([x]) => x!.frames >= 5 && x!.audioPackets >= 25);
    }, 8000);
    expect(arrived).toBe(true);
    bots.forEach((b, i) => {
      expect(b.tracks.filter((t) => t.peerId === 'p6').map((t) => t.mid).sort()).toEqual(freedMids[i]);
    });
    bots.push(next);
  });

  it('gives a late joiner a keyframe at once, without it having to ask', async () => {
    const publishers = [...bots];
    const cameraPlis = async () =>
      Promise.all(publishers.map(async (b) => (await b.peer.stats()).published.find((t) => t.source === 'camera')!.pliSent));
    const plisBefore = await cameraPlis();
    const late = await joinBot(room, host, 'late', { audio: false, video: false });
    bots.push(late);
    const others = publishers.map((b) => b.name);
    const ok = await waitFor(async () => {
      const r = await received(host, late, others);
      return r.every((x) => x.frames >= 1);
    }, 6000, 50);
    expect(ok).toBe(true);
    // The state comes from the worker as an event of its own: frames were seen first once (CI,
    // 2026-12-07), so it is waited for, not read at once.
    expect(await waitFor(() => late.peer.connectionState('subscriber') === 'connected', 5000)).toBe(true);
    // We PLI every publisher for the new subscriber and forward from the keyframe on: the new
    // subscriber decodes a keyframe per publisher and never sends a PLI itself. (How soon the
    // PLI goes out is the rate limiter's business, tested on a fake clock in units.test.ts.)
    // One stream may still ask once when the machine is starved (seen in 1 of 3 CI runs of
    // 2026-12-06, beside the other tests: a keyframe's packet late); without our PLIs every
    // stream asks.
    const inbound = (await host.stats('late')).inbound.filter((s) => s.kind === 'video');
    expect(inbound).toHaveLength(others.length);
    expect(inbound.filter((s) => s.pliCount > 0).length).toBeLessThanOrEqual(1);
    for (const s of inbound) expect(s.keyFramesDecoded).toBeGreaterThanOrEqual(1);
    const plisAfter = await cameraPlis();
    publishers.forEach((b, i) => expect(plisAfter[i], b.name).toBeGreaterThan(plisBefore[i]!));
  });
});

describe('publishing rules', () => {
  let svc: MediaService;
  let host: BotHost;
  afterEach(async () => {
    await host?.quit();
    await svc?.stop();
  });

  it('never forwards a screen track the peer may not publish, until it is allowed', async () => {
    svc = new MediaService({ ...LOOPBACK, workers: 1, rtcMinPort: 42000, rtcMaxPort: 42099 }, logger);
    await svc.start();
    const room = await svc.openRoom('rules');
    host = new BotHost();
    const viewer = await joinBot(room, host, 'viewer', { audio: false, video: false });
    await host.create('sharer', { screen: true });
    const sharerPeer = await room.addPeer('sharer', { canPublish: { audio: true, video: true, screen: false } });
    const published: string[] = [];
    sharerPeer.on('trackPublished', (t) => published.push(`+${t.source}`));
    sharerPeer.on('trackUnpublished', (t) => published.push(`-${t.source}`));
    const { sdp, sources } = await host.offer('sharer');
    expect(Object.values(sources).sort()).toEqual(['camera', 'microphone', 'screen']);
    const videoMids = Object.keys(sources).filter((mid) => sources[mid] !== 'microphone');
    const twoCameras = Object.fromEntries(videoMids.map((mid) => [mid, 'camera' as const]));
    await expect(sharerPeer.publish(sdp, twoCameras)).rejects.toMatchObject({ code: 'invalid' });
    await expect(sharerPeer.publish(sdp, { [videoMids[0]!]: 'microphone' })).rejects.toMatchObject({ code: 'invalid' });
    const answer = await sharerPeer.publish(sdp, sources);
    await host.answer('sharer', answer.sdp);
    expect(answer.tracks.find((t) => t.source === 'screen')).toMatchObject({ forwarded: false });
    // Every server candidate is on loopback and inside the configured port range.
    for (const line of answer.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'))) {
      const [, , , , address, port] = line.split(' ');
      expect(address).toBe('127.0.0.1');
      expect(Number(port)).toBeGreaterThanOrEqual(42000);
      expect(Number(port)).toBeLessThanOrEqual(42099);
    }

    const cameraFlows = await waitFor(async () => {
      const cam = viewer.tracks.find((t) => t.source === 'camera');
      return !!cam && ((await host.frames('viewer'))[cam.mid] ?? 0) >= 5;
    }, 8000);
    expect(cameraFlows).toBe(true);
    expect(viewer.tracks.map((t) => t.source).sort()).toEqual(['camera', 'microphone']);
    const sharerStats = await sharerPeer.stats();
    const screen = sharerStats.published.find((t) => t.source === 'screen')!;
    expect(screen.forwarded).toBe(false);
    expect(screen.packets).toBeGreaterThan(0); // it does send; we drop it
    expect(screen.subscribers).toBe(0);

    // Allowed later: the viewer gets an offer with the screen and frames from it.
    await sharerPeer.setCanPublish({ audio: true, video: true, screen: true });
    const screenFlows = await waitFor(async () => {
      const scr = viewer.tracks.find((t) => t.source === 'screen');
      return !!scr && ((await host.frames('viewer'))[scr.mid] ?? 0) >= 3;
    }, 5000);
    expect(screenFlows).toBe(true);

    // The sharer stops sharing by renegotiating its publisher transport.
    await host.removeScreen('sharer');
    await publish(host, { name: 'sharer', peer: sharerPeer, tracks: [], offers: 0, errors: [] });
    expect(await waitFor(() => !viewer.tracks.some((t) => t.source === 'screen'), 3000)).toBe(true);
    expect(published).toEqual(['+microphone', '+camera', '+screen', '-screen']);
    expect(viewer.errors).toEqual([]);

    const reasons = [closedEvents(viewer.peer), closedEvents(sharerPeer)];
    const roomReasons = closedEvents(room);
    await room.close();
    expect(reasons).toEqual([['room-closed'], ['room-closed']]);
    expect(roomReasons).toEqual(['closed']);
    expect(svc.getRoom('rules')).toBeUndefined();
  });

  it('drops mDNS candidates from offers and from addIceCandidate, and still connects', async () => {
    svc = new MediaService({ ...LOOPBACK, workers: 1 }, logger);
    await svc.start();
    const room = await svc.openRoom('mdns');
    host = new BotHost();
    const mdns = 'a=candidate:9 1 udp 2122260223 0c8a4c4e-59b1-4f6b-9d1a-5bd1c6a4d3e2.local 54321 typ host';
    await host.create('a', {});
    await host.injectCandidate('a', mdns);
    const b = await joinBot(room, host, 'b', {});
    const peerA = await room.addPeer('a', { canPublish: { audio: true, video: true, screen: false } });
    await peerA.addIceCandidate('publisher', { candidate: mdns.slice(2), sdpMid: '0', sdpMLineIndex: 0 });
    const { sdp, sources } = await host.offer('a');
    expect(sdp).toContain('.local');
    const answer = await peerA.publish(sdp, sources);
    await host.answer('a', answer.sdp);
    await peerA.addIceCandidate('publisher', { candidate: mdns.slice(2), sdpMid: '0', sdpMLineIndex: 0 });
    await peerA.addIceCandidate('subscriber', { candidate: mdns.slice(2), sdpMid: '0', sdpMLineIndex: 0 });
    expect(await waitFor(() => peerA.connectionState('publisher') === 'connected', 5000)).toBe(true);
    expect(await waitFor(async () => Object.values(await host.frames('b')).some((n) => n > 3), 5000)).toBe(true);
    expect(b.errors).toEqual([]);
    // werift would have started its mDNS client (a socket on 5353) while applying the offer or
    // the trickled candidate, both done by now. The worker's own ICE socket is seen, so the
    // check does see the worker's sockets.
    const ports = udpPortsOfThisProcess();
    const serverPort = Number(answer.sdp.split('\r\n').find((l) => l.startsWith('a=candidate:'))!.split(' ')[5]);
    expect(ports.has(serverPort)).toBe(true);
    expect(ports.has(5353)).toBe(false);
  });
});

describe('retransmission', () => {
  // Packet loss is injected through the test-only service (src/media/testing.ts). A 10% loss
  // is applied while this many video packets pass, so that ~20 are dropped.
  const LOSS_WINDOW = 200;

  /**
   * Reads until `packets` grew by LOSS_WINDOW since `start` and `repaired` holds (bounded);
   * returns that reading.
   */
  async function afterLossWindow<T>(start: T, read: () => Promise<T>, packets: (r: T) => number, repaired: (r: T) => boolean): Promise<T> {
    let seen = start;
    await waitFor(async () => {
      seen = await read();
      return packets(seen) - packets(start) >= LOSS_WINDOW && repaired(seen);
    }, 20_000, 250);
    expect(packets(seen) - packets(start)).toBeGreaterThanOrEqual(LOSS_WINDOW);
    return seen;
  }
  let svc: TestMediaService;
  let host: BotHost;
  afterAll(async () => {
    await host?.quit();
    await svc?.stop();
  });

  it('answers a subscriber’s NACKs from the send history', async () => {
    svc = new TestMediaService({ ...LOOPBACK, workers: 1 }, logger);
    await svc.start();
    const room = await svc.openRoom('nack');
    host = new BotHost();
    await joinBot(room, host, 'sender', { audio: false });
    const receiver = await joinBot(room, host, 'receiver', { audio: false, video: false });
    expect(await waitFor(async () => Object.values(await host.frames('receiver')).some((n) => n > 5), 8000)).toBe(true);
    const camMid = receiver.tracks.find((t) => t.source === 'camera')!.mid;
    const read = async () => ({
      server: (await receiver.peer.stats()).subscribed.find((t) => t.kind === 'video')!,
      client: (await host.stats('receiver')).inbound.find((s) => s.mid === camMid)!,
    });
    // Lose 10% of the video RTP on the way to the receiver (first transmissions only), while
    // LOSS_WINDOW packets are forwarded: ~LOSS_WINDOW / 10 dropped (4-6 s of this video).
    const start = await read();
    await svc.setPacketLoss(receiver.peer, 'downlink', 10);
    // Repaired: as many resent as the receiver counted lost. A reading can fall between a loss and
    // its resend (CI 2026-12-06: 22 lost, 21 resent), so the next reading is waited for then.
    const lostSince = (r: Awaited<ReturnType<typeof read>>) => r.client.packetsLost - start.client.packetsLost;
    const { server, client } = await afterLossWindow(start, read, (r) => r.server.packets, (r) => r.server.retransmitted > 0 && r.server.retransmitted >= lostSince(r));
    expect(client.nackCount).toBeGreaterThan(0);
    expect(server.nacksReceived).toBeGreaterThan(0);
    expect(server.retransmitted).toBeGreaterThan(0);
    // In RTX (the bot's libwebrtc accepts it). libwebrtc counts a packet repaired through RTX
    // as lost on the media stream all the same; that it was repaired shows in what did not
    // happen: no second NACK for it, and no keyframe request.
    expect(server.rtxPayloadType).toBeGreaterThan(0);
    const lost = client.packetsLost - start.client.packetsLost;
    expect(lost).toBeGreaterThan(0);
    expect(server.retransmitted).toBeGreaterThanOrEqual(lost);
    expect(client.nackCount - start.client.nackCount).toBeLessThanOrEqual(lost + 2);
    expect(client.pliCount - start.client.pliCount).toBe(0);
    // The worker's counters (metrics) saw them, and none asked for was gone from the history.
    const [worker] = await svc.stats();
    expect(worker!.packetsResent).toBeGreaterThanOrEqual(server.retransmitted);
    expect(worker!.resendsMissing).toBe(0);
    // And video keeps being decoded under the loss.
    const framesBefore = (await host.frames('receiver'))[camMid] ?? 0;
    const decoding = await waitFor(async () => ((await host.frames('receiver'))[camMid] ?? 0) - framesBefore > 8, 5000);
    expect(decoding).toBe(true);
  });

  it('asks the publisher to resend what it lost on the way in, and forwards the repair', async () => {
    const room = svc.getRoom('nack')!;
    const sender = room.getPeer('sender')!;
    const receiver = room.getPeer('receiver')!;
    await svc.setPacketLoss(receiver, 'downlink', 0);
    const lostBefore = (await host.stats('receiver')).inbound.find((s) => s.kind === 'video')!.packetsLost;
    // Lose 10% of the sender's video before werift's receiver sees it, while LOSS_WINDOW
    // packets arrive (~LOSS_WINDOW / 10 dropped), until the publisher has answered NACKs.
    const read = async () => ({
      published: (await sender.stats()).published.find((t) => t.source === 'camera')!,
      senderOut: (await host.stats('sender')).outbound.find((s) => s.kind === 'video')!,
    });
    const start = await read();
    await svc.setPacketLoss(sender, 'uplink', 10);
    const { published, senderOut } = await afterLossWindow(start, read, (r) => r.published.packets, (r) => r.senderOut.nackCount > 0);
    const client = (await host.stats('receiver')).inbound.find((s) => s.kind === 'video')!;
    expect(published.nacksSent).toBeGreaterThan(0); // the publisher's transport NACKed upstream (nack-requester.ts)
    expect(senderOut.nackCount).toBeGreaterThan(0); // the publisher got them and resent
    // The repaired packets reached the subscriber: (almost) nothing lost downstream.
    expect(client.packetsLost - lostBefore).toBeLessThan(published.nacksSent / 2 + 1);
    expect(client.packetsLost - lostBefore).toBeLessThan(LOSS_WINDOW / 10 / 2);
  });
});

describe('lifecycle', () => {
  let svc: MediaService;
  let host: BotHost;
  afterEach(async () => {
    await host?.quit();
    await svc?.stop();
  });

  it('stop() closes every room and peer with their events and ends the workers', async () => {
    svc = new MediaService({ ...LOOPBACK, workers: 2 }, logger);
    await svc.start();
    host = new BotHost();
    const r1 = await svc.openRoom('one');
    const r2 = await svc.openRoom('two');
    expect(await svc.openRoom('one')).toBe(r1);
    expect(r1.workerIndex).not.toBe(r2.workerIndex); // spread over the workers
    const a = await joinBot(r1, host, 'a', {});
    const b = await joinBot(r2, host, 'b', {});
    const peerReasons = [closedEvents(a.peer), closedEvents(b.peer)];
    const roomReasons = [closedEvents(r1), closedEvents(r2)];
    expect(await waitFor(() => a.peer.connectionState('publisher') === 'connected', 5000)).toBe(true);
    await svc.stop();
    expect(svc.running).toBe(false);
    expect(peerReasons).toEqual([['service-stopped'], ['service-stopped']]);
    expect(roomReasons).toEqual([['service-stopped'], ['service-stopped']]);
    expect(a.peer.closed && b.peer.closed && r1.closed && r2.closed).toBe(true);
    await expect(svc.openRoom('three')).rejects.toMatchObject({ code: 'not_running' });
    await expect(a.peer.publish('v=0')).rejects.toMatchObject({ code: 'closed' });
  });

  it('announces new addresses on transports created after setAnnouncedAddresses', async () => {
    svc = new MediaService({ ...LOOPBACK, workers: 1 }, logger);
    await svc.start();
    const room = await svc.openRoom('addresses');
    const candidateAddresses = async (peerId: string) => {
      const peer = await room.addPeer(peerId, { canPublish: { audio: false, video: false, screen: false } });
      const offer = peer.pendingSubscriberOffer ?? (await new Promise<{ sdp: string }>((r) => peer.once('subscriberOffer', r)));
      return offer.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.split(' ')[4]);
    };
    expect(await candidateAddresses('before')).toEqual(['127.0.0.1']);
    await svc.setAnnouncedAddresses(['127.0.0.2', '127.0.0.3']);
    expect((await candidateAddresses('after')).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('a worker that throws closes its sockets and ends while media still arrives; it is respawned', async () => {
    const test = new TestMediaService({ ...LOOPBACK, workers: 1 }, logger);
    svc = test;
    await svc.start();
    host = new BotHost();
    const room = await svc.openRoom('throws');
    const a = await joinBot(room, host, 'a', {});
    const b = await joinBot(room, host, 'b', {});
    expect(await waitFor(async () => Object.values(await host.frames('b')).some((n) => n > 3), 8000)).toBe(true);
    const peerReasons = closedEvents(a.peer);
    const respawned = new Promise<number>((resolve) => svc.once('workerRespawned', resolve));
    // The bots go on sending to the dying thread's sockets: Node aborts the whole process when
    // a datagram reaches an open one as the thread ends.
    await test.crashWorker(room.id);
    expect(await respawned).toBe(0);
    expect(peerReasons).toEqual(['worker-died']);
    expect(logs.some((l) => l.startsWith('error media worker crashed') && l.includes('a crash asked for by a test'))).toBe(true);
    logs.length = 0; // the crash is logged as an error, on purpose
    expect(b.errors).toEqual([]);
    const [w] = await svc.stats();
    expect(w).toMatchObject({ alive: true, restarts: 1 });
  });

  it('respawns a crashed worker; its rooms and peers close with worker-died', async () => {
    svc = new MediaService({ ...LOOPBACK, workers: 1 }, logger);
    await svc.start();
    host = new BotHost();
    const room = await svc.openRoom('doomed');
    const a = await joinBot(room, host, 'a', {});
    const peerReasons = closedEvents(a.peer);
    const roomReasons = closedEvents(room);
    const died: number[] = [];
    svc.on('workerDied', (index) => died.push(index));
    const respawned = new Promise<number>((resolve) => svc.once('workerRespawned', resolve));
    await svc.killWorkerForTesting(room.workerIndex);
    expect(await waitFor(() => died.length === 1, 2000, 20)).toBe(true);
    expect(peerReasons).toEqual(['worker-died']);
    expect(roomReasons).toEqual(['worker-died']);
    await expect(a.peer.publish('v=0')).rejects.toMatchObject({ code: 'closed' });
    expect(await respawned).toBe(0);
    logs.length = 0; // the crash itself is logged as an error, on purpose

    // The new worker carries media again.
    await host.close('a');
    const again = await svc.openRoom('doomed');
    expect(again).not.toBe(room);
    await joinBot(again, host, 'c', {});
    const d = await joinBot(again, host, 'd', { audio: false, video: false });
    expect(await waitFor(async () => Object.values(await host.frames('d')).some((n) => n > 3), 8000)).toBe(true);
    expect(d.errors).toEqual([]);
    const [w] = await svc.stats();
    expect(w).toMatchObject({ alive: true, restarts: 1, rooms: 1, peers: 2 });
    expect(w!.eventLoopUtilization).toBeGreaterThan(0);
  });
});
