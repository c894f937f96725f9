import { expect, it } from 'vitest';
import { LoopStalls, STALL_MS } from '../../src/media/worker/loop-stalls.js';

it('counts a gap between two turns of the thread as a stall from 250 ms, with its length', () => {
  let now = 1000;
  const stalls = new LoopStalls(() => now, false);
  for (let i = 0; i < 10; i++) {
    now += 10;
    stalls.check();
  }
  now += STALL_MS - 1; // long, but not a stall
  stalls.check();
  expect([stalls.count, stalls.seconds]).toEqual([0, 0]);
  now += 400;
  stalls.check();
  now += 10;
  stalls.check();
  now += 1000;
  stalls.check();
  expect(stalls.count).toBe(2);
  expect(stalls.seconds).toBeCloseTo(1.4);
});
