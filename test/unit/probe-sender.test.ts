import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ProbeSender } from '../../src/media/worker/probe-sender.js';
import { buildFeedback } from '../../src/media/worker/twcc-feedback.js';
import { parseFeedback } from '../helpers/twcc.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A feedback reporting these sequence numbers received at these times (µs), parsed as werift does. */
function feedbackPacket(base: number, arrivals: number[]) {
  return { type: 205, feedback: parseFeedback(buildFeedback({ senderSsrc: 1, mediaSsrc: 2, base, arrivals, feedbackCount: 0 })) } as never;
}

it('paces a cluster\'s padding over its duration with numbered packets, and gives its verdict from the feedback', () => {
  const sender = new ProbeSender(300, () => Date.now() * 1000);
  const sent: { seq: number; at: number }[] = [];
  sender.start({ testedBps: 1_000_000, paddingBps: 480_000 }, Date.now(), (count, wideSeq) => {
    for (let i = 0; i < count; i++) sent.push({ seq: wideSeq(), at: Date.now() * 1000 });
    return count;
  });
  expect(sender.idle).toBe(false);
  vi.advanceTimersByTime(600);
  // 480 kbit/s for 500 ms in 300-byte packets: 100, at most one tick's worth either way.
  expect(sent.length).toBeGreaterThanOrEqual(98);
  expect(sent.length).toBeLessThanOrEqual(102);
  expect(sent.map((s) => s.seq)).toEqual(sent.map((_, i) => i + 1));
  expect(sender.poll(Date.now())).toBeUndefined();
  // Everything arrived 20 ms after it was sent.
  sender.onRtcp(feedbackPacket(1, sent.map((s) => s.at + 20_000)));
  const result = sender.poll(Date.now());
  expect(result).toMatchObject({ verdict: 'carried', summary: { packets: sent.length, lost: 0, growthMs: 0, queueMs: 0 } });
  // What flowed (520k) and the padding that went out.
  expect(result!.testedBps).toBe(520_000 + (sent.length * 300 * 8) / 0.5);
  expect(sender.idle).toBe(true);
});

it('calls a cluster whose padding fell short of what was asked unclear, not carried', () => {
  const sender = new ProbeSender(300, () => Date.now() * 1000);
  const sent: { seq: number; at: number }[] = [];
  // One packet a tick where two were owed (few frame boundaries): about half of the padding goes out.
  sender.start({ testedBps: 1_000_000, paddingBps: 480_000 }, Date.now(), (count, wideSeq) => {
    if (count === 0) return 0;
    sent.push({ seq: wideSeq(), at: Date.now() * 1000 });
    return 1;
  });
  vi.advanceTimersByTime(600);
  sender.onRtcp(feedbackPacket(1, sent.map((s) => s.at + 20_000)));
  expect(sent.length).toBeGreaterThanOrEqual(40); // 20 and more judged: enough to be carried
  expect(sent.length).toBeLessThan(80);
  expect(sender.poll(Date.now())).toMatchObject({ verdict: 'unclear' });
});

it('stops probing a browser that never answers', () => {
  const sender = new ProbeSender(300, () => Date.now() * 1000);
  for (let i = 0; i < 2; i++) {
    sender.start({ testedBps: 1_000_000, paddingBps: 480_000 }, Date.now(), (count, wideSeq) => {
      for (let k = 0; k < count; k++) wideSeq();
      return count;
    });
    vi.advanceTimersByTime(2100);
    expect(sender.poll(Date.now())).toMatchObject({ verdict: 'full' });
  }
  expect(sender.idle).toBe(false);
});
