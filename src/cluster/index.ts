import type { Redis } from 'ioredis';
import type { ClusterConfig } from '../config.js';
import type { Core } from '../core/index.js';
import { RedisCoordination } from './coordination.js';
import { EventRelay } from './relay.js';
import { Placement } from './placement.js';
import { RoomsRpc } from './rooms-rpc.js';
import { connect } from './redis.js';
import { NodeRegistry, type NodeLoad } from './registry.js';

export type { NodeInfo, NodeLoad } from './registry.js';
export { requestDrain } from './drain.js';
export { connect } from './redis.js';

/** This node's part in a cluster: its Redis connection, heartbeat, placement and the core's port. */
export interface ClusterNode {
  redis: Redis;
  registry: NodeRegistry;
  placement: Placement;
  coordination: RedisCoordination;
  /** Carries the core's room and service events between the nodes (once the core runs). */
  relay(core: Core): Promise<void>;
  /** Starts the heartbeat once the node can take meetings. */
  start(load: () => Promise<Omit<NodeLoad, 'cpu'>>): Promise<void>;
  /** `leave`: a graceful stop removes the node at once; otherwise its heartbeat just expires. */
  close(leave: boolean): Promise<void>;
}

export async function joinCluster(config: ClusterConfig, selfUrl: string, onError: (error: unknown) => void, onDrain?: (draining: boolean) => void): Promise<ClusterNode> {
  const redis = connect(config.redisUrl, onError);
  await redis.ping(); // fail the start clearly when Redis cannot be reached
  let load: () => Promise<Omit<NodeLoad, 'cpu'>> = async () => ({ participants: 0, streams: 0, eventLoop: 0 });
  const registry = new NodeRegistry(redis, { id: config.nodeId, url: selfUrl }, config.nodeTtlMs, config.heartbeatMs, () => load(), onError, onDrain);
  const placement = new Placement(redis, registry, config.heartbeatMs);
  const roomsSubscriber = redis.duplicate();
  roomsSubscriber.on('error', onError);
  const rooms = new RoomsRpc(redis, roomsSubscriber, registry, placement, onError);
  const coordination = new RedisCoordination(redis, registry, placement, rooms);
  let relay: EventRelay | undefined;
  return {
    redis, registry, placement, coordination,
    async relay(core) {
      const subscriber = redis.duplicate();
      subscriber.on('error', onError);
      relay = new EventRelay(redis, subscriber, core, config.nodeId, onError);
      await relay.start();
    },
    async start(measure) {
      load = measure;
      await registry.start();
    },
    async close(leave) {
      await relay?.stop();
      await rooms.close();
      await registry.stop(leave).catch(onError);
      redis.disconnect();
    },
  };
}
