// werift, used the way the media workers use it (createPeerConnection), in this process so that
// DNS and UDP sends can be watched: no STUN server unless configured, no DNS, no mDNS, nothing
// sent off loopback. Sockets bind 0.0.0.0 as in production; a send to anything that is not
// loopback is recorded and dropped here, DNS lookups fail, and an mDNS socket (port 5353,
// multicast membership) is recorded and kept on loopback, so a regression cannot leak.
// What is asserted is what werift does on the network, not its internal fields.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classes, Message, methods, parseMessage, type RTCPeerConnection } from 'werift';
import type { WorkerSettings } from '../../src/media/protocol.js';
import { createPeerConnection } from '../../src/media/worker/webrtc.js';
import { waitFor } from './helpers/bots.js';

const lookups: string[] = [];
const sent: string[] = [];
const dropped: string[] = [];
/** attempts to bind the mDNS port or join a multicast group */
const multicast: string[] = [];
const MDNS_PORT = 5353;
const pcs: RTCPeerConnection[] = [];

const isLoopback = (address: string) => address.startsWith('127.') || address === '::1' || address === 'localhost';

beforeEach(() => {
  lookups.length = 0;
  sent.length = 0;
  dropped.length = 0;
  multicast.length = 0;
  vi.spyOn(dns.promises, 'lookup').mockImplementation(async (hostname: string) => {
    lookups.push(hostname);
    throw Object.assign(new Error(`DNS is off in this test (${hostname})`), { code: 'ENOTFOUND' });
  });
  const realSend = dgram.Socket.prototype.send;
  // dgram's send has several overloads; only the destination is read here.
  type Send = (this: dgram.Socket, ...args: unknown[]) => void;
  vi.spyOn(dgram.Socket.prototype as unknown as { send: Send }, 'send').mockImplementation(function (this: dgram.Socket, ...args: unknown[]) {
    // (msg, port, address, cb?) or (msg, offset, length, port, address, cb?)
    const address = typeof args[2] === 'number' ? args[4] : args[2];
    const destination = typeof address === 'string' ? address : '(connected)';
    sent.push(destination);
    if (!isLoopback(destination)) {
      dropped.push(destination);
      const cb = args[args.length - 1];
      if (typeof cb === 'function') queueMicrotask(() => (cb as (e: Error | null, n: number) => void)(null, 0));
      return;
    }
    (realSend as unknown as Send).apply(this, args);
  });
  // werift's mDNS client (multicast-dns) binds 5353 and joins 224.0.0.251: record that, and
  // keep the socket on an ephemeral loopback port with no group, should it ever happen.
  const realBind = dgram.Socket.prototype.bind;
  type Bind = (this: dgram.Socket, ...args: unknown[]) => dgram.Socket;
  vi.spyOn(dgram.Socket.prototype as unknown as { bind: Bind }, 'bind').mockImplementation(function (this: dgram.Socket, ...args: unknown[]) {
    const port = typeof args[0] === 'object' && args[0] !== null ? (args[0] as { port?: number }).port : args[0];
    if (port !== MDNS_PORT) return (realBind as unknown as Bind).apply(this, args);
    multicast.push(`bind :${MDNS_PORT}`);
    const cb = args.find((a) => typeof a === 'function');
    return (realBind as unknown as Bind).call(this, 0, '127.0.0.1', cb);
  });
  for (const method of ['addMembership', 'setMulticastTTL', 'setMulticastLoopback', 'setMulticastInterface'] as const) {
    vi.spyOn(dgram.Socket.prototype, method).mockImplementation((...args: unknown[]) => {
      multicast.push(`${method} ${args.map(String).join(' ')}`);
      return 0;
    });
  }
});

afterEach(async () => {
  await Promise.all(pcs.splice(0).map((pc) => pc.close().catch(() => undefined)));
  vi.restoreAllMocks();
});

function peer(settings: Partial<WorkerSettings> = {}): RTCPeerConnection {
  const pc = createPeerConnection({ index: 0, listenIp: '0.0.0.0', announcedAddresses: ['127.0.0.1'], iceServers: [], testHooks: false, ...settings });
  pcs.push(pc);
  return pc;
}

const connections = (pc: RTCPeerConnection) => pc.iceTransports.map((t) => t.connection);

/** Offer/answer with complete SDPs (werift gathers inside setLocalDescription), as peer.ts does. */
async function negotiate(a: RTCPeerConnection, b: RTCPeerConnection, editOffer: (sdp: string) => string = (s) => s) {
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription({ type: 'offer', sdp: editOffer(a.localDescription!.sdp) });
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription({ type: 'answer', sdp: b.localDescription!.sdp });
}

describe('werift as the media workers configure it', () => {
  it('with no STUN configured: no STUN server, no DNS lookup, nothing sent beyond loopback, and it connects', async () => {
    const a = peer();
    const b = peer();
    a.createDataChannel('probe');
    const offer = await a.createOffer();
    // Before anything is gathered: werift's own fallback (stun.l.google.com) is gone.
    expect(connections(a).length).toBeGreaterThan(0);
    for (const c of connections(a)) expect(c.stunServer).toBeUndefined();

    await a.setLocalDescription(offer);
    await b.setRemoteDescription({ type: 'offer', sdp: a.localDescription!.sdp });
    for (const c of connections(b)) expect(c.stunServer).toBeUndefined();
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription({ type: 'answer', sdp: b.localDescription!.sdp });
    expect(await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 10_000)).toBe(true);

    for (const sdp of [a.localDescription!.sdp, b.localDescription!.sdp]) {
      const candidates = sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
      expect(candidates.length).toBeGreaterThan(0);
      for (const line of candidates) {
        expect(line).toContain(' 127.0.0.1 ');
        expect(line).toContain(' typ host');
      }
    }
    expect(lookups).toEqual([]);
    expect(dropped).toEqual([]);
    expect(sent.length).toBeGreaterThan(0); // connectivity checks and DTLS did go out, on loopback
  });

  it('keeps an operator-configured STUN server: it is asked, and nothing else is', async () => {
    const server = dgram.createSocket('udp4');
    const requests: string[] = [];
    server.on('message', (data, rinfo) => {
      const request = parseMessage(data);
      if (!request || request.messageMethod !== methods.BINDING) return;
      requests.push(`${rinfo.address}:${rinfo.port}`);
      const response = new Message(methods.BINDING, classes.RESPONSE, request.transactionId)
        .setAttribute('XOR-MAPPED-ADDRESS', [rinfo.address, rinfo.port]);
      server.send(response.bytes, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const port = server.address().port;
    try {
      const a = peer({ listenIp: '127.0.0.1', iceServers: [{ urls: `stun:127.0.0.1:${port}` }] });
      a.createDataChannel('probe');
      await a.setLocalDescription(await a.createOffer());
      for (const c of connections(a)) expect(c.stunServer).toEqual(['127.0.0.1', port]);
      expect(requests.length).toBeGreaterThan(0);
      expect(lookups).toEqual([]);
      expect(dropped).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('never resolves mDNS or host-name candidates, from the SDP or trickled, and still connects', async () => {
    const a = peer();
    const b = peer();
    a.createDataChannel('probe');
    const mdns = 'candidate:9 1 udp 2122260223 0c8a4c4e-59b1-4f6b-9d1a-5bd1c6a4d3e2.local 54321 typ host';
    const named = 'candidate:8 1 udp 2122260222 media.example.invalid 54322 typ host';
    // Straight into werift, past peer.ts's and sdp.ts's own filters: this is the last line of defence.
    await negotiate(a, b, (sdp) => sdp.replace(/(a=mid:[^\r\n]*\r\n)/, `$1a=${mdns}\r\na=${named}\r\n`));
    await b.addIceCandidate({ candidate: mdns, sdpMid: '0', sdpMLineIndex: 0 });
    await b.addIceCandidate({ candidate: named, sdpMid: '0', sdpMLineIndex: 0 });
    expect(await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 10_000)).toBe(true);
    for (const t of b.iceTransports) {
      // Neither name reached werift's candidate list: nothing will ever be sent to them.
      const hosts = t.getRemoteCandidates().map((r) => r.candidate.split(' ')[4]);
      expect(hosts).toContain('127.0.0.1');
      expect(hosts.filter((h) => !/^[0-9.]+$/.test(h))).toEqual([]);
    }
    // werift starts its mDNS client (bind 5353, join the group) inside addRemoteCandidate, so by
    // now it would have: it never did.
    expect(multicast).toEqual([]);
    expect(lookups).toEqual([]);
    expect(dropped).toEqual([]);
  });
});
