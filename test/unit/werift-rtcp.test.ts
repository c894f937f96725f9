// The RtcpPacketConverter patch: each packet of a compound is parsed from its own bytes, and a
// report block's cumulative loss is signed.
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { expect, it } from 'vitest';
import { patchWeriftRtcp } from '../../src/media/worker/werift-rtcp.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;

function nackThenRemb(w: typeof patched): Buffer {
  const nack = new w.RtcpTransportLayerFeedback({ feedback: new w.GenericNack({ senderSsrc: 1, mediaSourceSsrc: 2, lost: [1000, 1003] }) });
  const remb = new w.RtcpPayloadSpecificFeedback({
    feedback: new w.ReceiverEstimatedMaxBitrate({ senderSsrc: 1, mediaSsrc: 0, brExp: 3, brMantissa: 62_500, ssrcNum: 1, ssrcFeedbacks: [2] } as never),
  });
  return Buffer.concat([nack.serialize(), remb.serialize()]);
}

const lostIn = (packets: unknown[]) =>
  packets.flatMap((p) => (p instanceof patched.RtcpTransportLayerFeedback || p instanceof original.RtcpTransportLayerFeedback ? [(p.feedback as patched.GenericNack).lost] : []));

it('reads a NACK followed by a REMB as the NACK alone, then the REMB', () => {
  const compound = nackThenRemb(patched);
  // werift's own parser reads the REMB as more lost packets.
  expect(lostIn(original.RtcpPacketConverter.deSerialize(compound))[0]!.length).toBeGreaterThan(2);
  patchWeriftRtcp();
  const packets = patched.RtcpPacketConverter.deSerialize(compound);
  expect(lostIn(packets)).toEqual([[1000, 1003]]);
  const remb = packets.find((p) => p instanceof patched.RtcpPayloadSpecificFeedback) as patched.RtcpPayloadSpecificFeedback;
  expect(Number((remb.feedback as patched.ReceiverEstimatedMaxBitrate).bitrate)).toBeGreaterThan(490_000);
});

it('parses a single packet, and a sender report followed by an SDES, as werift does', () => {
  patchWeriftRtcp();
  const sr = new patched.RtcpSrPacket({
    ssrc: 7,
    senderInfo: new patched.RtcpSenderInfo({ ntpTimestamp: 123n, rtpTimestamp: 456, packetCount: 3, octetCount: 900 }),
    reports: [new patched.RtcpReceiverInfo({ ssrc: 9, fractionLost: 1, packetsLost: 2, highestSequence: 3, jitter: 4, lsr: 5, dlsr: 6 })],
  }).serialize();
  const sdes = new patched.RtcpSourceDescriptionPacket({ chunks: [new patched.SourceDescriptionChunk({ source: 7, items: [new patched.SourceDescriptionItem({ type: 1, text: 'cname' })] })] }).serialize();
  const text = (packets: unknown[]) => JSON.stringify(packets, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  for (const data of [sr, Buffer.concat([sr, sdes])]) {
    expect(text(patched.RtcpPacketConverter.deSerialize(data))).toBe(text(original.RtcpPacketConverter.deSerialize(data)));
  }
});

it('reads a receiver report\'s cumulative loss as signed: duplicates make it negative', () => {
  patchWeriftRtcp();
  const rr = (packetsLost: number) => new patched.RtcpRrPacket({
    ssrc: 7, reports: [new patched.RtcpReceiverInfo({ ssrc: 9, fractionLost: 0, packetsLost, highestSequence: 3, jitter: 4, lsr: 5, dlsr: 6 })],
  }).serialize();
  const lost = (data: Buffer) => patched.RtcpPacketConverter.deSerialize(data).flatMap((p) => (p as patched.RtcpRrPacket).reports.map((r) => r.packetsLost));
  // werift alone: -1 (0xffffff in 24 bits) is 16,777,215 packets lost.
  expect((original.RtcpPacketConverter.deSerialize(rr(0xffffff))[0] as patched.RtcpRrPacket).reports[0]!.packetsLost).toBe(0xffffff);
  expect(lost(rr(0xffffff))).toEqual([-1]);
  expect(lost(rr(0x800000))).toEqual([-0x800000]);
  expect(lost(rr(0x7fffff))).toEqual([0x7fffff]);
  expect(lost(rr(2))).toEqual([2]);
});
