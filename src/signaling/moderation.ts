import type { Core, Moderator, SeatSource } from '../core/index.js';
import type { TrackSource } from '../protocol/messages.js';
import type { MediaBridge } from './media-bridge.js';
import type { Rooms } from './rooms.js';
import type { LiveRoom, Session } from './session.js';

/** Who moderates, as the person concerned sees it and as webhooks report it. */
export interface ModeratedBy {
  /** What the person's page calls them. */
  name: string;
  who: Moderator;
}

/**
 * What a moderator's decision does to a seat, whether it came from a host in the room or from the
 * account's backend through the API (the core has said it is allowed). The core records each one
 * (webhooks) once it is done.
 */
export class Moderation {
  constructor(private readonly core: Core, private readonly rooms: Rooms, private readonly media: MediaBridge) {}

  /**
   * Turns sources of `target` off. Enforced here, not left to the page: the worker stops
   * forwarding them until the person turns them on again.
   */
  async mute(room: LiveRoom, target: Session, sources: SeatSource[], by: ModeratedBy): Promise<void> {
    for (const source of sources) {
      if (source === 'microphone') target.info.audioMuted = true;
      if (source === 'camera') target.info.videoMuted = true;
      if (source === 'screen') target.info.screenSharing = false;
      target.mutedByHost[source] = true;
    }
    await this.media.apply(target);
    target.lastMutedBy = by.name;
    for (const source of sources) target.send({ type: 'muteRequested', by: by.name, source: source satisfies TrackSource, request: ++target.muteRequests });
    room.broadcast({ type: 'participantUpdated', participant: target.info });
    await this.core.room.moderated(target.meetingId, target.id, { muted: sources }, by.who);
  }

  /** `reason`: what the moderator gave as the reason, if anything (the message includes it). */
  async remove(target: Session, message: string, by: ModeratedBy, reason: string | null = null): Promise<void> {
    await this.rooms.endSession(target, { state: 'removed', message });
    await this.core.room.moderated(target.meetingId, target.id, { removed: reason }, by.who);
  }
}
