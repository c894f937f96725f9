// Rate limit of the keyframe requests (PLI) sent to one publisher, on an injectable clock.

/** Time and timers, so that tests can drive them. */
export interface Clock {
  /** milliseconds, monotonic */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/** Minimum gap between two keyframe requests sent to the publisher for one track. */
export const PLI_INTERVAL_MS = 500;

/**
 * At most one request per interval; a request inside the interval is remembered and sent when
 * it ends (once, however many came), so a new subscriber is never left waiting.
 */
export class KeyframeRequestLimiter {
  private lastSentAt = -Infinity;
  private timer: unknown;
  private closed = false;

  constructor(
    /** sends one request; false when it could not (nothing to address yet): not counted */
    private readonly send: () => boolean,
    private readonly intervalMs = PLI_INTERVAL_MS,
    private readonly clock: Clock = systemClock,
  ) {}

  request(): void {
    if (this.closed) return;
    const wait = this.lastSentAt + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.fire();
    } else if (this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.fire();
      }, wait);
    }
  }

  private fire(): void {
    if (this.closed) return;
    if (this.send()) this.lastSentAt = this.clock.now();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
