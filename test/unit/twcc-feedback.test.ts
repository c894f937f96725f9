import { describe, expect, it, vi } from 'vitest';
import { SharedInterval } from '../../src/media/worker/shared-interval.js';
import { buildFeedback, encodeChunks, SequenceUnwrapper, TransportFeedback } from '../../src/media/worker/twcc-feedback.js';
import { parseFeedback } from '../helpers/twcc.js';

/** Parses a feedback with werift's own parser (an independent reading of the format). */
function parse(packet: Buffer) {
  expect(packet.length % 4).toBe(0);
  expect(packet[1]).toBe(205);
  expect(packet.readUInt16BE(2)).toBe(packet.length / 4 - 1);
  return parseFeedback(packet);
}

describe('transport-wide feedback', () => {
  it('encodes statuses as run lengths and two-bit vectors', () => {
    const chunks = encodeChunks([1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2]);
    // A run of 8 small deltas (T=0, S=1, 8), then a vector (T=1, two-bit) of 0, 1, 2 padded with 0s.
    expect([...chunks]).toEqual([0x20, 0x08, 0xc6, 0x00]);
    expect(encodeChunks([]).length).toBe(0);
  });

  it('reports arrivals against a 64 ms reference, lost packets as not received, late ones with a large delta', () => {
    // µs: the first packet 70 ms after the clock's origin (reference 1 × 64 ms, first delta 6 ms).
    const arrivals = [70_000, 71_000, undefined, 75_500, 74_000, 140_000];
    const fb = parse(buildFeedback({ senderSsrc: 1, mediaSsrc: 2, base: 65534, arrivals, feedbackCount: 7 }));
    expect([fb.baseSequenceNumber, fb.packetStatusCount, fb.referenceTime, fb.fbPktCount]).toEqual([65534, 6, 1, 7]);
    const deltas = fb.recvDeltas.map((d) => d.delta);
    // Received: 6 ms, +1 ms, +4.5 ms, −1.5 ms (out of order: large), +66 ms (beyond 63.75 ms: large).
    expect(deltas).toEqual([6000, 1000, 4500, -1500, 66000]);
    expect(fb.recvDeltas.map((d) => d.type)).toEqual([1, 1, 1, 2, 2]);
  });

  it('unwraps sequence numbers across 65535 and keeps reordered ones in place', () => {
    const u = new SequenceUnwrapper();
    expect([65534, 65535, 1, 0, 2].map((s) => u.unwrap(s))).toEqual([65534, 65535, 65537, 65536, 65538]);
  });

  it('one feedback per flush for every packet of the transport, whatever m-line it came on; a gap is lost, never reported twice', async () => {
    const sent: Buffer[] = [];
    let now = 1_000_000;
    const sink = { sendRtcp: async (packets: { serialize(): Buffer }[]) => sent.push(...packets.map((p) => p.serialize())) };
    const feedback = new TransportFeedback(sink, 11, 22, () => now, { add: () => () => undefined });
    try {
      for (const seq of [100, 101, 103]) {
        feedback.received(seq);
        now += 2000;
      }
      feedback.flush();
      feedback.received(102); // after its feedback said lost: not reported again
      feedback.received(104);
      feedback.flush();
      feedback.flush(); // nothing new: nothing sent
      await Promise.resolve();
      expect(sent).toHaveLength(2);
      const [a, b] = sent.map(parse);
      expect([a!.baseSequenceNumber, a!.packetStatusCount, a!.recvDeltas.length, a!.fbPktCount]).toEqual([100, 4, 3, 0]);
      expect([b!.baseSequenceNumber, b!.packetStatusCount, b!.recvDeltas.length, b!.fbPktCount]).toEqual([104, 1, 1, 1]);
    } finally {
      feedback.stop();
    }
  });

  it('feedbacks share one timer (SharedInterval), which stops when the last one leaves', () => {
    vi.useFakeTimers();
    try {
      const clock = new SharedInterval(50);
      const calls: string[] = [];
      const leaveA = clock.add(() => calls.push('a'));
      const leaveB = clock.add(() => calls.push('b'));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(100);
      expect(calls).toEqual(['a', 'b', 'a', 'b']);
      leaveA();
      vi.advanceTimersByTime(50);
      expect(calls.slice(4)).toEqual(['b']);
      leaveB();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
