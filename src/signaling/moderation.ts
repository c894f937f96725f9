import type { SeatSource } from '../core/index.js';
import type { TrackSource } from '../protocol/messages.js';
import type { MediaBridge } from './media-bridge.js';
import type { Rooms } from './rooms.js';
import type { LiveRoom, Session } from './session.js';

/**
 * What a moderator's decision does to a seat, whether it came from a host in the room or from the
 * account's backend through the API (the core has said it is allowed).
 */
export class Moderation {
  constructor(private readonly rooms: Rooms, private readonly media: MediaBridge) {}

  /**
   * Turns sources of `target` off. Enforced here, not left to the page: the worker stops
   * forwarding them until the person turns them on again.
   */
  async mute(room: LiveRoom, target: Session, sources: SeatSource[], by: string): Promise<void> {
    for (const source of sources) {
      if (source === 'microphone') target.info.audioMuted = true;
      if (source === 'camera') target.info.videoMuted = true;
      if (source === 'screen') target.info.screenSharing = false;
      target.mutedByHost[source] = true;
    }
    await this.media.apply(target);
    for (const source of sources) target.send({ type: 'muteRequested', by, source: source satisfies TrackSource });
    room.broadcast({ type: 'participantUpdated', participant: target.info });
  }

  remove(target: Session, message: string): Promise<void> {
    return this.rooms.endSession(target, { state: 'removed', message });
  }
}
