import { describe, expect, it } from 'vitest';
import { AttemptLimiter, InFlight } from '../../src/core/attempts.js';
import { CoreError } from '../../src/core/errors.js';

const limits = (meeting: string, address: string, perAddress = 3, perMeeting = 10) =>
  [{ key: `${meeting}|${address}`, max: perAddress }, { key: meeting, max: perMeeting }];

describe('attempt limiter', () => {
  it('refuses an address after its attempts, until they age out; others are not affected', () => {
    const l = new AttemptLimiter(60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) l.take(limits('m', 'a'), t0 + i);
    expect(() => l.take(limits('m', 'a'), t0 + 10)).toThrow(CoreError);
    expect(() => l.check(limits('m', 'a'), t0 + 10)).toThrow(expect.objectContaining({
      code: 'rate_limited',
      details: expect.objectContaining({ retryAfterSeconds: 60 }),
      message: 'too many wrong attempts; try again in 1 minute(s)',
    }));
    expect(() => l.check(limits('m', 'b'), t0 + 10)).not.toThrow();
    expect(() => l.check(limits('other', 'a'), t0 + 10)).not.toThrow();
    expect(() => l.check(limits('m', 'a'), t0 + 60_001)).not.toThrow();
  });

  it('counts in the same step as it checks: a burst before any answer is still cut at the limit', () => {
    const l = new AttemptLimiter(60_000);
    let passed = 0;
    for (let i = 0; i < 20; i++) {
      try {
        l.take(limits('m', 'a'), 1000); // nothing is awaited between these: all "in flight" at once
        passed++;
      } catch {
        // refused
      }
    }
    expect(passed).toBe(3);
  });

  it('a right attempt is taken back and does not count', () => {
    const l = new AttemptLimiter(60_000);
    for (let i = 0; i < 10; i++) {
      const attempt = l.take(limits('m', 'a'), 1000 + i);
      attempt.takeBack();
      attempt.takeBack(); // twice is once
    }
    expect(() => l.take(limits('m', 'a'), 2000)).not.toThrow();
  });

  it('refuses the whole meeting after many attempts from many addresses', () => {
    const l = new AttemptLimiter(60_000);
    for (let i = 0; i < 5; i++) l.take(limits('m', `addr-${i}`, 3, 5), 1000);
    expect(() => l.check(limits('m', 'fresh', 3, 5), 1001)).toThrow(/too many wrong attempts/);
  });

  it('any key can carry its own limit (a user name across meetings)', () => {
    const l = new AttemptLimiter(60_000, 'too many tries');
    const user = { key: 'u:acc|rita', max: 4 };
    for (let i = 0; i < 4; i++) l.take([...limits(`m${i}`, 'a'), user], 1000);
    expect(() => l.take([...limits('m9', 'b'), user], 1001)).toThrow(/^too many tries; try again in/);
  });
});

describe('attempt limiter in buckets (API rate limits)', () => {
  it('counts thousands of requests in one counter per second, and never asks to wait longer than the window', () => {
    const l = new AttemptLimiter(60_000, 'too many requests', 1000);
    const limit = [{ key: 'acc', max: 5000 }];
    for (let i = 0; i < 5000; i++) l.take(limit, 1_000_000 + i * 10); // 5000 requests over 50 s
    expect((l as unknown as { windows: Map<string, { stamps: number[] }> }).windows.get('acc')!.stamps).toHaveLength(50);
    const refused = (() => { try { l.take(limit, 1_050_500); } catch (e) { return e as CoreError; } })();
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.details?.retryAfterSeconds).toBeLessThanOrEqual(60);
    // The first second's 100 requests age out 60 s after that second began: room for 100 more, not 101.
    for (let i = 0; i < 100; i++) l.take(limit, 1_060_000 + i);
    expect(() => l.take(limit, 1_060_200)).toThrow(/too many requests/);
  });
});

describe('in-flight cap', () => {
  it('holds at most max per key at once and frees the slot on release', () => {
    const f = new InFlight();
    const a = f.enter([{ key: 'addr', max: 2 }, { key: '*', max: 3 }]);
    const b = f.enter([{ key: 'addr', max: 2 }, { key: '*', max: 3 }]);
    expect(() => f.enter([{ key: 'addr', max: 2 }, { key: '*', max: 3 }])).toThrow(/too many attempts at once/);
    const c = f.enter([{ key: 'other', max: 2 }, { key: '*', max: 3 }]);
    expect(() => f.enter([{ key: 'third', max: 2 }, { key: '*', max: 3 }])).toThrow(CoreError);
    a();
    a(); // released once only
    expect(f.count('addr')).toBe(1);
    expect(f.count('*')).toBe(2);
    expect(() => f.enter([{ key: 'addr', max: 2 }, { key: '*', max: 3 }])()).not.toThrow();
    b();
    c();
    expect(f.count('*')).toBe(0);
  });
});
