import type { Redis } from 'ioredis';
import type { NodeInfo, NodeRegistry } from './registry.js';
import { PREFIX } from './redis.js';

const placementKey = (meetingId: string) => `${PREFIX}placement:${meetingId}`;
const recentKey = (nodeId: string) => `${PREFIX}placed:${nodeId}`;

/**
 * A node's weight for placement: people count most, then forwarded streams; CPU and worker
 * event-loop use only once past half busy (below that they are noise: start-up, a neighbour's
 * work), then heavily — a saturated node loses media quality for everyone on it.
 */
export function score(node: NodeInfo, recent: number): number {
  const busy = Math.max(0, Math.max(node.cpu, node.eventLoop) - 0.5);
  return node.participants + recent + node.streams / 4 + 40 * busy;
}

/**
 * Which node runs each meeting's live room: the one it was placed on while that node lives; else
 * the least-loaded live node that is not draining, chosen when someone joins. The choice is a
 * SET NX, so two nodes placing the same meeting at once agree on the first. Loads are only as
 * fresh as the last heartbeat: meetings placed on a node since then count against it
 * (`recent`), and a node that took `maxPerBeat` meetings in one heartbeat is passed over while
 * another can take them — joins do not pile onto the node that looked lightest.
 */
export class Placement {
  constructor(
    private readonly redis: Redis,
    private readonly registry: NodeRegistry,
    private readonly heartbeatMs: number,
    private readonly maxPerBeat = 10,
  ) {}

  async ownerOf(meetingId: string): Promise<string | null> {
    return this.redis.get(placementKey(meetingId));
  }

  /** The meeting's node, placing it now when it has none or its node has died. Undefined: no live node takes meetings. */
  async place(meetingId: string, tries = 3): Promise<NodeInfo | undefined> {
    const nodes = await this.registry.list();
    const owner = await this.ownerOf(meetingId);
    const current = nodes.find((n) => n.id === owner);
    if (current) return current;
    const open = nodes.filter((n) => !n.draining);
    if (open.length === 0) return undefined;
    const recent = await this.redis.mget(open.map((n) => recentKey(n.id)));
    const weighed = open.map((node, i) => ({ node, recent: Number(recent[i] ?? 0) }));
    const fresh = weighed.filter((w) => w.recent < this.maxPerBeat);
    const pool = fresh.length > 0 ? fresh : weighed;
    pool.sort((a, b) => score(a.node, a.recent) - score(b.node, b.recent) || a.node.id.localeCompare(b.node.id));
    const chosen = pool[0].node;
    const key = placementKey(meetingId);
    // Replaces only the dead owner seen above (or none): a concurrent placement wins otherwise.
    const won = await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == (ARGV[2] ~= '' and ARGV[2] or false) then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0",
      1, key, chosen.id, owner ?? '',
    );
    if (Number(won) !== 1) return tries > 1 ? this.place(meetingId, tries - 1) : undefined; // placed meanwhile: take that
    await this.redis.multi().incr(recentKey(chosen.id)).pexpire(recentKey(chosen.id), this.heartbeatMs * 2).exec();
    return chosen;
  }

  /** Forgets the placement if it is still `owner`'s (a dead node's meeting, settled). */
  async release(meetingId: string, owner: string): Promise<void> {
    await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, placementKey(meetingId), owner);
  }

  /** Every placement (operator view): meeting id → node id. */
  async all(meetingIds: readonly string[]): Promise<Map<string, string>> {
    if (meetingIds.length === 0) return new Map();
    const owners = await this.redis.mget(meetingIds.map(placementKey));
    return new Map(meetingIds.flatMap((id, i) => (owners[i] ? [[id, owners[i]!] as [string, string]] : [])));
  }
}
