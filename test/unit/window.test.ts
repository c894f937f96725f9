import { describe, expect, it } from 'vitest';
import { CoreError } from '../../src/core/errors.js';
import { LIMITS } from '../../src/core/limits.js';
import { checkWindow } from '../../src/core/meetings.js';
import { isSwitchedOn } from '../../src/core/status.js';

const HOUR = 3600_000;
const now = new Date(Date.UTC(2030, 0, 1, 12, 0, 0)); // the clock is given: nothing here reads the real one
const at = (hoursFromNow: number) => new Date(now.getTime() + hoursFromNow * HOUR);
const refusal = (f: () => void) => {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal, and nothing was refused');
};

describe('schedule windows (checkWindow, the rule of every surface)', () => {
  it('a window of at most LIMITS.durationHours is fine; one second more is refused on endsAt', () => {
    expect(() => checkWindow(at(1), at(1 + LIMITS.durationHours), now)).not.toThrow();
    const error = refusal(() => checkWindow(at(1), new Date(at(1 + LIMITS.durationHours).getTime() + 1000), now));
    expect(error).toBeInstanceOf(CoreError);
    expect((error as CoreError).code).toBe('invalid');
    expect((error as CoreError).field).toBe('endsAt');
    expect((error as CoreError).message).toMatch(/^endsAt must be at most 744 hours \(31 days\) after the start/);
  });

  it('without a start, the window runs from now', () => {
    expect(() => checkWindow(null, at(LIMITS.durationHours), now)).not.toThrow();
    expect((refusal(() => checkWindow(null, at(LIMITS.durationHours + 0.001), now)) as CoreError).message).toMatch(/ from now:/);
  });

  it('a window that has begun counts from its start; one without an end has no length to limit', () => {
    expect(() => checkWindow(at(-2), at(LIMITS.durationHours - 2), now)).not.toThrow();
    expect(() => checkWindow(at(-2), at(LIMITS.durationHours - 1), now)).toThrow(CoreError);
    expect(() => checkWindow(at(-10_000), null, now)).not.toThrow();
  });

  it('a window already over, or ending before it starts, is refused; without a clock only the order is judged', () => {
    expect((refusal(() => checkWindow(at(-2), at(-1), now)) as CoreError).message).toMatch(/^endsAt is in the past/);
    expect((refusal(() => checkWindow(at(2), at(1), now)) as CoreError).message).toBe('endsAt must be after the start');
    expect((refusal(() => checkWindow(new Date(Number.NaN), null)) as CoreError).field).toBe('startsAt');
    // A window set earlier may have run out or be long: it is not judged again.
    expect(() => checkWindow(at(-2000), at(-1))).not.toThrow();
  });
});

describe('switched on (Livebox Mode)', () => {
  it('is enabled and not cancelled', () => {
    expect(isSwitchedOn({ enabled: true, cancelledAt: null })).toBe(true);
    expect(isSwitchedOn({ enabled: false, cancelledAt: null })).toBe(false);
    expect(isSwitchedOn({ enabled: true, cancelledAt: now })).toBe(false);
  });
});
