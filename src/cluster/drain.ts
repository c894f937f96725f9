import type { Redis } from 'ioredis';
import { PREFIX } from './redis.js';

/**
 * Draining is asked through Redis (`parley drain` may run anywhere that reaches it): the node
 * sees the request at its next heartbeat, takes no new meetings and runs its own to their end.
 * The request outlives restarts of the node until it is taken back (`parley drain --off`).
 */
export const drainKey = (nodeId: string) => `${PREFIX}drain:${nodeId}`;

export async function requestDrain(redis: Redis, nodeId: string, on: boolean): Promise<void> {
  if (on) await redis.set(drainKey(nodeId), new Date().toISOString());
  else await redis.del(drainKey(nodeId));
}
