import { Redis } from 'ioredis';

/** Every key of a Parley cluster starts with this, so one Redis may serve other things too. */
export const PREFIX = 'parley:';

/**
 * A connection to REDIS_URL. Commands wait while it reconnects (ioredis queues them) but never
 * longer than a few tries: a request must fail clearly rather than hang when Redis is gone.
 */
export function connect(url: string, onError: (error: unknown) => void): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false, enableAutoPipelining: true });
  redis.on('error', onError);
  return redis;
}
