import { CoreError } from './errors.js';

/** One counter an attempt counts against: a key (meeting, address, user…) and how many it allows. */
export interface Limit {
  key: string;
  max: number;
}

/**
 * Counts attempts per key over a sliding window. `take` checks every key and counts the attempt
 * against all of them in one synchronous step, so concurrent requests cannot all pass the check
 * before any of them is counted; an attempt that turns out right is taken back. Past a limit,
 * further tries are refused outright until old ones age out — also right ones, so a guesser
 * cannot tell. In memory: a restart forgets, which only gives a guesser a fresh window.
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    /** What the refusal says, before "; try again in …". */
    private readonly what = 'too many wrong attempts',
  ) {}

  /** Throws `rate_limited` when one of the keys is at its limit; otherwise counts one attempt now. */
  take(limits: readonly Limit[], now = Date.now()): Attempt {
    this.check(limits, now);
    for (const { key } of limits) {
      const times = this.windows.get(key);
      if (times) times.push(now);
      else this.windows.set(key, [now]);
    }
    if (this.windows.size > 100_000) this.prune(now);
    let taken = true;
    return {
      takeBack: () => {
        if (!taken) return;
        taken = false;
        for (const { key } of limits) {
          const times = this.windows.get(key);
          const i = times?.lastIndexOf(now) ?? -1;
          if (i >= 0) times!.splice(i, 1);
          if (times?.length === 0) this.windows.delete(key);
        }
      },
    };
  }

  /** Throws `rate_limited` when one of the keys is at its limit; counts nothing. */
  check(limits: readonly Limit[], now = Date.now()): void {
    let wait = 0;
    for (const { key, max } of limits) wait = Math.max(wait, this.waitFor(key, max, now));
    if (wait > 0) throw rateLimited(this.what, wait);
  }

  private waitFor(key: string, max: number, now: number): number {
    const times = this.windows.get(key);
    if (!times) return 0;
    const fresh = times.filter((t) => now - t < this.windowMs);
    if (fresh.length === 0) {
      this.windows.delete(key);
      return 0;
    }
    if (fresh.length !== times.length) this.windows.set(key, fresh);
    if (fresh.length < max) return 0;
    return fresh[fresh.length - max] + this.windowMs - now;
  }

  private prune(now: number): void {
    for (const [key, times] of this.windows) {
      if (times.every((t) => now - t >= this.windowMs)) this.windows.delete(key);
    }
  }
}

export interface Attempt {
  /** The attempt was right: it no longer counts (idempotent). */
  takeBack(): void;
}

/**
 * Caps how many expensive checks (argon2 verifications) run at once per key, so that one client
 * or one meeting cannot queue unbounded CPU work. Over the cap a request is refused at once
 * (try again in a second) instead of waiting.
 */
export class InFlight {
  private readonly running = new Map<string, number>();

  /** Throws `rate_limited` when a key is at its cap; otherwise holds a slot of each until `release`. */
  enter(limits: readonly Limit[]): () => void {
    for (const { key, max } of limits) {
      if ((this.running.get(key) ?? 0) >= max) throw rateLimited('too many attempts at once', 1000);
    }
    for (const { key } of limits) this.running.set(key, (this.running.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      for (const { key } of limits) {
        const n = (this.running.get(key) ?? 1) - 1;
        if (n <= 0) this.running.delete(key);
        else this.running.set(key, n);
      }
    };
  }

  /** Checks running now (for tests and diagnostics). */
  count(key: string): number {
    return this.running.get(key) ?? 0;
  }
}

function rateLimited(what: string, waitMs: number): CoreError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const words = seconds < 60 ? `${seconds} second(s)` : `${Math.ceil(seconds / 60)} minute(s)`;
  return new CoreError('rate_limited', `${what}; try again in ${words}`, { details: { retryAfterSeconds: seconds } });
}
