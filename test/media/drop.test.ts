// A participant whose network goes quiet, seen from the SFU: the worker reports its transports
// `disconnected` once nothing arrives from it (werift alone would wait 30 s), `connected` again
// when it is heard, and restarts ICE on the subscriber transport when asked. Bots on loopback;
// the silent one is a bot host we stop with SIGSTOP (and continue with SIGCONT).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaService, type MediaLogger, type MediaRoom, type TransportRole, type TransportState } from '../../src/media/index.js';
import { BotHost, joinBot, waitFor, type JoinedBot } from './helpers/bots.js';

const logger: MediaLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

let svc: MediaService;
let room: MediaRoom;
let talker: BotHost;
let quiet: BotHost;
let a: JoinedBot;
let b: JoinedBot;
const states: { transport: TransportRole; state: TransportState }[] = [];
const offers: string[] = [];

beforeAll(async () => {
  svc = new MediaService({ listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], iceServers: [], workers: 1 }, logger);
  await svc.start();
  room = await svc.openRoom('drop');
  [talker, quiet] = [new BotHost(), new BotHost()];
  a = await joinBot(room, talker, 'a');
  b = await joinBot(room, quiet, 'b');
  const first = b.peer.pendingSubscriberOffer;
  if (first) offers.push(first.sdp);
  b.peer.on('subscriberOffer', (offer) => offers.push(offer.sdp));
  b.peer.on('connectionState', (transport, state) => states.push({ transport, state }));
}, 30_000);
afterAll(async () => {
  if (quiet) process.kill(quiet.pid, 'SIGCONT');
  await Promise.all([talker?.quit(), quiet?.quit()]);
  await svc?.stop();
});

const framesFromA = async () => {
  const camera = b.tracks.find((t) => t.peerId === 'a' && t.source === 'camera');
  return camera ? ((await quiet.frames('b'))[camera.mid] ?? 0) : 0;
};
const ufragOf = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];

describe('a participant whose network goes quiet', () => {
  it('is reported disconnected while silent and connected once heard again, long before werift’s own 30 s', async () => {
    expect(await waitFor(() => b.peer.connectionState('subscriber') === 'connected' && b.peer.connectionState('publisher') === 'connected', 15_000)).toBe(true);
    process.kill(quiet.pid, 'SIGSTOP');
    const silent = await waitFor(() => b.peer.connectionState('subscriber') === 'disconnected' && b.peer.connectionState('publisher') === 'disconnected', 10_000, 100);
    process.kill(quiet.pid, 'SIGCONT');
    expect(silent).toBe(true);
    expect(await waitFor(() => b.peer.connectionState('subscriber') === 'connected' && b.peer.connectionState('publisher') === 'connected', 10_000, 100)).toBe(true);
    expect(states.some((s) => s.state === 'failed')).toBe(false);
    expect(a.errors).toEqual([]);
  }, 40_000);

  it('restarts ICE on the subscriber transport when asked: a new offer with new credentials, and media goes on', async () => {
    // A plain renegotiation first: an offer with the credentials in use now, answered.
    // (Wait for this offer itself: one still on its way would be taken for the restart's.)
    const before = offers.length;
    await b.peer.requestSubscriberOffer();
    expect(await waitFor(() => b.peer.pendingSubscriberOffer === undefined && offers.length > before, 10_000, 100)).toBe(true);
    const seen = offers.length;
    const answered = b.offers;
    await b.peer.requestSubscriberOffer({ iceRestart: true });
    expect(await waitFor(() => offers.length > seen && b.offers > answered, 10_000, 100)).toBe(true);
    const [previous, restarted] = [ufragOf(offers[seen - 1]!), ufragOf(offers[seen]!)];
    expect(restarted).toBeDefined();
    expect(restarted).not.toBe(previous);
    const f0 = await framesFromA();
    expect(await waitFor(async () => (await framesFromA()) > f0 + 10, 15_000, 200)).toBe(true);
    expect(b.peer.connectionState('subscriber')).toBe('connected');
    expect(b.errors).toEqual([]);
  }, 40_000);
});
