import { AttemptLimiter, type Attempt, type Limit } from './attempts.js';
import type { LiveRooms } from './live.js';
import type { RecordingPlane } from './recordings.js';

/**
 * Counts attempts per key over a sliding window (see AttemptLimiter). A port: in one process the
 * in-memory AttemptLimiter; with several nodes one shared by all (src/cluster), so a limit holds
 * whichever node a request reaches. Results may be promises: callers always await them.
 */
export interface Limiter {
  /** Throws `rate_limited` when a key is at its limit; otherwise counts one attempt against all of them. */
  take(limits: readonly Limit[], now?: number): Attempt | Promise<Attempt>;
  /** `take` for one key whose attempts are never taken back (request rate limits). */
  count(key: string, max: number, now?: number): void | Promise<void>;
  /** Throws `rate_limited` when a key is at its limit; counts nothing. */
  check(limits: readonly Limit[], now?: number): void | Promise<void>;
}

/** A node of the cluster as of its last heartbeat. */
export interface NodeState {
  id: string;
  /** Where browsers reach it (NODE_PUBLIC_URL). */
  url: string;
  /** Takes no new meetings (`parley drain` or SIGTERM). */
  draining: boolean;
  participants: number;
  streams: number;
  /** 0..1 */
  cpu: number;
  /** 0..1, its busiest media worker */
  eventLoop: number;
  seenAt: Date;
}

/** What the core needs from its surroundings to be one of several nodes. */
export interface Coordination {
  /** A limiter named `name` (names keep the counters of different rules apart). */
  limiter(name: string, windowMs: number, what?: string, bucketMs?: number): Limiter;
  /**
   * True when this node holds the lease `name` for the next `ttlMs` (taking or renewing it):
   * periodic work (schedule and idle sweeps) runs on the holder only, once for the cluster.
   */
  holdLease(name: string, ttlMs: number): Promise<boolean>;
  /**
   * Of these live meetings, those that no live node other than this one runs: this node may
   * settle their statuses (its own after a restart, a dead node's, or never placed).
   */
  unheld(meetingIds: readonly string[]): Promise<readonly string[]>;
  /**
   * Of these live meetings, those placed on a node that has died; their placement is released
   * (the next join places them on a live node). Asked by the sweep's lease holder.
   */
  orphaned(meetingIds: readonly string[]): Promise<readonly string[]>;
  /**
   * The address of the node that runs the meeting's live room, placing it on the least-loaded
   * live node when it has none (its first person joins). Undefined: this node, the only one.
   * `unreachableNode`: a page says it cannot reach this address; if the meeting's node has it and
   * does not answer this node either, it is taken for dead at once (not after its heartbeat's TTL).
   */
  placeMeeting(meetingId: string, unreachableNode?: string): Promise<string | undefined>;
  /** The addresses of the live nodes (a page may open its socket on any of them); none with one node. */
  nodeAddresses(): Promise<readonly string[]>;
  /**
   * The live rooms the core steers, given this node's own: with several nodes, a command for a
   * meeting whose room runs on another node reaches that node's rooms.
   */
  liveRooms(local: LiveRooms): LiveRooms;
  /** Files are per node: this node has the file `key` (kept for other nodes to find). */
  holdsFile(key: string): Promise<void>;
  /** The address of another live node that has the file `key`; undefined: this one, or none. */
  fileAt(key: string): Promise<string | undefined>;
  /** The live nodes (none with one node). */
  nodes(): Promise<readonly NodeState[]>;
  /** The id of the node each of these meetings is placed on (meetings placed nowhere are left out). */
  placements(meetingIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** The recording plane, given this node's own (`dirOf`: where this node writes a recording). */
  recordingPlane(local: RecordingPlane, dirOf: (recordingId: string) => string): RecordingPlane;
}

/** One node: counters in memory, every lease held. */
export const IN_PROCESS: Coordination = {
  limiter: (_name, windowMs, what, bucketMs) => new AttemptLimiter(windowMs, what, bucketMs),
  holdLease: async () => true,
  unheld: async (meetingIds) => meetingIds,
  orphaned: async () => [],
  placeMeeting: async () => undefined,
  nodeAddresses: async () => [],
  liveRooms: (local) => local,
  holdsFile: async () => undefined,
  fileAt: async () => undefined,
  nodes: async () => [],
  placements: async () => new Map(),
  recordingPlane: (local) => local,
};
