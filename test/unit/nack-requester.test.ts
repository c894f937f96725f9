import { describe, expect, it } from 'vitest';
import { NACK_MAX_MISSING, NACK_MAX_TRIES, NACK_RETRY_MS, NackRequester } from '../../src/media/worker/nack-requester.js';
import type { Ticks } from '../../src/media/worker/shared-interval.js';

/** A requester on a hand-turned clock: `advance` moves time and runs the retry ticks. */
function setup() {
  let now = 1000;
  const ticks = new Set<() => void>();
  const clock: Ticks = {
    add(tick) {
      ticks.add(tick);
      return () => ticks.delete(tick);
    },
  };
  const sent: string[] = [];
  const requester = new NackRequester({ now: () => now, ticks: clock, send: (ssrc, lost) => sent.push(`${ssrc}: ${lost.join(',')}`) });
  const advance = (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      now += 50;
      for (const tick of [...ticks]) tick();
    }
  };
  const receive = (ssrc: number, ...seqs: number[]) => seqs.forEach((seq) => requester.received(ssrc, seq));
  return { requester, sent, advance, receive, ticking: () => ticks.size > 0 };
}

describe('NackRequester', () => {
  it('asks for a gap at once, and not again for what a retransmission brought', () => {
    const { requester, sent, advance, receive, ticking } = setup();
    receive(7, 100, 101, 104);
    expect(sent).toEqual(['7: 102,103']);
    receive(7, 102); // the retransmission (unwrapped from RTX) of 102
    expect(requester.missing(7)).toEqual([103]);
    advance(NACK_RETRY_MS);
    expect(sent).toEqual(['7: 102,103', '7: 103']);
    receive(7, 103);
    advance(NACK_RETRY_MS * 3);
    expect(sent.length).toBe(2);
    expect(ticking()).toBe(false); // nothing missing: the timer is given back
  });

  it('asks again every retry interval, NACK_MAX_TRIES times in all, then gives the packet up', () => {
    const { requester, sent, advance, receive, ticking } = setup();
    receive(7, 10, 12);
    advance(NACK_RETRY_MS * (NACK_MAX_TRIES + 3));
    expect(sent).toEqual(Array(NACK_MAX_TRIES).fill('7: 11'));
    expect(requester.missing(7)).toEqual([]);
    expect(ticking()).toBe(false);
  });

  it('follows the sequence numbers across 65535 → 0', () => {
    const { sent, receive } = setup();
    receive(7, 65533, 65534, 1, 2, 4);
    expect(sent).toEqual(['7: 65535,0', '7: 3']);
  });

  it('keeps each SSRC apart: a simulcast publisher’s layers interleave without gaps, and a layer’s loss is asked for on its SSRC', () => {
    const { sent, receive } = setup();
    for (let i = 0; i < 50; i++) {
      receive(1, 200 + i);
      receive(2, 40000 + i);
      if (i !== 30) receive(3, 65500 + i); // one packet of the top layer lost, across the wrap
    }
    expect(sent).toEqual([`3: ${(65500 + 30) & 0xffff}`]);
  });

  it('ignores a reordered packet, and does not ask for a gap larger than it keeps (an outage needs a keyframe)', () => {
    const { requester, sent, receive } = setup();
    receive(7, 500, 502, 501, 499);
    expect(sent).toEqual(['7: 501']);
    expect(requester.missing(7)).toEqual([]);
    receive(7, 502 + NACK_MAX_MISSING + 2);
    expect(sent.length).toBe(1);
    expect(requester.missing(7)).toEqual([]);
  });

  it('keeps at most NACK_MAX_MISSING missing packets per stream, the newest', () => {
    const { requester, receive } = setup();
    const lost: number[] = [];
    receive(7, 0);
    for (let seq = 3; seq <= 300; seq += 3) {
      receive(7, seq);
      lost.push(seq - 2, seq - 1);
    }
    expect(requester.missing(7)).toEqual(lost.slice(-NACK_MAX_MISSING));
  });

  it('close() stops the retries', () => {
    const { requester, sent, advance, receive, ticking } = setup();
    receive(7, 1, 3);
    requester.close();
    advance(NACK_RETRY_MS * 2);
    expect(sent.length).toBe(1);
    expect(ticking()).toBe(false);
  });
});
