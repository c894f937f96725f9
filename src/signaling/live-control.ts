import type { LiveOutcome, LiveRoomView, LiveRooms, SeatSource } from '../core/index.js';
import type { Lobby } from './lobby.js';
import type { Moderation } from './moderation.js';
import type { Rooms } from './rooms.js';
import type { Session } from './session.js';

/** What the organiser is called to the person a command from the API concerns. */
const ORGANISER = 'The organiser';
const BY_API = { name: ORGANISER, who: { kind: 'api' as const } };

/**
 * The core's view into this node's rooms and its commands on them (the native API's live
 * endpoints): who is seated or waiting now, and mute, remove, admit, decline applied as a host's
 * would be.
 */
export class LiveControl implements LiveRooms {
  constructor(private readonly rooms: Rooms, private readonly lobby: Lobby, private readonly moderation: Moderation) {}

  view(meetingId: string): LiveRoomView | undefined {
    const room = this.rooms.get(meetingId);
    if (!room || room.closed) return undefined;
    return {
      seats: [...room.sessions.values()].map((s) => ({
        participantId: s.id,
        joinedAt: s.joinedAt,
        // The same as the room shows (the core's seatReconnecting, kept on the seat's info).
        connection: s.info.reconnecting ? 'reconnecting' : 'connected',
        microphone: { on: !s.info.audioMuted, mutedByHost: s.mutedByHost.microphone },
        camera: { on: !s.info.videoMuted, mutedByHost: s.mutedByHost.camera },
        screen: { on: s.info.screenSharing, mutedByHost: s.mutedByHost.screen },
        handRaised: s.info.handRaised,
        speaking: room.activeSpeaker === s.id,
      })),
      lobby: [...room.lobby.values()].map((s) => ({ participantId: s.id, since: s.joinedAt })),
    };
  }

  async mute(meetingId: string, participantId: string, sources: SeatSource[]): Promise<LiveOutcome> {
    const seat = this.seat(meetingId, participantId);
    if (!seat) return 'not_present';
    // In turn with the person's own messages (a setMuted of theirs in flight).
    await seat.session.run(() => this.moderation.mute(seat.room, seat.session, sources, BY_API));
    return 'done';
  }

  async remove(meetingId: string, participantId: string, reason: string | undefined): Promise<LiveOutcome> {
    const seat = this.seat(meetingId, participantId);
    if (!seat) return 'not_present';
    const because = reason ? `: ${reason}` : '.';
    await this.moderation.remove(seat.session, `${ORGANISER} removed you from the meeting${because}`, BY_API, reason ?? null);
    return 'done';
  }

  async answerKnock(meetingId: string, participantId: string, admit: boolean): Promise<LiveOutcome> {
    const room = this.rooms.get(meetingId);
    const waiting = room?.lobby.get(participantId);
    if (!room || !waiting?.socket) return 'not_present';
    return this.lobby.decide(room, waiting, admit, ORGANISER);
  }

  private seat(meetingId: string, participantId: string): { room: NonNullable<ReturnType<Rooms['get']>>; session: Session } | undefined {
    const room = this.rooms.get(meetingId);
    const session = room?.sessions.get(participantId);
    return room && session && !session.ended ? { room, session } : undefined;
  }
}
