import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from '../../src/core/attempts.js';
import { CoreError } from '../../src/core/errors.js';

describe('attempt limiter', () => {
  it('refuses an address after its failures, until they age out; others are not affected', () => {
    const l = new AttemptLimiter(3, 10, 60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      l.check('m', 'a', t0 + i);
      l.fail('m', 'a', t0 + i);
    }
    expect(() => l.check('m', 'a', t0 + 10)).toThrow(CoreError);
    try {
      l.check('m', 'a', t0 + 10);
    } catch (e) {
      expect((e as CoreError).code).toBe('rate_limited');
      expect((e as CoreError).details?.retryAfterSeconds).toBe(60);
    }
    expect(() => l.check('m', 'b', t0 + 10)).not.toThrow();
    expect(() => l.check('other', 'a', t0 + 10)).not.toThrow();
    expect(() => l.check('m', 'a', t0 + 60_001)).not.toThrow();
  });

  it('refuses the whole meeting after many failures from many addresses', () => {
    const l = new AttemptLimiter(3, 5, 60_000);
    for (let i = 0; i < 5; i++) l.fail('m', `addr-${i}`, 1000);
    expect(() => l.check('m', 'fresh', 1001)).toThrow(/too many wrong attempts/);
  });
});
