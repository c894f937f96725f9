// The socket-to-router SRTP path (werift-receive-path.ts) against werift's own receive handler,
// unpatched (`require('werift')`, see werift-srtp.test.ts): the same datagrams, through a real UDP
// socket on one side and werift's RTCDtlsTransport handler on the other, give the same RTP
// packets, drops, RTCP, counters and rollover state; whatever is not SRTP reaches the socket's
// listeners as before.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { patchWeriftReceivePath } from '../../src/media/worker/werift-receive-path.js';
import { patchWeriftRtpHeader } from '../../src/media/worker/werift-rtp-header.js';
import { patchWeriftSrtp } from '../../src/media/worker/werift-srtp.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;
type Werift = typeof patched;

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const SALT = Buffer.from('0102030405060708090a0b0c0d0e', 'hex');
const keys = { localMasterKey: KEY, localMasterSalt: SALT, remoteMasterKey: KEY, remoteMasterSalt: SALT };

interface Pair { protocol: unknown; packetsReceived: number; bytesReceived: number }
interface Transport {
  srtpStarted: boolean;
  bytesReceived: number;
  packetsReceived: number;
  srtp: { remoteContext: { srtpSSRCStates: Record<number, unknown> } };
  onRtp: patched.Event<[patched.RtpPacket]>;
  onRtcp: patched.Event<[patched.RtcpPacket]>;
  iceTransport: { connection: { onData: patched.Event<[Buffer]>; protocols: unknown[]; nominated?: Pair }; onStateChange: patched.Event<[string]> };
  startSrtp(): void;
}

/** An RTCDtlsTransport of `w` with its SRTP keys given instead of a DTLS handshake. */
function transport(w: Werift, profile: number, protocols: unknown[], log: string[]): Transport {
  const t = Object.create(w.RTCDtlsTransport.prototype) as Transport & Record<string, unknown>;
  Object.assign(t, {
    srtpStarted: false, config: {}, bytesReceived: 0, packetsReceived: 0,
    onRtp: new w.Event(), onRtcp: new w.Event(),
    iceTransport: { connection: { onData: new w.Event(), protocols, nominated: protocols.length ? { protocol: protocols[0], packetsReceived: 0, bytesReceived: 0 } : undefined }, onStateChange: new w.Event() },
    updateSrtpSession() {
      t.srtp = new w.SrtpSession({ keys, profile });
      t.srtcp = new w.SrtcpSession({ keys, profile });
    },
  });
  t.onRtp.subscribe((p) => {
    const h = p.header;
    const ext = h.extensions.map((e) => `${e.id}:${e.payload.toString('hex')}`).join(',');
    log.push(`rtp ${h.ssrc}/${h.sequenceNumber}/${h.timestamp}/${h.payloadType}/${h.marker} pad ${h.paddingSize} ext ${ext} ${p.payload.toString('hex')}`);
  });
  t.onRtcp.subscribe((p) => log.push(`rtcp ${p.type}`));
  t.startSrtp();
  return t;
}

/** The datagrams a browser might send: SRTP across a rollover, reordered, padded, tampered; SRTCP; STUN and DTLS. */
function datagrams(profile: number): Buffer[] {
  const sender = new original.SrtpSession({ keys, profile });
  const rtcpSender = new original.SrtcpSession({ keys, profile });
  const out: Buffer[] = [];
  let seq = 65500;
  for (let i = 0; i < 120; i++) {
    const ssrc = i % 4 === 3 ? 4444 : 1111;
    const padded = i % 11 === 5;
    const body = Buffer.alloc(20 + ((i * 37) % 1200), i);
    const payload = padded ? Buffer.concat([body, Buffer.from([0, 0, 3])]) : body;
    const header = new original.RtpHeader({
      ssrc, payloadType: ssrc === 1111 ? 96 : 111, sequenceNumber: (seq++) & 0xffff, timestamp: 3000 * i, marker: i % 5 === 0, padding: padded,
      extensionProfile: 0xbede, extensions: i % 2 ? [{ id: 3, payload: Buffer.from([i, 1, 2]) }] : [],
    } as never);
    const packet = sender.encrypt(payload, header);
    if (i % 17 === 8) packet[packet.length - 3] ^= 0x40; // tampered: both must drop it
    out.push(packet);
    if (i % 30 === 29) out.push(rtcpSender.encrypt(new original.RtcpRrPacket({ ssrc: 9, reports: [] }).serialize()));
  }
  [out[10], out[11]] = [out[11]!, out[10]!]; // reordered
  out.push(Buffer.from('000100002112a442000000000000000000000000', 'hex')); // a STUN binding request
  out.push(Buffer.from('16fefd0000000000000000000100', 'hex')); // a DTLS record
  out.push(Buffer.from([0x80])); // too short for anything
  return out;
}

beforeAll(() => {
  patchWeriftRtpHeader();
  patchWeriftSrtp();
  patchWeriftReceivePath();
});

const sockets: dgram.Socket[] = [];
async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}
afterAll(() => sockets.forEach((s) => s.close()));

describe.each([
  ['AES_CM_128_HMAC_SHA1_80', patched.ProtectionProfileAes128CmHmacSha1_80],
  ['AEAD_AES_128_GCM', patched.ProtectionProfileAeadAes128Gcm],
])('%s', (_name, profile) => {
  it('takes SRTP from the socket as werift would, and leaves everything else to the socket listeners', async () => {
    const receiving = await socket();
    const sending = await socket();
    const rinfos: unknown[] = [];
    const protocol = { transport: { socket: receiving, set rinfo(v: unknown) { rinfos.push(v); } } };
    const [mine, theirs]: string[][] = [[], []];
    const fast = transport(patched, profile, [protocol], mine);
    const reference = transport(original, profile, [], theirs);
    // werift's UdpTransport hands every datagram it hears up to the ICE connection.
    const heard: Buffer[] = [];
    receiving.on('message', (data: Buffer) => {
      heard.push(data);
      fast.iceTransport.connection.onData.execute(data);
    });

    const all = datagrams(profile);
    for (const d of all) {
      reference.iceTransport.connection.onData.execute(d);
      sending.send(d, receiving.address().port, '127.0.0.1');
    }
    const srtp = all.filter((d) => d[0]! >= 0x80 && d[0]! < 0xc0 && !(d.length >= 2 && d[1]! >= 192 && d[1]! <= 208));
    await vi.waitFor(() => expect(heard.length + srtp.length).toBe(all.length), { timeout: 5000 });

    expect(mine).toEqual(theirs);
    expect(mine.filter((l) => l.startsWith('rtp ')).length).toBe(srtp.length - 8); // the tampered ones and the 1-byte one dropped
    expect(mine.filter((l) => l.startsWith('rtcp ')).length).toBe(4);
    expect(heard.every((d) => !srtp.includes(d))).toBe(true);
    expect([fast.bytesReceived, fast.packetsReceived]).toEqual([reference.bytesReceived, reference.packetsReceived]);
    expect(fast.srtp.remoteContext.srtpSSRCStates).toEqual(reference.srtp.remoteContext.srtpSSRCStates);
    // The nominated pair counts what the socket brought, as werift's ICE connection does.
    const srtpBytes = srtp.reduce((n, d) => n + d.length, 0);
    expect(fast.iceTransport.connection.nominated).toMatchObject({ packetsReceived: srtp.length, bytesReceived: srtpBytes });
    expect(rinfos.length).toBe(srtp.length);
  });

  it('takes the sockets an ICE restart brings once the transport is connected again', async () => {
    const first = await socket();
    const later = await socket();
    const sending = await socket();
    const log: string[] = [];
    const fast = transport(patched, profile, [{ transport: { socket: first } }], log);
    const heard: Buffer[] = [];
    later.on('message', (data: Buffer) => heard.push(data));
    const packet = datagrams(profile)[0]!;
    sending.send(packet, later.address().port, '127.0.0.1');
    await vi.waitFor(() => expect(heard.length).toBe(1), { timeout: 5000 });
    expect(log).toEqual([]);

    fast.iceTransport.connection.protocols.push({ transport: { socket: later } });
    fast.iceTransport.onStateChange.execute('connected');
    sending.send(datagrams(profile)[1]!, later.address().port, '127.0.0.1');
    await vi.waitFor(() => expect(log.length).toBe(1), { timeout: 5000 });
    expect(heard.length).toBe(1);
  });
});
