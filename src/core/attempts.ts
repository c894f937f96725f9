import { CoreError } from './errors.js';

/** One counter an attempt counts against: a key (meeting, address, user…) and how many it allows. */
export interface Limit {
  key: string;
  max: number;
}

/** The attempts of one key still in the window: counts per time stamp, oldest first. */
interface Window {
  stamps: number[];
  counts: number[];
  total: number;
}

/**
 * Counts attempts per key over a sliding window. `take` checks every key and counts the attempt
 * against all of them in one synchronous step, so concurrent requests cannot all pass the check
 * before any of them is counted; an attempt that turns out right is taken back. Past a limit,
 * further tries are refused outright until old ones age out — also right ones, so a guesser
 * cannot tell. In memory: a restart forgets, which only gives a guesser a fresh window.
 *
 * Attempts are counted per `bucketMs` (1 ms by default: exact): with a coarser bucket a key
 * keeps at most window/bucket counters however high its limit (API rate limits count thousands
 * of requests a minute), and an attempt ages out up to one bucket early (a window of 60 s in
 * one-second buckets lasts 59 to 60 s), so Retry-After never exceeds the window.
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    /** What the refusal says, before "; try again in …". */
    private readonly what = 'too many wrong attempts',
    private readonly bucketMs = 1,
  ) {}

  /** Throws `rate_limited` when one of the keys is at its limit; otherwise counts one attempt now. */
  take(limits: readonly Limit[], now = Date.now()): Attempt {
    this.check(limits, now);
    // The start of now's bucket (now itself with exact, 1 ms buckets).
    const stamp = now - (now % this.bucketMs);
    for (const { key } of limits) {
      const w = this.windows.get(key);
      if (w) add(w, stamp);
      else this.windows.set(key, { stamps: [stamp], counts: [1], total: 1 });
    }
    if (this.windows.size > 100_000) this.prune(now);
    let taken = true;
    return {
      takeBack: () => {
        if (!taken) return;
        taken = false;
        for (const { key } of limits) {
          const w = this.windows.get(key);
          const i = w?.stamps.lastIndexOf(stamp) ?? -1;
          if (i < 0) continue;
          w!.total--;
          if (--w!.counts[i] === 0) {
            w!.stamps.splice(i, 1);
            w!.counts.splice(i, 1);
          }
          if (w!.total === 0) this.windows.delete(key);
        }
      },
    };
  }

  /**
   * `take` for one key whose attempts are never taken back (request rate limits): the same
   * counting, without the allocations of the general case (it runs on every API request).
   */
  count(key: string, max: number, now = Date.now()): void {
    const wait = this.waitFor(key, max, now);
    if (wait > 0) throw rateLimited(this.what, wait);
    const stamp = now - (now % this.bucketMs);
    const w = this.windows.get(key);
    if (w) add(w, stamp);
    else this.windows.set(key, { stamps: [stamp], counts: [1], total: 1 });
    if (this.windows.size > 100_000) this.prune(now);
  }

  /** Throws `rate_limited` when one of the keys is at its limit; counts nothing. */
  check(limits: readonly Limit[], now = Date.now()): void {
    let wait = 0;
    for (const { key, max } of limits) wait = Math.max(wait, this.waitFor(key, max, now));
    if (wait > 0) throw rateLimited(this.what, wait);
  }

  private waitFor(key: string, max: number, now: number): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    while (w.stamps.length > 0 && now - w.stamps[0] >= this.windowMs) {
      w.total -= w.counts[0];
      w.stamps.shift();
      w.counts.shift();
    }
    if (w.stamps.length === 0) {
      this.windows.delete(key);
      return 0;
    }
    if (w.total < max) return 0;
    // Below the limit again once the oldest (total - max + 1) attempts have aged out.
    let due = w.total - max + 1;
    for (let i = 0; i < w.stamps.length; i++) {
      due -= w.counts[i];
      if (due <= 0) return w.stamps[i] + this.windowMs - now;
    }
    return this.windowMs; // not reached: the counts add up to total
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.stamps[w.stamps.length - 1] >= this.windowMs) this.windows.delete(key);
    }
  }
}

/** Counts one attempt at `stamp`, keeping the stamps in order (now only goes back if the clock does). */
function add(w: Window, stamp: number): void {
  w.total++;
  let i = w.stamps.length - 1;
  if (w.stamps[i] === stamp) {
    w.counts[i]++;
    return;
  }
  while (i >= 0 && w.stamps[i] > stamp) i--;
  if (i >= 0 && w.stamps[i] === stamp) w.counts[i]++;
  else {
    w.stamps.splice(i + 1, 0, stamp);
    w.counts.splice(i + 1, 0, 1);
  }
}

export interface Attempt {
  /** The attempt was right: it no longer counts (idempotent; a promise when the counter is shared). */
  takeBack(): void | Promise<void>;
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

/** The refusal of every limiter, in one wording (also the cluster's shared counters). */
export function rateLimited(what: string, waitMs: number): CoreError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const words = seconds < 60 ? `${seconds} second(s)` : `${Math.ceil(seconds / 60)} minute(s)`;
  return new CoreError('rate_limited', `${what}; try again in ${words}`, { details: { retryAfterSeconds: seconds } });
}
