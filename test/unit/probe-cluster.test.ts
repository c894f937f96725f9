import { describe, expect, it } from 'vitest';
import { feedbackArrivals, ProbeCluster, type FeedbackLike } from '../../src/media/worker/probe-cluster.js';
import { buildFeedback } from '../../src/media/worker/twcc-feedback.js';
import { parseFeedback } from '../helpers/twcc.js';

/** A feedback as the browser would send it (our encoder), parsed by werift as the server does. */
function feedback(base: number, arrivals: (number | undefined)[]): FeedbackLike {
  return parseFeedback(buildFeedback({ senderSsrc: 1, mediaSsrc: 2, base, arrivals, feedbackCount: 0 }));
}

describe('transport-cc feedback read back', () => {
  it('gives each sequence number its arrival time, or null when lost, across the 16-bit wrap', () => {
    const arrivals = [70_000, 71_000, undefined, 75_500, 74_000, 140_000];
    const got = feedbackArrivals(feedback(65534, arrivals));
    // The origin is the 64 ms reference: times are kept to the 250 µs unit relative to it.
    expect([...got.keys()]).toEqual([65534, 65535, 0, 1, 2, 3]);
    expect([...got.values()]).toEqual([70_000, 71_000, null, 75_500, 74_000, 140_000]);
  });

  it('reads one-bit status vectors (Chrome sends them)', () => {
    const fb: FeedbackLike = {
      baseSequenceNumber: 10, packetStatusCount: 5, referenceTime: 0,
      packetChunks: [{ symbolSize: 0, symbolList: [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }],
      recvDeltas: [{ delta: 1000 }, { delta: 250 }, { delta: 500 }],
    };
    expect([...feedbackArrivals(fb)]).toEqual([[10, 1000], [11, null], [12, 1250], [13, 1750], [14, null]]);
  });
});

describe('a probe cluster', () => {
  /** 40 packets sent 12.5 ms apart over 500 ms (µs clock = ms × 1000), arriving `delay(i)` µs later. */
  function run(delay: (i: number) => number | null, answerUpTo = 40) {
    const cluster = new ProbeCluster(1_000_000, 600_000, 0);
    const arrivals = new Map<number, number | null>();
    for (let i = 0; i < 40; i++) {
      const seq = (65520 + i) & 0xffff;
      cluster.packetSent(seq, i * 12_500);
      const d = delay(i);
      if (i < answerUpTo) arrivals.set(seq, d === null ? null : 5_000_000 + i * 12_500 + d);
    }
    cluster.feedback(arrivals);
    return cluster;
  }

  it('is carried when the packets arrive as they were sent', () => {
    expect(run(() => 20_000).verdict(600)).toBe('carried');
    expect(run((i) => 20_000 + (i % 3) * 3000).verdict(600)).toBe('carried'); // jitter, no growth
  });

  it('finds the link full when the delay grows after a burst the shaper let through', () => {
    // Free for the first 20 packets (the shaper's burst), then 4 ms more per packet.
    expect(run((i) => 20_000 + Math.max(0, i - 20) * 4000).verdict(600)).toBe('full');
  });

  it('finds the link full when a queue shows while sending, and calls one seen only after it unclear', () => {
    // 80 ms more from packet 10 on, flat after that: the second half alone shows no growth.
    const stayed = (i: number) => 20_000 + Math.min(Math.max(0, i - 10), 8) * 10_000;
    const whileSending = run(stayed);
    expect(whileSending.verdict(400)).toBe('full'); // its padding stops here
    expect(whileSending.verdict(600)).toBe('full');
    // Seen only once all was sent, with a second half that neither grew nor lost: it says
    // nothing either way (seen on free links just after a limit lifted).
    expect(run(stayed).verdict(600)).toBe('unclear');
  });

  it('finds the link full when the judged packets are lost, and says so while still sending', () => {
    expect(run((i) => (i >= 20 && i % 4 === 0 ? null : 20_000)).verdict(600)).toBe('full');
    const early = run((i) => 20_000 + Math.max(0, i - 20) * 4000, 32);
    expect(early.sending(400)).toBe(true);
    expect(early.verdict(400)).toBe('full');
  });

  it('calls it unclear when too few packets went out to tell (padding goes only between frames)', () => {
    const few = new ProbeCluster(1_000_000, 600_000, 0);
    const arrivals = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      few.packetSent(i, i * 25_000);
      arrivals.set(i, 5_000_000 + i * 25_000);
    }
    few.feedback(arrivals);
    expect(few.verdict(600)).toBe('unclear');
  });

  it('waits for the answer, and without one raises nothing', () => {
    const pending = run(() => 20_000, 30);
    expect(pending.verdict(600)).toBeUndefined();
    expect(pending.verdict(2100)).toBe('full'); // 10 of 20 judged packets never reported: not carried
    const silent = new ProbeCluster(1_000_000, 600_000, 0);
    for (let i = 0; i < 40; i++) silent.packetSent(i, i * 12_500);
    expect(silent.verdict(1000)).toBeUndefined();
    expect(silent.verdict(2100)).toBe('full');
    expect(silent.answered).toBe(false);
  });
});
