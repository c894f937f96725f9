// The RTCRtpSender.sendRtp patch against werift's unpatched CommonJS copy (see
// werift-srtp.test.ts for why `require('werift')` is the reference), with the clock stubbed so
// both read the same time.
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { afterEach, expect, it, vi } from 'vitest';
import { patchWeriftSender, weriftNtpTime } from '../../src/media/worker/werift-sender.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;
type Werift = typeof patched;

afterEach(() => vi.restoreAllMocks());

it('reads the NTP clock to the same value as werift', () => {
  const now = vi.spyOn(performance, 'now');
  const base = Math.floor(performance.now());
  for (let i = 0; i < 5000; i++) {
    // whole seconds (no decimal point), few digits, many digits
    const t = i % 3 === 0 ? Math.ceil((performance.timeOrigin + base) / 1000) * 1000 - performance.timeOrigin + i * 1000 : base + i * 0.137 + (i % 7) * 1e-4;
    now.mockReturnValue(t);
    expect(weriftNtpTime()).toBe(original.ntpTime());
  }
});

interface Sent {
  header: string;
  payload: string;
}

/** `wideSeq`: the transport-wide sequence number is negotiated (id 5). */
function makeSender(w: Werift, sent: Sent[], wideSeq = false) {
  const sender = new w.RTCRtpSender('video');
  const s = sender as unknown as Record<string, unknown>;
  s.stopped = true; // runRtcp() returns at once: no SR timer in a unit test
  s.codec = { payloadType: 96 };
  s.ssrc = 0x5eed5eed; // random per sender otherwise
  s.mid = '1';
  s.rtpStreamId = 'f';
  s.timestampOffset = 0xfffffff0;
  s.seqOffset = 65000;
  s.headerExtensions = [
    { id: 4, uri: w.RTP_EXTENSION_URI.sdesMid },
    { id: 3, uri: w.RTP_EXTENSION_URI.absSendTime },
    ...(wideSeq ? [{ id: 5, uri: w.RTP_EXTENSION_URI.transportWideCC }] : []),
    { id: 10, uri: w.RTP_EXTENSION_URI.sdesRTPStreamID },
    { id: 11, uri: w.RTP_EXTENSION_URI.repairedRtpStreamId }, // no repaired id set: not written
  ];
  s.dtlsTransport = {
    state: 'connected',
    transportSequenceNumber: 65530,
    async sendRtp(payload: Buffer, header: patched.RtpHeader) {
      sent.push({ header: header.serialize(header.serializeSize).toString('hex'), payload: payload.toString('hex') });
      return payload.length + 40;
    },
  };
  return sender;
}

function packet(w: Werift, i: number): patched.RtpPacket {
  const given = [
    [],
    [{ id: 1, payload: Buffer.from([i & 0x7f]) }],
    [{ id: 4, payload: Buffer.from('zz') }, { id: 2, payload: Buffer.from([1, 2]) }],
    [{ id: 12, payload: Buffer.from([9]) }, { id: 1, payload: Buffer.from([3]) }, { id: 5, payload: Buffer.from([7, 7]) }],
  ][i % 4];
  const header = new w.RtpHeader({
    sequenceNumber: (1000 + i * 97) & 0xffff,
    timestamp: (0xfffff000 + i * 3000) >>> 0,
    ssrc: 42,
    payloadType: 100,
    marker: i % 5 === 0,
    extensions: given,
  } as never);
  return new w.RtpPacket(header, Buffer.alloc(1 + (i % 40), i));
}

it('sends the same packets and leaves the sender in the same state as werift', async () => {
  const now = vi.spyOn(performance, 'now');
  patchWeriftSender();
  expect(patched.RTCRtpSender.prototype.sendRtp).not.toBe(original.RTCRtpSender.prototype.sendRtp);
  const [mine, theirs]: [Sent[], Sent[]] = [[], []];
  const [p, o] = [makeSender(patched, mine), makeSender(original, theirs)];
  for (let i = 0; i < 200; i++) {
    now.mockReturnValue(5000 + i * 13.37);
    await p.sendRtp(packet(patched, i));
    await o.sendRtp(packet(original, i));
    // A raw packet is parsed first.
    const raw = packet(original, i + 1000).serialize();
    await p.sendRtp(raw);
    await o.sendRtp(raw);
  }
  expect(mine.length).toBe(400);
  expect(mine).toEqual(theirs);
  const state = (x: unknown) => {
    type Info = { wideSeq: number; size: number };
    const s = x as Record<string, unknown> & { dtlsTransport: { transportSequenceNumber: number }; senderBWE: { sentInfos: Record<string, Info> }; rtpCache: patched.RtpPacket[] };
    return {
      ...Object.fromEntries(['ntpTimestamp', 'rtpTimestamp', 'octetCount', 'headerBytesSent', 'packetCount', 'timestamp', 'sequenceNumber'].map((k) => [k, s[k]])),
      twcc: s.dtlsTransport.transportSequenceNumber,
      // werift's milliTime is Date.now itself, taken at load: the times are real, leave them out.
      sentInfos: Object.entries(s.senderBWE.sentInfos).map(([k, v]) => [k, v.wideSeq, v.size]),
    };
  };
  expect(state(p)).toEqual(state(o));
  // The history: werift's last 128 packets, the same bytes, and older ones besides.
  const history = (x: unknown) => new Map((x as { rtpCache: (patched.RtpPacket | undefined)[] }).rtpCache.flatMap((r) => (r ? [[r.header.sequenceNumber, r.serialize().toString('hex')] as const] : [])));
  const [ours, werifts] = [history(p), history(o)];
  expect(werifts.size).toBe(128);
  expect(ours.size).toBeGreaterThan(200);
  for (const [seq, bytes] of werifts) expect(ours.get(seq)).toBe(bytes);
  // Not sent: not connected.
  (p as unknown as { dtlsTransport: { state: string } }).dtlsTransport.state = 'closed';
  await p.sendRtp(packet(patched, 1));
  expect(mine.length).toBe(400);
});

it('writes no transport-wide sequence number of its own: only probe padding carries one (DownTrack)', async () => {
  patchWeriftSender();
  const sent: Sent[] = [];
  const sender = makeSender(patched, sent, true);
  const header = new patched.RtpHeader({ sequenceNumber: 1, timestamp: 1, ssrc: 42, payloadType: 100 } as never);
  await sender.sendRtp(new patched.RtpPacket(header, Buffer.alloc(10)));
  const parsed = patched.RtpHeader.deSerialize(Buffer.from(sent[0]!.header, 'hex'));
  expect(parsed.extensions.map((e) => e.id).sort((a, b) => a - b)).toEqual([3, 4, 10]); // abs-send-time, mid, rid
  expect((sender as unknown as { dtlsTransport: { transportSequenceNumber: number } }).dtlsTransport.transportSequenceNumber).toBe(65530);
});
