import type { AccountRecord } from '../store/index.js';
import { IN_PROCESS, type Coordination, type Limiter } from './coordination.js';

const WINDOW_MS = 60_000;

/** RATE_LIMIT_PER_MINUTE's default: a backend polling 100 meetings every 5 s stays under it. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 1200;

/**
 * Requests per minute per account, on every API surface together: each surface's auth hook takes
 * one request once the account is known. A sliding minute counted per second (AttemptLimiter with
 * one-second buckets: at most 60 counters per account, O(1) per request). Over the limit a request
 * is refused (`rate_limited`, with retryAfterSeconds) and not counted. Counted where the
 * Coordination keeps counters: in memory for one node, shared by all nodes of a cluster.
 */
export class ApiRateLimits {
  private readonly limiter: Limiter;

  /** `perMinute`: the server's default (RATE_LIMIT_PER_MINUTE); 0 turns the limit off. */
  constructor(private readonly perMinute: number, coordination: Coordination = IN_PROCESS) {
    this.limiter = coordination.limiter('api', WINDOW_MS, 'too many requests for this account', 1000);
  }

  /** The account's limit: its own override, else the server's; 0 means none. */
  limitOf(account: AccountRecord): number {
    return account.rateLimitPerMinute ?? this.perMinute;
  }

  /** Counts one request of the account, or throws `rate_limited` when it is at its limit. */
  take(account: AccountRecord, now = Date.now()): void | Promise<void> {
    const max = account.rateLimitPerMinute ?? this.perMinute;
    if (max > 0) return this.limiter.count(account.id, max, now);
  }
}
