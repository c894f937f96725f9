import type { Redis } from 'ioredis';
import { CoreError, type Coordination, type NodeState, type Limiter, type LiveRooms, type RecordingPlane } from '../core/index.js';
import { RedisLimiter } from './limiter.js';
import type { Placement } from './placement.js';
import { PREFIX } from './redis.js';
import type { RoomsRpc } from './rooms-rpc.js';
import type { NodeRegistry } from './registry.js';

// Takes the lease when free, renews it when ours; true when we hold it now.
const LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** The core's Coordination port over Redis: shared counters, leases and meeting ownership. */
export class RedisCoordination implements Coordination {
  constructor(
    private readonly redis: Redis,
    private readonly registry: NodeRegistry,
    private readonly placement: Placement,
    private readonly rooms: RoomsRpc,
  ) {}

  liveRooms(local: LiveRooms): LiveRooms {
    return this.rooms.liveRooms(local);
  }

  async holdsFile(key: string): Promise<void> {
    await this.redis.set(`${PREFIX}file:${key}`, this.registry.self.id, 'PX', FILE_MEMORY_MS);
  }

  async fileAt(key: string): Promise<string | undefined> {
    const holder = await this.redis.get(`${PREFIX}file:${key}`);
    if (holder === null || holder === this.registry.self.id) return undefined;
    return (await this.registry.list()).find((n) => n.id === holder)?.url;
  }

  async nodes(): Promise<readonly NodeState[]> {
    return (await this.registry.list()).map((n) => ({ ...n, seenAt: new Date(n.seenAt) }));
  }

  placements(meetingIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return this.placement.all(meetingIds);
  }

  recordingPlane(local: RecordingPlane, dirOf: (recordingId: string) => string): RecordingPlane {
    return this.rooms.recordingPlane(local, dirOf);
  }

  limiter(name: string, windowMs: number, what?: string): Limiter {
    return new RedisLimiter(this.redis, name, windowMs, what);
  }

  async holdLease(name: string, ttlMs: number): Promise<boolean> {
    return Number(await this.redis.eval(LEASE, 1, `${PREFIX}lease:${name}`, this.registry.self.id, ttlMs)) === 1;
  }

  async unheld(meetingIds: readonly string[]): Promise<readonly string[]> {
    const owners = await this.placement.all(meetingIds);
    const mine: string[] = [];
    for (const id of meetingIds) {
      const owner = owners.get(id);
      if (owner === undefined || owner === this.registry.self.id || !await this.registry.alive(owner)) mine.push(id);
    }
    return mine;
  }

  async orphaned(meetingIds: readonly string[]): Promise<readonly string[]> {
    const owners = await this.placement.all(meetingIds);
    const dead: string[] = [];
    for (const [id, owner] of owners) {
      if (owner === this.registry.self.id || await this.registry.alive(owner)) continue;
      await this.placement.release(id, owner);
      dead.push(id);
    }
    return dead;
  }

  async placeMeeting(meetingId: string, unreachableNode?: string): Promise<string> {
    if (unreachableNode !== undefined) await this.checkReported(meetingId, unreachableNode);
    const node = await this.placement.place(meetingId);
    if (!node) throw new CoreError('unavailable', 'no server can take this meeting now; try again in a few seconds', { details: { retryAfterSeconds: 5 } });
    return node.url;
  }

  async nodeAddresses(): Promise<readonly string[]> {
    return (await this.registry.list()).map((n) => n.url);
  }

  /**
   * A page could not reach the meeting's node: ask that node's /healthz ourselves (a page's word
   * alone moves nothing); no answer within the probe time and it is forgotten now, so the
   * placement that follows picks a live node.
   */
  private async checkReported(meetingId: string, url: string): Promise<void> {
    const owner = await this.placement.ownerOf(meetingId);
    if (owner === null || owner === this.registry.self.id) return;
    const node = (await this.registry.list()).find((n) => n.id === owner);
    if (!node || node.url !== url) return;
    const answered = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(PROBE_MS) }).then((r) => r.ok, () => false);
    if (!answered) await this.registry.forget(node.id);
  }
}

/** How long the cluster remembers which node has a file (longer than any retention). */
const FILE_MEMORY_MS = 10 * 365 * 24 * 3600 * 1000;

/** How long a node suspected dead has to answer /healthz. */
const PROBE_MS = 1500;
