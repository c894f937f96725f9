// The RTCRtpReceiver.handleRTP patch against werift's unpatched CommonJS copy (see
// werift-srtp.test.ts for why `require('werift')` is the reference): the same packets, in the
// same order, reach the same tracks, the NACK handler, the TWCC feedback and the statistics.
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { afterEach, expect, it, vi } from 'vitest';
import { patchWeriftReceiver } from '../../src/media/worker/werift-receiver.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;
type Werift = typeof patched;

const VIDEO_SSRC = 1111;
const RTX_SSRC = 2222;
const OTHER_SSRC = 3333;

function makeReceiver(w: Werift, kind: 'video' | 'audio', log: string[]) {
  const receiver = new w.RTCRtpReceiver({} as never, kind, 42);
  const r = receiver as unknown as Record<string, unknown>;
  // werift calls it for every packet; what counts is that the reports start once.
  r.runRtcp = () => {
    if (!r.rtcpRunning) log.push('runRtcp');
    r.rtcpRunning = true;
    return Promise.resolve();
  };
  r.nack = { addPacket: (p: patched.RtpPacket) => log.push(`nack ${p.header.ssrc}/${p.header.sequenceNumber}`) };
  // What the patched receiver's NackRequester sends (werift's own NackHandler is stubbed above).
  r.dtlsTransport = {
    sendRtcp: (rtcp: { feedback: patched.GenericNack }[]) => {
      for (const { feedback } of rtcp) log.push(`NACK sent ${feedback.mediaSourceSsrc}: ${feedback.lost.join(',')}`);
      return Promise.resolve();
    },
  };
  r.receiverTWCC = undefined;
  r.setupTWCC = (ssrc: number) => {
    log.push(`setupTWCC ${ssrc}`);
    r.receiverTWCC = { handleTWCC: (seq: unknown) => log.push(`twcc ${String(seq)}`) };
  };
  const fb = (type: string) => new w.RTCRtcpFeedback({ type });
  const codecs = kind === 'video'
    ? [
      new w.RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: [fb('nack'), fb('transport-cc')] }),
      new w.RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: 90000, payloadType: 97, parameters: 'apt=96' }),
    ]
    : [new w.RTCRtpCodecParameters({ mimeType: 'audio/OPUS', clockRate: 48000, channels: 2, payloadType: 111, rtcpFeedback: [fb('transport-cc')] })];
  receiver.prepareReceive({ codecs, encodings: kind === 'video' ? [{ ssrc: VIDEO_SSRC, rtx: { ssrc: RTX_SSRC } }] : [], headerExtensions: [] } as never);
  const track = new w.MediaStreamTrack({ kind, ssrc: kind === 'video' ? VIDEO_SSRC : OTHER_SSRC, remote: true });
  receiver.addTrack(track);
  track.onReceiveRtp.subscribe((p, ext) => {
    log.push(`track ${p.header.ssrc}/${p.header.sequenceNumber}/${p.header.payloadType} ${p.payload.toString('hex')} ${JSON.stringify(ext)}`);
  });
  return { receiver, track };
}

function packets(w: Werift, kind: 'video' | 'audio') {
  const out: { packet: patched.RtpPacket; ssrc: number }[] = [];
  for (let i = 0; i < 40; i++) {
    const rtx = kind === 'video' && i % 9 === 4;
    const ssrc = kind === 'audio' ? OTHER_SSRC : rtx ? RTX_SSRC : i % 13 === 7 ? OTHER_SSRC : VIDEO_SSRC;
    const payloadType = kind === 'audio' ? 111 : rtx ? 97 : i === 30 ? 100 : 96; // 100: not negotiated
    // An RTX payload starts with the original sequence number.
    const payload = rtx ? Buffer.from([0, i - 2, 0xaa, i]) : Buffer.from([0x90, i, 0x55]);
    const header = new w.RtpHeader({ ssrc, payloadType, sequenceNumber: 65530 + i, timestamp: 1000 * i, marker: i % 3 === 0 });
    out.push({ packet: new w.RtpPacket(header, payload), ssrc });
  }
  return out;
}

const ARRIVALS_FROM = Date.UTC(2026, 11, 6, 12);
afterEach(() => {
  vi.useRealTimers();
});

function run(w: Werift, kind: 'video' | 'audio'): string[] {
  vi.useFakeTimers({ toFake: ['Date'] });
  const log: string[] = [];
  const { receiver, track } = makeReceiver(w, kind, log);
  const r = receiver as unknown as { handleRTP(p: patched.RtpPacket, ext: unknown, t: unknown): void; remoteStreams: Record<number, Record<string, unknown>>; stopped: boolean };
  for (const [i, { packet, ssrc }] of packets(w, kind).entries()) {
    vi.setSystemTime(ARRIVALS_FROM + i * 13 + (i % 4) * 5); // the statistics' jitter reads Date.now()
    const ext = { [w.RTP_EXTENSION_URI.transportWideCC]: 100 + i };
    r.handleRTP(packet, ext, ssrc === OTHER_SSRC && kind === 'video' ? undefined : track);
  }
  r.stopped = true;
  r.handleRTP(packets(w, kind)[0]!.packet, {}, track);
  for (const [ssrc, s] of Object.entries(r.remoteStreams)) {
    const fields = ['packets_received', 'bytesReceived', 'headerBytesReceived', 'base_seq', 'max_seq', 'cycles', 'jitter_q4', 'last_arrival', 'last_timestamp'];
    log.push(`stats ${ssrc} ${fields.map((f) => `${f}=${String(s[f])}`).join(' ')}`);
  }
  return log;
}

const NACKS = /^(nack|NACK sent) /;
const withoutNacks = (log: { video: string[]; audio: string[] }) => ({ video: log.video.filter((l) => !NACKS.test(l)), audio: log.audio.filter((l) => !NACKS.test(l)) });

it('hands on video (with RTX and an unknown payload type) and audio as werift does, and NACKs what did not come', () => {
  const before = { video: run(patched, 'video'), audio: run(patched, 'audio') };
  expect(before).toEqual({ video: run(original, 'video'), audio: run(original, 'audio') });
  expect(before.video.some((l) => l.startsWith('nack 1111/'))).toBe(true);
  patchWeriftReceiver();
  const after = { video: run(patched, 'video'), audio: run(patched, 'audio') };
  expect(withoutNacks(after)).toEqual(withoutNacks(before));
  expect(after.video.filter((l) => l.startsWith('track 1111')).length).toBeGreaterThan(20);
  expect(after.video.filter((l) => l === 'runRtcp')).toHaveLength(1);
  expect(after.video.find((l) => l.startsWith('stats 1111'))).toMatch(/jitter_q4=[1-9]/);
  expect(after.video.some((l) => l.startsWith('nack '))).toBe(false); // werift's NackHandler hears nothing
  expect(after.video.some((l) => l.startsWith(`NACK sent ${VIDEO_SSRC}: `))).toBe(true);
  expect(after.audio.some((l) => NACKS.test(l))).toBe(false);
});

it('learns again when the codecs change', () => {
  patchWeriftReceiver();
  const log: string[] = [];
  const { receiver, track } = makeReceiver(patched, 'video', log);
  const r = receiver as unknown as { handleRTP(p: patched.RtpPacket, ext: unknown, t: unknown): void };
  const video = packets(patched, 'video');
  r.handleRTP(video[0]!.packet, {}, track);
  r.handleRTP(video[2]!.packet, {}, track);
  expect(log.filter((l) => l.startsWith('NACK sent'))).toEqual([`NACK sent ${VIDEO_SSRC}: ${video[1]!.packet.header.sequenceNumber}`]);
  receiver.prepareReceive({ codecs: [new patched.RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96, rtcpFeedback: [] })], encodings: [], headerExtensions: [] } as never);
  r.handleRTP(video[5]!.packet, {}, track);
  expect(log.filter((l) => l.startsWith('NACK sent'))).toHaveLength(1); // NACK no longer negotiated
});

it('NACKs the video packets that did not come, on their SSRC, and not one an RTX brought back', async () => {
  patchWeriftReceiver();
  const log: string[] = [];
  const { receiver, track } = makeReceiver(patched, 'video', log);
  const r = receiver as unknown as { handleRTP(p: patched.RtpPacket, ext: unknown, t: unknown): void };
  const video = (seq: number) => new patched.RtpPacket(new patched.RtpHeader({ ssrc: VIDEO_SSRC, payloadType: 96, sequenceNumber: seq, timestamp: seq * 100 } as never), Buffer.from([0x90, 1]));
  const rtx = (seq: number, of: number) => new patched.RtpPacket(new patched.RtpHeader({ ssrc: RTX_SSRC, payloadType: 97, sequenceNumber: seq, timestamp: 0 } as never), Buffer.from([of >> 8, of & 0xff, 0x90, 1]));
  for (const seq of [65533, 65534, 1, 2, 5]) r.handleRTP(video(seq), {}, track); // 65535 and 0 lost, then 3 and 4
  r.handleRTP(rtx(700, 0), {}, track); // 0 comes back in RTX (the RTX stream's first packet)
  r.handleRTP(rtx(701, 3), {}, track);
  r.handleRTP(video(6), {}, track);
  expect(log.filter((l) => l.startsWith('NACK sent'))).toEqual([`NACK sent ${VIDEO_SSRC}: 65535,0`, `NACK sent ${VIDEO_SSRC}: 3,4`]);
  expect(log.filter((l) => l.startsWith('track '))).toHaveLength(8);
  // The retry a round trip later names only what is still missing.
  await vi.waitFor(() => expect(log.filter((l) => l.startsWith('NACK sent')).length).toBe(3), { timeout: 3000 });
  expect(log.filter((l) => l.startsWith('NACK sent'))[2]).toBe(`NACK sent ${VIDEO_SSRC}: 65535,4`);
  (receiver as unknown as { stopped: boolean }).stopped = true; // its next retry closes the requester
});
