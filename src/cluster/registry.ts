import type { Redis } from 'ioredis';
import { drainKey } from './drain.js';
import { PREFIX } from './redis.js';

/** What a node carries now; placement prefers the lightest. */
export interface NodeLoad {
  /** People seated in its rooms. */
  participants: number;
  /** Tracks its media workers send to subscribers. */
  streams: number;
  /** Its process's CPU use since the last heartbeat, 0..1 of the machine. */
  cpu: number;
  /** The busiest media worker's event-loop utilisation, 0..1. */
  eventLoop: number;
}

export interface NodeInfo extends NodeLoad {
  id: string;
  /** NODE_PUBLIC_URL: where browsers reach this node. */
  url: string;
  /** Draining: takes no new meetings, runs its own to their end. */
  draining: boolean;
  /** Its last heartbeat (its clock, ms since the epoch). */
  seenAt: number;
}

const NODES = `${PREFIX}nodes`;
const nodeKey = (id: string) => `${PREFIX}node:${id}`;

/**
 * The cluster's nodes. Each node writes its address and load every `heartbeatMs` into a key
 * that expires after `ttlMs`: a node whose key is gone has stopped (crashed, cut off, or left).
 * The set `parley:nodes` only lists ids to look at; the keys decide who is alive.
 */
export class NodeRegistry {
  private timer?: NodeJS.Timeout;
  private draining = false;
  private drainingHere = false;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor(
    private readonly redis: Redis,
    readonly self: { id: string; url: string },
    private readonly ttlMs: number,
    private readonly heartbeatMs: number,
    private readonly load: () => Promise<Omit<NodeLoad, 'cpu'>>,
    private readonly onError: (error: unknown) => void,
    /** Told when a drain was asked for or taken back (for the log). */
    private readonly onDrain?: (draining: boolean) => void,
  ) {}

  async start(): Promise<void> {
    // Measured from now: the start-up's own work says nothing about the load to come.
    this.lastCpu = process.cpuUsage();
    this.lastAt = performance.now();
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(this.onError), this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat; `leave`: removes this node at once (a graceful stop) instead of letting it expire. */
  async stop(leave: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (leave) await this.redis.multi().del(nodeKey(this.self.id)).zrem(NODES, this.self.id).exec();
  }


  /**
   * Drains this node now (SIGTERM), for this process only: unlike `parley drain` nothing is kept
   * in Redis, so the node takes meetings again once restarted. Told to the others at once.
   */
  async drainHere(): Promise<void> {
    this.drainingHere = true;
    await this.beat();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async beat(): Promise<void> {
    const wasDraining = this.draining;
    this.draining = this.drainingHere || (await this.redis.exists(drainKey(this.self.id))) === 1;
    if (this.draining !== wasDraining) this.onDrain?.(this.draining);
    const load = { ...await this.load(), cpu: this.cpu() };
    const info: NodeInfo = { id: this.self.id, url: this.self.url, draining: this.draining, seenAt: Date.now(), ...load };
    await this.redis.multi()
      .set(nodeKey(this.self.id), JSON.stringify(info), 'PX', this.ttlMs)
      .zadd(NODES, info.seenAt, this.self.id)
      .exec();
  }

  /** The live nodes, by id; forgets the ids of those whose key expired. */
  async list(): Promise<NodeInfo[]> {
    const ids = await this.redis.zrange(NODES, 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map(nodeKey));
    const gone = ids.filter((_, i) => values[i] === null);
    if (gone.length > 0) await this.redis.zrem(NODES, ...gone);
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v) as NodeInfo])).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Takes a node that does not answer for dead now (its heartbeat would bring it back if it lives). */
  async forget(id: string): Promise<void> {
    await this.redis.multi().del(nodeKey(id)).zrem(NODES, id).exec();
  }

  async alive(id: string): Promise<boolean> {
    return (await this.redis.exists(nodeKey(id))) === 1;
  }

  private cpu(): number {
    const now = performance.now();
    const used = process.cpuUsage(this.lastCpu);
    const elapsedUs = (now - this.lastAt) * 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    return elapsedUs > 100_000 ? Math.min(1, (used.user + used.system) / elapsedUs) : 0;
  }
}
