import type { MeetingRecord, ParticipantRecord, Store } from '../store/index.js';
import { notFound } from './errors.js';
import type { MeetingService } from './meetings.js';
import type { ParticipantService } from './participants.js';

/**
 * Presence drives the status machines: the media/signaling layer reports who connected and who
 * left, and this is the only place those reports become statuses.
 */
export class PresenceService {
  constructor(
    private readonly store: Store,
    private readonly meetings: MeetingService,
    private readonly participants: ParticipantService,
  ) {}

  async connected(meetingId: string, participantId: string): Promise<{ meeting: MeetingRecord; participant: ParticipantRecord }> {
    const { meeting, participant } = await this.load(meetingId, participantId);
    const now = await this.participants.apply(participant, 'connected');
    const updated = await this.meetings.apply(meeting, { type: 'connected', isHost: participant.role === 'host' });
    return { meeting: updated, participant: now };
  }

  async left(meetingId: string, participantId: string): Promise<{ meeting: MeetingRecord; participant: ParticipantRecord }> {
    const { meeting, participant } = await this.load(meetingId, participantId);
    const now = await this.participants.apply(participant, 'left');
    const hostsConnected = await this.store.participants.countConnected(meetingId, 'host');
    const updated = await this.meetings.apply(meeting, { type: 'left', isHost: participant.role === 'host', hostsConnected });
    return { meeting: updated, participant: now };
  }

  /** Nobody has been in the room for the idle period: the session is over. */
  async idle(meetingId: string): Promise<MeetingRecord | undefined> {
    const meeting = await this.store.meetings.get(meetingId);
    if (!meeting) return undefined;
    if ((await this.store.participants.countConnected(meetingId)) > 0) return meeting;
    return this.meetings.apply(meeting, { type: 'ended', reason: 'idle' });
  }

  private async load(meetingId: string, participantId: string) {
    const meeting = await this.store.meetings.get(meetingId);
    if (!meeting) throw notFound('meeting');
    const participant = await this.store.participants.findById(meetingId, participantId);
    if (!participant) throw notFound('participant');
    return { meeting, participant };
  }
}
