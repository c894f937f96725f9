import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CoreError, type CoreErrorCode, type LiveRoomView, type LiveRooms, type RecordedTrackFile, type RecordingPlane } from '../core/index.js';
import type { SeatSource } from '../core/room.js';
import type { Placement } from './placement.js';
import { PREFIX } from './redis.js';
import type { NodeRegistry } from './registry.js';

/** How long the meeting's node has to answer a forwarded command (a room command is quick). */
const ANSWER_MS = 5000;

/** What one node asks the node running a meeting's room. */
type Call =
  | { op: 'view'; meetingId: string }
  | { op: 'mute'; meetingId: string; participantId: string; sources: SeatSource[] }
  | { op: 'remove'; meetingId: string; participantId: string; reason?: string }
  | { op: 'answerKnock'; meetingId: string; participantId: string; admit: boolean }
  | { op: 'recordStart'; meetingId: string; recordingId: string }
  | { op: 'recordStop'; meetingId: string; recordingId: string };

type Message =
  | { kind: 'call'; id: string; replyTo: string; call: Call }
  | { kind: 'answer'; id: string; result?: unknown; error?: { code: string; message: string } };

const channelOf = (nodeId: string) => `${PREFIX}rooms:${nodeId}`;

/** Dates do not survive JSON: a forwarded view is made whole again. */
function reviveView(raw: LiveRoomView | null): LiveRoomView | undefined {
  if (!raw) return undefined;
  return {
    seats: raw.seats.map((s) => ({ ...s, joinedAt: new Date(s.joinedAt) })),
    lobby: raw.lobby.map((k) => ({ ...k, since: new Date(k.since) })),
  };
}

/**
 * The live rooms and recording plane of the whole cluster, as the core sees them: a meeting's room
 * runs on one node (its placement in Redis), so a command through another node is forwarded to
 * that node over Redis pub/sub (one channel per node) and answered there by its own rooms. Chosen
 * over shared state because the rooms' state changes many times a second and commands must act on
 * the room itself; a forwarded call is one round trip. Decides nothing: each node's rooms apply
 * the core's rules as they do for a local command.
 */
export class RoomsRpc {
  private live: LiveRooms | undefined;
  private plane: RecordingPlane | undefined;
  private recordingDir: (recordingId: string) => string = () => '';
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly registry: NodeRegistry,
    private readonly placement: Placement,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** This node's rooms answer the others; the core gets rooms that reach the meeting's node. */
  liveRooms(local: LiveRooms): LiveRooms {
    this.live = local;
    this.listen();
    const forward = async <T>(meetingId: string, call: Call, here: () => Promise<T>): Promise<T> => {
      const owner = await this.remoteOwner(meetingId, async () => (await local.view(meetingId)) !== undefined);
      return owner ? (await this.call(owner, call)) as T : here();
    };
    return {
      view: async (meetingId) => {
        const mine = await local.view(meetingId);
        if (mine) return mine;
        const owner = await this.remoteOwner(meetingId, async () => false);
        return owner ? reviveView(await this.call(owner, { op: 'view', meetingId }) as LiveRoomView | null) : undefined;
      },
      mute: (meetingId, participantId, sources) => forward(meetingId, { op: 'mute', meetingId, participantId, sources }, () => local.mute(meetingId, participantId, sources)),
      remove: (meetingId, participantId, reason) => forward(meetingId, { op: 'remove', meetingId, participantId, reason }, () => local.remove(meetingId, participantId, reason)),
      answerKnock: (meetingId, participantId, admit) => forward(meetingId, { op: 'answerKnock', meetingId, participantId, admit }, () => local.answerKnock(meetingId, participantId, admit)),
    };
  }

  /** `dirOf`: where this node writes a recording (its own DATA_DIR/recordings). */
  recordingPlane(local: RecordingPlane, dirOf: (recordingId: string) => string): RecordingPlane {
    this.plane = local;
    this.recordingDir = dirOf;
    this.listen();
    return {
      start: async (meetingId, recordingId, dir) => {
        const owner = await this.remoteOwner(meetingId, async () => (await this.live?.view(meetingId)) !== undefined);
        if (owner) await this.call(owner, { op: 'recordStart', meetingId, recordingId });
        else await local.start(meetingId, recordingId, dir);
      },
      stop: async (meetingId, recordingId) => {
        const owner = await this.remoteOwner(meetingId, async () => (await this.live?.view(meetingId)) !== undefined);
        return owner ? await this.call(owner, { op: 'recordStop', meetingId, recordingId }) as RecordedTrackFile[] : local.stop(meetingId, recordingId);
      },
    };
  }

  async close(): Promise<void> {
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new CoreError('unavailable', 'this server is stopping'));
    }
    this.waiting.clear();
    this.subscriber.disconnect();
  }

  /** The live node other than this one that runs the meeting's room; undefined: ask our own rooms. */
  private async remoteOwner(meetingId: string, hereHasIt: () => Promise<boolean>): Promise<string | undefined> {
    if (await hereHasIt()) return undefined;
    const owner = await this.placement.ownerOf(meetingId);
    if (owner === null || owner === this.registry.self.id) return undefined;
    return await this.registry.alive(owner) ? owner : undefined;
  }

  private listen(): void {
    this.subscribed ??= (async () => {
      this.subscriber.on('message', (_channel: string, raw: string) => void this.receive(raw));
      await this.subscriber.subscribe(channelOf(this.registry.self.id));
    })().catch(this.onError);
  }

  private async call(nodeId: string, call: Call): Promise<unknown> {
    await this.subscribed; // our answers must have somewhere to come back to
    const id = randomUUID();
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new CoreError('unavailable', 'the server running this meeting did not answer; try again in a few seconds', { details: { retryAfterSeconds: 5 } }));
      }, ANSWER_MS);
      this.waiting.set(id, { resolve, reject, timer });
    });
    const message: Message = { kind: 'call', id, replyTo: this.registry.self.id, call };
    await this.publisher.publish(channelOf(nodeId), JSON.stringify(message));
    return answer;
  }

  private async receive(raw: string): Promise<void> {
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch (error) {
      return this.onError(error);
    }
    if (message.kind === 'answer') {
      const w = this.waiting.get(message.id);
      if (!w) return; // timed out already
      this.waiting.delete(message.id);
      clearTimeout(w.timer);
      if (message.error) w.reject(new CoreError(message.error.code as CoreErrorCode, message.error.message));
      else w.resolve(message.result);
      return;
    }
    let answer: Message;
    try {
      answer = { kind: 'answer', id: message.id, result: (await this.run(message.call)) ?? null };
    } catch (error) {
      const code = error instanceof CoreError ? error.code : 'conflict';
      const text = error instanceof CoreError ? error.reason : error instanceof Error ? error.message : String(error);
      answer = { kind: 'answer', id: message.id, error: { code, message: text } };
    }
    await this.publisher.publish(channelOf(message.replyTo), JSON.stringify(answer)).catch(this.onError);
  }

  /** A call from another node, answered by this node's own rooms. */
  private async run(call: Call): Promise<unknown> {
    const live = this.live;
    const plane = this.plane;
    switch (call.op) {
      case 'view': return (await live?.view(call.meetingId)) ?? null;
      case 'mute': return live ? live.mute(call.meetingId, call.participantId, call.sources) : 'not_present';
      case 'remove': return live ? live.remove(call.meetingId, call.participantId, call.reason) : 'not_present';
      case 'answerKnock': return live ? live.answerKnock(call.meetingId, call.participantId, call.admit) : 'not_present';
      case 'recordStart':
        if (!plane) throw new CoreError('conflict', 'media is not running on the meeting’s server');
        return plane.start(call.meetingId, call.recordingId, this.recordingDir(call.recordingId));
      case 'recordStop': return plane ? plane.stop(call.meetingId, call.recordingId) : [];
    }
  }
}
