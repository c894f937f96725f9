import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { rateLimited, type Limiter } from '../core/index.js';
import { PREFIX } from './redis.js';

interface Limit {
  key: string;
  max: number;
}

// One step in Redis, so concurrent requests on different nodes cannot all pass the check before
// any is counted: drop what aged out of every key; if a key is at its limit answer how long until
// it is not (ms); otherwise add the attempt to each key. KEYS: the counters; ARGV: now, window,
// member, then each key's max. Each attempt is one sorted-set member scored by its time.
const TAKE = `
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local max = tonumber(ARGV[3 + i])
  local total = redis.call('ZCARD', key)
  if total >= max then
    local oldest = redis.call('ZRANGE', key, total - max, total - max, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 or member == '' then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
return 0
`;

/**
 * The core's Limiter kept in Redis: the same sliding window as AttemptLimiter (exact, one member
 * per attempt), shared by every node. Time stamps are each node's clock: nodes must keep their
 * clocks in step (NTP), as they already must for schedules.
 */
export class RedisLimiter implements Limiter {
  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly windowMs: number,
    private readonly what = 'too many wrong attempts',
  ) {}

  async take(limits: readonly Limit[], now = Date.now()) {
    const member = `${now}:${randomBytes(6).toString('base64url')}`;
    await this.run(limits, now, member);
    const keys = limits.map((l) => this.key(l.key));
    let taken = true;
    return {
      takeBack: async () => {
        if (!taken) return;
        taken = false;
        await Promise.all(keys.map((k) => this.redis.zrem(k, member)));
      },
    };
  }

  async count(key: string, max: number, now = Date.now()): Promise<void> {
    await this.run([{ key, max }], now, `${now}:${randomBytes(6).toString('base64url')}`);
  }

  async check(limits: readonly Limit[], now = Date.now()): Promise<void> {
    await this.run(limits, now, '');
  }

  private async run(limits: readonly Limit[], now: number, member: string): Promise<void> {
    if (limits.length === 0) return;
    const keys = limits.map((l) => this.key(l.key));
    const wait = Number(await this.redis.eval(TAKE, keys.length, ...keys, now, this.windowMs, member, ...limits.map((l) => l.max)));
    if (wait > 0) throw rateLimited(this.what, wait);
  }

  private key(key: string): string {
    return `${PREFIX}limit:${this.name}:${key}`;
  }
}
