import { GenericNack, RTCRtpSender, RtcpTransportLayerFeedback, RtpHeader, RtpPacket } from 'werift';
import { expect, it } from 'vitest';
import { nackedToResend, patchWeriftNackLimit } from '../../src/media/worker/werift-nack-limit.js';

it('resends a packet at most once per round trip and three times in all, and forgets it when its slot is reused', () => {
  const sender: { rtt?: number } = { rtt: 0.2 };
  expect(nackedToResend(sender, [10, 11], 1000)).toEqual([10, 11]);
  expect(nackedToResend(sender, [10, 11, 12], 1100)).toEqual([12]); // 100 ms < the 200 ms round trip
  expect(nackedToResend(sender, [10], 1200)).toEqual([10]);
  expect(nackedToResend(sender, [10], 1400)).toEqual([10]);
  expect(nackedToResend(sender, [10], 1600)).toEqual([]); // three times already
  expect(nackedToResend(sender, [10 + 128], 1700)).toEqual([138]); // another packet in that history slot
  // Without a measured round trip, 100 ms; a nonsense one is held within 30–500 ms.
  const fresh: { rtt?: number } = {};
  expect(nackedToResend(fresh, [5], 0)).toEqual([5]);
  expect(nackedToResend(fresh, [5], 99)).toEqual([]);
  expect(nackedToResend(fresh, [5], 100)).toEqual([5]);
  fresh.rtt = 40;
  expect(nackedToResend(fresh, [6], 200)).toEqual([6]);
  expect(nackedToResend(fresh, [6], 700)).toEqual([6]);
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
  // The padding as it was; the media packet through werift, in RTX (a new sequence number).
  expect(sent.find((p) => p.seq === 7)).toEqual({ seq: 7, padding: true });
  expect(sent).toHaveLength(2);
  expect(sent.find((p) => p.seq !== 7)?.padding).toBe(false);
  expect(told).toEqual([[8]]);
});

it('passes werift only the packets to resend, and still tells who listens for NACKs', () => {
  patchWeriftNackLimit();
  const sender = new RTCRtpSender('video');
  const told: number[][] = [];
  sender.onGenericNack.subscribe((nack) => told.push([...nack.lost]));
  const nack = (lost: number[]) => new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost }) });
  sender.handleRtcpPacket(nack([1, 2]));
  sender.handleRtcpPacket(nack([1, 2, 3]));
  expect(told).toEqual([[1, 2], [3]]);
});
