import { CoreError } from './errors.js';

interface Window {
  failures: number[];
}

/**
 * Counts wrong secrets (PINs, passwords) per meeting and per address over a sliding window.
 * Past the limit, further tries are refused outright until old failures age out — also right
 * ones, so a guesser cannot tell. In memory: a restart forgets, which only gives a guesser a
 * fresh window of a handful of tries.
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly perAddress = 5,
    private readonly perMeeting = 50,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Throws `rate_limited` when this address, or the meeting as a whole, has failed too often. */
  check(meetingId: string, address: string, now = Date.now()): void {
    const wait = Math.max(
      this.waitFor(`${meetingId}|${address}`, this.perAddress, now),
      this.waitFor(meetingId, this.perMeeting, now),
    );
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new CoreError('rate_limited', `too many wrong attempts; try again in ${Math.ceil(seconds / 60)} minute(s)`, { details: { retryAfterSeconds: seconds } });
    }
  }

  fail(meetingId: string, address: string, now = Date.now()): void {
    for (const key of [`${meetingId}|${address}`, meetingId]) {
      const w = this.windows.get(key) ?? { failures: [] };
      w.failures.push(now);
      this.windows.set(key, w);
    }
    if (this.windows.size > 100_000) this.prune(now);
  }

  private waitFor(key: string, limit: number, now: number): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    w.failures = w.failures.filter((t) => now - t < this.windowMs);
    if (w.failures.length === 0) this.windows.delete(key);
    if (w.failures.length < limit) return 0;
    return w.failures[w.failures.length - limit] + this.windowMs - now;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) {
      if (w.failures.every((t) => now - t >= this.windowMs)) this.windows.delete(key);
    }
  }
}
