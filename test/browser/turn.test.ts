import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coturnConfig } from '../../src/cli/turn-config.js';
import { TurnCredentials } from '../../src/core/turn.js';
import { CHROMIUM, framesDecoded, joinRoom, openPerson, type Person, type RoomHooks } from '../helpers/browser.js';
import { FIREFOX, framesDecodedFx, joinRoomFx, openFirefox, type FirefoxPerson } from '../helpers/firefox.js';
import { eventually } from '../helpers/meeting-bot.js';
import { Namespace, namespacesUnavailable } from '../helpers/netns.js';
import { spawnListening, stopSpawned, type Spawned } from '../helpers/spawn.js';

// A participant behind a firewall that drops all UDP meets another through Debian's coturn, over
// TCP, with the credentials Parley minted for them. Everything runs in two network namespaces this
// test makes (unshare -n), joined by one veth pair:
//   "server": Parley (HTTP 10.77.0.1, media 10.77.0.3), coturn (10.77.0.1:3478), the host's Chromium
//   "client": the guest's Chromium, then a Firefox guest (10.77.0.2); nftables drops every UDP
//   packet on its veth.
const SERVER_IP = '10.77.0.1';
const MEDIA_IP = '10.77.0.3';
const TURN_PORT = 3478;
const TURN_URLS = [`turn:${SERVER_IP}:${TURN_PORT}`, `turn:${SERVER_IP}:${TURN_PORT}?transport=tcp`];
const SECRET = randomBytes(32).toString('hex');
const BIN = new URL('../../bin/parley.js', import.meta.url).pathname;

const unavailable = namespacesUnavailable()
  ?? (spawnSync('sh', ['-c', 'command -v turnserver']).status === 0 ? undefined : 'turnserver is missing (apt-get install coturn)');

let dir: string;
let serverNs: Namespace | undefined;
let clientNs: Namespace | undefined;
let coturn: ChildProcess | undefined;
let parley: Spawned | undefined;
let origin: string;
let account: { sid: string; token: string };
const people: Person[] = [];
const foxes: FirefoxPerson[] = [];

/** coturn as `parley turn-config` prints it, on the namespace's addresses, logging to stdout. */
async function startCoturn(ns: Namespace): Promise<ChildProcess> {
  const conf = join(dir, 'turnserver.conf');
  writeFileSync(conf, coturnConfig({
    realm: 'parley.test', secret: SECRET, urls: TURN_URLS, mediaAddresses: [MEDIA_IP],
    listeningIps: [SERVER_IP], relayIps: [SERVER_IP], relayPorts: { min: 50000, max: 50200 },
  }) + [`log-file=stdout`, `pidfile=${join(dir, 'turnserver.pid')}`, `userdb=${join(dir, 'turndb')}`, ''].join('\n'));
  const child = ns.spawn('turnserver', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  if (!await eventually(() => /Total General servers/.test(out) || child.exitCode !== null, 10_000, 50) || child.exitCode !== null) {
    throw new Error(`coturn did not start:\n${out}`);
  }
  return child;
}

beforeAll(async () => {
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), 'parley-turn-'));
  serverNs = await Namespace.create('server');
  clientNs = await Namespace.create('client');
  serverNs.link(clientNs, { dev: 's0', cidr: `${SERVER_IP}/24` }, { dev: 'a0', cidr: '10.77.0.2/24' });
  serverNs.run(`ip addr add ${MEDIA_IP}/24 dev s0`);
  // The client's firewall: no UDP in or out (TCP, hence HTTP, WebSocket and TURN over TCP, pass).
  clientNs.run(`nft -f - <<'EOF'
table inet firewall {
  chain out { type filter hook output priority 0; oifname "a0" meta l4proto udp drop; }
  chain in { type filter hook input priority 0; iifname "a0" meta l4proto udp drop; }
}
EOF`);
  coturn = await startCoturn(serverNs);
  parley = await spawnListening([BIN, 'serve'], {
    DATA_DIR: join(dir, 'data'), HOST: SERVER_IP, PORT: '0', LOG_LEVEL: 'warn', MEDIA_WORKERS: '1',
    RTC_LISTEN_IP: MEDIA_IP, ANNOUNCED_IP: MEDIA_IP, TURN_URLS: TURN_URLS.join(','), TURN_SECRET: SECRET,
  }, ['nsenter', `--net=${serverNs.path}`, process.execPath]);
  origin = parley.url;
  // The first start prints the demo account: the integrator's LiveMinutes credentials.
  const sid = /AccountSid: (\S+)/.exec(parley.output())?.[1];
  const token = /AuthToken: {2}(\S+)/.exec(parley.output())?.[1];
  if (!sid || !token) throw new Error(`no demo account printed:\n${parley.output()}`);
  account = { sid, token };
}, 60_000);

afterAll(async () => {
  await Promise.all([...people, ...foxes].map((p) => p.close()));
  if (parley) await stopSpawned(parley, 'SIGTERM');
  if (coturn && coturn.exitCode === null && coturn.signalCode === null) {
    const exited = new Promise((resolve) => coturn!.once('exit', resolve));
    coturn.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    coturn.kill('SIGKILL'); // no-op once it has exited
  }
  serverNs?.close();
  clientNs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A Chromium whose network is the namespace's; this origin counts as secure (camera allowed). */
async function personIn(ns: Namespace): Promise<Person> {
  const p = await openPerson({ executablePath: ns.wrapper(dir, CHROMIUM), args: [`--unsafely-treat-insecure-origin-as-secure=${origin}`] });
  people.push(p);
  return p;
}

/** A LiveMinutes call made from a page in the server's namespace (the test itself is outside it). */
async function lm(page: Person['page'], method: string, fields: Record<string, string>): Promise<Record<string, string>> {
  return page.evaluate(async ({ method, fields, auth }) => {
    const res = await fetch(`/${method}`, { method: 'POST', headers: { authorization: `Basic ${btoa(auth)}` }, body: new URLSearchParams(fields) });
    return await res.json() as Record<string, string>;
  }, { method, fields, auth: `${account.sid}:${account.token}` });
}

// What the page's WebRTC objects offer, typed here without the DOM lib.
interface StatsEntry { type: string; id: string; selected?: boolean; selectedCandidatePairId?: string; localCandidateId?: string; state?: string; candidateType?: string; relayProtocol?: string }
interface Stats { forEach(cb: (s: StatsEntry) => void): void; get(id: string): StatsEntry | undefined }
interface IceEvent { candidate?: { type?: string | null; candidate: string } | null; errorCode?: number }
interface ProbePc {
  addEventListener(type: string, cb: (e: IceEvent) => void): void;
  createDataChannel(label: string): unknown;
  createOffer(): Promise<unknown>;
  setLocalDescription(description: unknown): Promise<void>;
  iceGatheringState: string;
  close(): void;
}

/**
 * The selected ICE pair of one of the room's transports: its local candidate's type and relay
 * protocol. Runs in Chromium and Firefox (which has no transport stats: its pair says `selected`).
 */
const selectedPairInPage = async (which: 'publisher' | 'subscriber') => {
  const hooks = (globalThis as unknown as { __parley: RoomHooks }).__parley;
  const pc = (which === 'publisher' ? hooks.publisher() : hooks.subscriber()) as unknown as { getStats(): Promise<Stats> } | undefined;
  if (!pc) return undefined;
  const stats = await pc.getStats();
  let pairId: string | undefined;
  stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
  if (!pairId) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.selected) pairId = s.id; });
  const pair = pairId ? stats.get(pairId) : undefined;
  const local = pair?.localCandidateId ? stats.get(pair.localCandidateId) : undefined;
  return local && { type: local.candidateType, relayProtocol: local.relayProtocol, state: pair!.state };
};

const selectedPair = (page: Person['page'], transport: 'publisher' | 'subscriber') => page.evaluate(selectedPairInPage, transport);

const RELAYED = { type: 'relay', relayProtocol: 'tcp', state: 'succeeded' };

/**
 * The selected pair once it reads as RELAYED, or as last read after a bounded wait: a pair that
 * already carried media both ways was once read as "in-progress" (a clean-clone CI run, 2026-12-06).
 */
async function relayedPair(read: () => Promise<unknown>): Promise<unknown> {
  let pair: unknown;
  await eventually(async () => isDeepStrictEqual(pair = await read(), RELAYED), 10_000, 250);
  return pair;
}

/** ICE gathering with only a relay allowed: the relay candidates, and the error codes the relay answered. */
async function gatherRelay(page: Person['page'], server: { urls: string[]; username: string; credential: string }) {
  return page.evaluate(async (iceServer) => {
    const Pc = (globalThis as unknown as { RTCPeerConnection: new (config: object) => ProbePc }).RTCPeerConnection;
    const pc = new Pc({ iceServers: [iceServer], iceTransportPolicy: 'relay' });
    const relays: string[] = [];
    const errors: number[] = [];
    pc.addEventListener('icecandidate', (e) => { if (e.candidate?.type === 'relay') relays.push(e.candidate.candidate); });
    pc.addEventListener('icecandidateerror', (e) => { if (e.errorCode !== undefined) errors.push(e.errorCode); });
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    // Bounded: gathering over TCP to a relay on the next hop completes within a second or two.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 15_000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const complete = pc.iceGatheringState === 'complete';
    pc.close();
    return { relays, errors, complete };
  }, server);
}

describe('TURN through coturn', () => {
  it('a participant whose UDP is dropped meets the host through a relay over TCP, both ways', async (ctx) => {
    if (unavailable) return ctx.skip(true, unavailable);
    const host = await personIn(serverNs!);
    const guest = await personIn(clientNs!);
    await host.page.goto(`${origin}/healthz`);
    const created = await lm(host.page, 'createMeeting', { meetingKey: 'relay', hostid: 'host', hostnickname: 'Hana Host', title: 'Relay' });
    const added = await lm(host.page, 'addParticipant', { meetingKey: 'relay', puid: 'guest', nickname: 'Gus Guest' });
    expect(created.resultcode).toBe(1);

    await joinRoom(host.page, created.hostUrl!);
    await joinRoom(guest.page, added.participantUrl!);

    // Both see each other: the guest's camera reaches the host and the host's reaches the guest.
    const [h0, g0] = [await framesDecoded(host.page), await framesDecoded(guest.page)];
    expect(await eventually(async () => (await framesDecoded(host.page)) > h0 + 20 && (await framesDecoded(guest.page)) > g0 + 20, 30_000, 250)).toBe(true);

    // … through the relay, over TCP, on both of the guest's transports.
    for (const transport of ['publisher', 'subscriber'] as const) {
      expect(await relayedPair(() => selectedPair(guest.page, transport))).toEqual(RELAYED);
    }
  }, 120_000);

  it('a Firefox participant whose UDP is dropped gets in through the relay too', async (ctx) => {
    if (unavailable) return ctx.skip(true, unavailable);
    const host = people[0] ?? await personIn(serverNs!);
    if (!host.page.url().startsWith(origin)) await host.page.goto(`${origin}/healthz`);
    const created = await lm(host.page, 'createMeeting', { meetingKey: 'relay-fx', hostid: 'host', hostnickname: 'Hana Host', title: 'Relay Firefox' });
    const added = await lm(host.page, 'addParticipant', { meetingKey: 'relay-fx', puid: 'fox', nickname: 'Fay Fox' });
    // Firefox's driver talks to it over a port on its loopback: carried out of the namespace.
    const fox = await openFirefox({ executablePath: clientNs!.bridgedWrapper(dir, FIREFOX), prefs: { 'dom.securecontext.allowlist': SERVER_IP } });
    foxes.push(fox);
    await joinRoom(host.page, created.hostUrl!);
    await joinRoomFx(fox.page, added.participantUrl!);

    const [h0, f0] = [await framesDecoded(host.page), await framesDecodedFx(fox.page)];
    expect(await eventually(async () => (await framesDecoded(host.page)) > h0 + 20 && (await framesDecodedFx(fox.page)) > f0 + 20, 30_000, 250)).toBe(true);
    for (const transport of ['publisher', 'subscriber'] as const) {
      expect(await relayedPair(() => fox.page.evaluate(selectedPairInPage, transport))).toEqual(RELAYED);
    }
  }, 120_000);

  it('coturn takes a credential Parley minted and refuses it once expired', async (ctx) => {
    if (unavailable) return ctx.skip(true, unavailable);
    const guest = people[1] ?? await personIn(clientNs!);
    if (!guest.page.url().startsWith(origin)) await guest.page.goto(`${origin}/healthz`);
    // Minted as Parley does, by a clock at coturn's now and by one two hours behind (1 h lifetime).
    const settings = { urls: [`turn:${SERVER_IP}:${TURN_PORT}?transport=tcp`], secret: SECRET, ttlSeconds: 3600 };
    const [fresh] = new TurnCredentials(settings).forParticipant('probe');
    const [expired] = new TurnCredentials(settings, () => new Date(Date.now() - 2 * 3600_000)).forParticipant('probe');

    const ok = await gatherRelay(guest.page, fresh!);
    expect(ok.complete).toBe(true);
    expect(ok.relays.length).toBeGreaterThan(0);
    expect(ok.errors).not.toContain(401); // (701s are fine: the loopback interface cannot reach the relay)

    const refused = await gatherRelay(guest.page, expired!);
    expect(refused).toMatchObject({ complete: true, relays: [] });
    expect(refused.errors).toContain(401);
  }, 60_000);
});
