import type { AccountRecord, MeetingRecord, ParticipantRecord } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { CoreError } from './errors.js';
import type { MeetingService } from './meetings.js';
import type { ParticipantService } from './participants.js';
import type { SeatSource } from './room.js';
import { isLive } from './status.js';

/** One of someone's sources in the room now. */
export interface LiveSource {
  on: boolean;
  /** A host, a moderator or the API turned it off; it stays off until the person turns it on. */
  mutedByHost: boolean;
}

/** Someone seated in a live room, as the room that holds them sees them. */
export interface LiveSeat {
  participantId: string;
  joinedAt: Date;
  /** `reconnecting`: their socket or media dropped and the seat waits for them to come back. */
  connection: 'connected' | 'reconnecting';
  microphone: LiveSource;
  camera: LiveSource;
  screen: LiveSource;
  handRaised: boolean;
  speaking: boolean;
}

/** Someone waiting in the lobby. */
export interface LiveKnock {
  participantId: string;
  since: Date;
}

/** A live room as the node running it sees it. */
export interface LiveRoomView {
  seats: LiveSeat[];
  lobby: LiveKnock[];
}

/** The outcome of a command on a live room. */
export type LiveOutcome = 'done' | 'not_present' | 'full';

/**
 * What the core may ask of the rooms this node runs (signaling registers it). Each command is
 * answered once the room has applied it.
 */
export interface LiveRooms {
  /** A promise when the room runs on another node. */
  view(meetingId: string): LiveRoomView | undefined | Promise<LiveRoomView | undefined>;
  mute(meetingId: string, participantId: string, sources: SeatSource[]): Promise<LiveOutcome>;
  remove(meetingId: string, participantId: string, reason: string | undefined): Promise<LiveOutcome>;
  answerKnock(meetingId: string, participantId: string, admit: boolean): Promise<LiveOutcome>;
}

/** A seated or waiting person with who they are. */
export interface LivePerson<T> {
  participant: ParticipantRecord;
  state: T;
}

export interface LiveMeeting {
  meeting: MeetingRecord;
  live: boolean;
  since: Date | null;
  present: LivePerson<LiveSeat>[];
  waiting: LivePerson<LiveKnock>[];
}

/** A live meeting as the operator sees it: with the account it belongs to. */
export interface OperatorLiveMeeting extends LiveMeeting {
  account: AccountRecord;
}

const NONE: LiveRooms = {
  view: () => undefined,
  mute: async () => 'not_present',
  remove: async () => 'not_present',
  answerKnock: async () => 'not_present',
};

/** What a command from the API says when the person is not where it expects them. */
const ABSENT = {
  room: 'is not in the meeting’s room now',
  lobby: 'is not waiting in the meeting’s lobby',
} as const;

/**
 * Live meetings seen and steered from an account's backend: who is in the room now, mute,
 * remove, and the lobby. Only the account's own meetings; the same rules as a host in the room.
 */
export class LiveMeetings {
  private rooms: LiveRooms = NONE;

  constructor(
    private readonly meetings: MeetingService,
    private readonly participants: ParticipantService,
    private readonly accounts: AccountService,
    /** With several nodes: rooms that reach the meeting's node (the Coordination port). */
    private readonly reach: (local: LiveRooms) => LiveRooms = (local) => local,
  ) {}

  /** Signaling registers its rooms; returns a function that detaches them. */
  attachRooms(local: LiveRooms): () => void {
    const rooms = this.reach(local);
    this.rooms = rooms;
    return () => {
      if (this.rooms === rooms) this.rooms = NONE;
    };
  }

  async state(account: AccountRecord, meetingId: string): Promise<LiveMeeting> {
    return this.stateOf(await this.meetings.get(account, meetingId));
  }

  /**
   * The operator's view: every meeting whose session runs now, across accounts, with its
   * account and who is in it (oldest meeting first).
   */
  async overview(): Promise<OperatorLiveMeeting[]> {
    const out: OperatorLiveMeeting[] = [];
    const accounts = new Map<string, AccountRecord | undefined>();
    for (const meeting of await this.meetings.listLive()) {
      if (!accounts.has(meeting.accountId)) accounts.set(meeting.accountId, await this.accounts.get(meeting.accountId).catch(() => undefined));
      const account = accounts.get(meeting.accountId);
      if (account) out.push({ account, ...(await this.stateOf(meeting)) });
    }
    return out;
  }

  /** The operator ends any account's meeting for everyone (final, as a host's "end for all"). */
  async endForOperator(meetingId: string): Promise<MeetingRecord> {
    return this.meetings.endForAll(await this.meetings.getForOperator(meetingId));
  }

  private async stateOf(meeting: MeetingRecord): Promise<LiveMeeting> {
    // Live: a node runs the meeting's room, and its session is running or someone is in it (a
    // seat taken before their media connected is not a status yet).
    const view = await this.rooms.view(meeting.id);
    const running = isLive(meeting.status);
    if (!view || (!running && view.seats.length === 0 && view.lobby.length === 0)) {
      return { meeting, live: false, since: null, present: [], waiting: [] };
    }
    const who = async <T extends { participantId: string }>(list: T[]) => {
      const out: LivePerson<T>[] = [];
      for (const state of list) {
        const participant = await this.participants.get(meeting, state.participantId).catch(() => undefined);
        if (participant) out.push({ participant, state });
      }
      return out;
    };
    return { meeting, live: true, since: running ? meeting.startedAt : null, present: await who(view.seats), waiting: await who(view.lobby) };
  }

  async mute(account: AccountRecord, meetingId: string, participantId: string, sources: SeatSource[]): Promise<void> {
    if (sources.length === 0) throw new CoreError('invalid', 'must name at least one source', { field: 'sources' });
    const { meeting, participant } = await this.target(account, meetingId, participantId);
    this.expect(await this.rooms.mute(meeting.id, participant.id, [...new Set(sources)]), 'room');
  }

  async remove(account: AccountRecord, meetingId: string, participantId: string, reason?: string): Promise<void> {
    const { meeting, participant } = await this.target(account, meetingId, participantId);
    this.expect(await this.rooms.remove(meeting.id, participant.id, reason), 'room');
  }

  async answerKnock(account: AccountRecord, meetingId: string, participantId: string, admit: boolean): Promise<void> {
    const { meeting, participant } = await this.target(account, meetingId, participantId);
    this.expect(await this.rooms.answerKnock(meeting.id, participant.id, admit), 'lobby');
  }

  private async target(account: AccountRecord, meetingId: string, participantId: string) {
    const meeting = await this.meetings.get(account, meetingId);
    const participant = await this.participants.get(meeting, participantId);
    return { meeting, participant };
  }

  private expect(outcome: LiveOutcome, where: 'room' | 'lobby'): void {
    if (outcome === 'not_present') throw new CoreError('conflict', `the participant ${ABSENT[where]}`);
    if (outcome === 'full') throw new CoreError('conflict', 'the meeting is full: someone must leave before another person is let in');
  }
}

