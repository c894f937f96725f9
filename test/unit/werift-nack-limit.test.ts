import { GenericNack, RTCRtpSender, RtcpTransportLayerFeedback, RtpHeader, RtpPacket } from 'werift';
import { expect, it } from 'vitest';
import { nackedToResend, onLostForGood, patchWeriftNackLimit, resendCounts } from '../../src/media/worker/werift-nack-limit.js';
import { RTP_HISTORY_SIZE } from '../../src/media/worker/werift-sender.js';

it('resends a packet at most once per round trip and three times in all, and forgets it when its slot is reused', () => {
  const sender: { rtt?: number } = { rtt: 0.2 };
  expect(nackedToResend(sender, [10, 11], 1000).resend).toEqual([10, 11]);
  expect(nackedToResend(sender, [10, 11, 12], 1100).resend).toEqual([12]); // 100 ms < the 200 ms round trip
  expect(nackedToResend(sender, [10], 1200).resend).toEqual([10]);
  expect(nackedToResend(sender, [10], 1400).resend).toEqual([10]);
  expect(nackedToResend(sender, [10], 1500)).toEqual({ resend: [], lostForGood: [] }); // three times already; the last may still come
  // Asked again a round trip after the third resend: lost for good, said once.
  expect(nackedToResend(sender, [10], 1600)).toEqual({ resend: [], lostForGood: [10] });
  expect(nackedToResend(sender, [10], 1800)).toEqual({ resend: [], lostForGood: [] });
  expect(nackedToResend(sender, [10 + RTP_HISTORY_SIZE], 1900).resend).toEqual([10 + RTP_HISTORY_SIZE]); // another packet in that history slot
  // Without a measured round trip, 100 ms; a nonsense one is held within 30–500 ms.
  const fresh: { rtt?: number } = {};
  expect(nackedToResend(fresh, [5], 0).resend).toEqual([5]);
  expect(nackedToResend(fresh, [5], 99).resend).toEqual([]);
  expect(nackedToResend(fresh, [5], 100).resend).toEqual([5]);
  fresh.rtt = 40;
  expect(nackedToResend(fresh, [6], 200).resend).toEqual([6]);
  expect(nackedToResend(fresh, [6], 700).resend).toEqual([6]);
});

it('resends padding as it was sent, outside werift (whose RTX wrapper would drop its P bit)', async () => {
  patchWeriftNackLimit();
  const sender = new RTCRtpSender('video');
  const s = sender as unknown as { rtpCache: unknown[]; dtlsTransport: unknown; rtxPayloadType: number };
  const sent: { seq: number; padding: boolean }[] = [];
  s.dtlsTransport = {
    state: 'connected',
    sendRtp: async (_payload: Buffer, header: { sequenceNumber: number; padding: boolean; payloadType: number }) => {
      sent.push({ seq: header.sequenceNumber, padding: header.padding });
      return 0;
    },
  };
  s.rtxPayloadType = 99;
  const cached = (sequenceNumber: number, padding: boolean) =>
    new RtpPacket(new RtpHeader({ sequenceNumber, padding, payloadType: 96, ssrc: sender.ssrc }), Buffer.alloc(padding ? 255 : 10));
  s.rtpCache[7] = cached(7, true);
  s.rtpCache[8] = cached(8, false);
  const told: number[][] = [];
  sender.onGenericNack.subscribe((nack) => told.push([...nack.lost]));
  sender.handleRtcpPacket(new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost: [7, 8] }) }));
  await new Promise((r) => setTimeout(r, 10));
  // The padding as it was; the media packet in RTX (a new sequence number).
  expect(sent.find((p) => p.seq === 7)).toEqual({ seq: 7, padding: true });
  expect(sent).toHaveLength(2);
  expect(sent.find((p) => p.seq !== 7)?.padding).toBe(false);
  expect(told).toEqual([[8]]);
});

it('tells who listens for NACKs the media packets chosen for a resend', () => {
  patchWeriftNackLimit();
  const sender = new RTCRtpSender('video');
  const told: number[][] = [];
  sender.onGenericNack.subscribe((nack) => told.push([...nack.lost]));
  const nack = (lost: number[]) => new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost }) });
  sender.handleRtcpPacket(nack([1, 2]));
  sender.handleRtcpPacket(nack([1, 2, 3]));
  expect(told).toEqual([[1, 2], [3]]);
});

it('tells the DownTrack once a media packet stays lost after its resends, not for padding', () => {
  patchWeriftNackLimit();
  const sender = new RTCRtpSender('video');
  const s = sender as unknown as { rtpCache: unknown[]; dtlsTransport: unknown; rtt: number };
  s.dtlsTransport = { state: 'connected', sendRtp: async () => 0 };
  s.rtt = 0.05;
  s.rtpCache[7] = new RtpPacket(new RtpHeader({ sequenceNumber: 7, padding: true, payloadType: 96, ssrc: sender.ssrc }), Buffer.alloc(255));
  let told = 0;
  onLostForGood(sender, () => told++);
  const nack = (lost: number[]) => sender.handleRtcpPacket(new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost }) }));
  const realNow = performance.now;
  let now = 1000;
  performance.now = () => now;
  try {
    // The padding 7: resent three times, then asked again: nothing to tell.
    for (let i = 0; i < 5; i++, now += 60) nack([7]);
    expect(told).toBe(0);
    // The media packet 8 (not in the history: nothing to resend): told once.
    for (let i = 0; i < 4; i++, now += 60) nack([8]);
    expect(told).toBe(1);
    nack([8]);
    expect(told).toBe(1);
  } finally {
    performance.now = realNow;
  }
});

it('answers from a history larger than werift\'s 128 packets, in RTX with the original sequence number, and counts', async () => {
  patchWeriftNackLimit();
  const sender = new RTCRtpSender('video');
  const s = sender as unknown as { rtpCache: unknown[]; dtlsTransport: unknown; rtxPayloadType: number; rtxSsrc: number; retransmittedPacketsSent: number };
  const sent: { header: RtpHeader; payload: Buffer }[] = [];
  s.dtlsTransport = { state: 'connected', sendRtp: async (payload: Buffer, header: RtpHeader) => sent.push({ header, payload }) };
  s.rtxPayloadType = 99;
  s.rtxSsrc = 4242;
  // 400 packets sent since 1000 (as werift-sender.ts stores them), then a NACK for the first.
  for (let seq = 1000; seq < 1400; seq++) {
    s.rtpCache[seq % RTP_HISTORY_SIZE] = new RtpPacket(new RtpHeader({ sequenceNumber: seq, payloadType: 96, ssrc: sender.ssrc }), Buffer.from([seq & 0xff]));
  }
  const before = { ...resendCounts };
  const nack = (lost: number[]) => sender.handleRtcpPacket(new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost }) }));
  nack([1000, 1000 - RTP_HISTORY_SIZE]); // the second one's slot holds 1000 now
  expect(sent).toHaveLength(1);
  const [rtx] = sent;
  expect([rtx!.header.ssrc, rtx!.header.payloadType, rtx!.payload.readUInt16BE(0), rtx!.payload[2]]).toEqual([4242, 99, 1000, 1000 & 0xff]);
  expect(s.retransmittedPacketsSent).toBe(1);
  expect([resendCounts.resent - before.resent, resendCounts.missing - before.missing]).toEqual([1, 1]);
});
