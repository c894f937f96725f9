import type { MeetingRecord, ParticipantRecord, PresetPermissions, Store } from '../store/index.js';
import type { AccessService, LinkState } from './access.js';
import type { AccountService } from './accounts.js';
import { CoreError } from './errors.js';
import { JOIN_CLOCK_SKEW_MS, type JoinGrant } from './join-tokens.js';
import type { MeetingService } from './meetings.js';
import { PARTICIPANT_STATUS } from './status.js';
import { formatStart } from './time.js';
import type { Moderator, WebhookOutbox } from './webhooks/index.js';

/**
 * A seat may restart its media at most this many times per window: a page stuck in a restart
 * loop must not keep a media worker rebuilding transports. (The room gives up before this.)
 */
export const MEDIA_RESTART_LIMIT = { count: 5, windowMs: 60_000 } as const;
/** ICE restarts keep the seat's transports and media: cheaper, so more of them are allowed. */
export const ICE_RESTART_LIMIT = { count: 20, windowMs: 60_000 } as const;

/** How one of a seat's media transports is, as media reports it. */
export type TransportHealth = 'connected' | 'disconnected' | 'failed';

/**
 * A seat is "reconnecting" (shown so to the others, never as gone) while its socket is away or
 * any of its media transports is silent or failed; it is still theirs until the resume window
 * ends. Transports not yet connected once do not count: joining is not reconnecting.
 */
export function seatReconnecting(seat: { socket: boolean; transports: readonly (TransportHealth | undefined)[] }): boolean {
  return !seat.socket || seat.transports.some((t) => t === 'disconnected' || t === 'failed');
}

export type SeatSource = 'microphone' | 'camera' | 'screen';

/** What a seat sends now, as the room shows it: off is what the server holds back. */
export interface SeatMedia {
  audioMuted: boolean;
  videoMuted: boolean;
  screenSharing: boolean;
}

/** What the media worker may forward from a seat at all. */
export interface Publishable {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

/** When a meeting that has not started will start (absent: it has no start time). */
export interface StartTime {
  startsAt?: string;
  startsAtText?: string;
}

/** Whether someone who holds a join token may come in now, and where to. */
export type Entry =
  | { kind: 'refused'; state: Exclude<LinkState, 'room'>; message: string; start: StartTime }
  | {
      /** `lobby`: they wait until a moderator lets them in; `seat`: they take a seat if one is free. */
      kind: 'lobby' | 'seat';
      meeting: MeetingRecord;
      participant: ParticipantRecord;
      /** What the room calls the meeting. */
      title: string;
      /** Seats in the room (null: no limit). */
      capacity: number | null;
    };

/** The lobby rule: a meeting with a lobby keeps everyone who may not moderate waiting. */
export function waitsInLobby(meeting: Pick<MeetingRecord, 'lobby'>, permissions: Pick<PresetPermissions, 'moderate'>): boolean {
  return meeting.lobby && !permissions.moderate;
}

/**
 * What a personal link's holder may still answer before the meeting: `invited` (they may accept
 * or decline), `declined` (they may change their mind), or nothing once they joined. The host's
 * own link has no invitation to answer: it is their meeting.
 */
export function invitationOf(participant: Pick<ParticipantRecord, 'role' | 'status'>): 'invited' | 'declined' | undefined {
  if (participant.role === 'host') return undefined;
  if (participant.status === PARTICIPANT_STATUS.invited) return 'invited';
  if (participant.status === PARTICIPANT_STATUS.declined) return 'declined';
  return undefined;
}

/** Counts a seat's media restarts (or ICE restarts) in a sliding window (see MEDIA_RESTART_LIMIT). */
export class RestartBudget {
  private readonly times: number[] = [];

  constructor(readonly limit: { readonly count: number; readonly windowMs: number } = MEDIA_RESTART_LIMIT) {}

  /** Counts one restart at `now` (ms) if the window has room for it; false when it has not. */
  take(now: number): boolean {
    while (this.times.length > 0 && this.times[0]! <= now - this.limit.windowMs) this.times.shift();
    if (this.times.length >= this.limit.count) return false;
    this.times.push(now);
    return true;
  }
}

const forbidden = (reason: string) => new CoreError('forbidden', reason);

/**
 * The rules of a live room, asked by signaling, which keeps only the live connections: who may
 * enter now and where (lobby, seat, capacity), what a seat may publish and how it starts, what a
 * seat may do (chat, moderate, end for all), how media mutes follow permissions.
 */
export class RoomRules {
  private restarting = false;

  constructor(
    private readonly store: Store,
    private readonly access: AccessService,
    private readonly meetings: MeetingService,
    private readonly accounts: AccountService,
    private readonly outbox: WebhookOutbox,
  ) {}

  /** This node is about to restart: no new joins; the people in its rooms come back after it. */
  stopAdmitting(): void {
    this.restarting = true;
  }

  get admitting(): boolean {
    return !this.restarting;
  }

  /** Refuses a join while this node restarts (the page may try again in a moment). */
  assertAdmitting(): void {
    if (this.restarting) throw new CoreError('unavailable', 'the server is restarting; try again in a few seconds', { details: { retryAfterSeconds: 5 } });
  }

  /**
   * A join token presented on a socket, judged against the meeting as it is now: the token may
   * have been fetched a while ago (the page asks before Join is pressed), and the meeting may have
   * ended, moved, turned its lobby on or off, or the invitation been cancelled since.
   */
  async enter(grant: JoinGrant, now = new Date()): Promise<Entry> {
    const resolved = await this.access.resolve(grant.link, now);
    const state = resolved?.state ?? 'not_found';
    if (now.getTime() < grant.notBefore.getTime() - JOIN_CLOCK_SKEW_MS || state === 'not_started') {
      // Early, or rescheduled since the token was issued: the page counts down to the start.
      return { kind: 'refused', state: 'not_started', message: 'The meeting has not started yet.', start: await this.startTime(resolved?.meeting) };
    }
    if (!resolved || state !== 'room') {
      return { kind: 'refused', state: state === 'room' ? 'not_found' : state, message: 'This meeting can no longer be joined from this link.', start: {} };
    }
    const { meeting } = resolved;
    const participant = await this.store.participants.findById(meeting.id, grant.participantId);
    if (!participant || meeting.id !== grant.meetingId) {
      return { kind: 'refused', state: 'not_found', message: 'This meeting can no longer be joined from this link.', start: {} };
    }
    const kind = waitsInLobby(meeting, grant.permissions) && !grant.admitted ? 'lobby' : 'seat';
    if (kind === 'lobby') await this.outbox.record('participant.knocked', meeting, participant);
    return { kind, meeting, participant, title: meeting.title || meeting.key, capacity: meeting.maxParticipants };
  }

  /** When a meeting starts, as a page that must wait for it shows it. */
  async startTime(meeting: MeetingRecord | undefined): Promise<StartTime> {
    if (!meeting?.startsAt) return {};
    const { timeZone } = await this.accounts.get(meeting.accountId);
    return { startsAt: meeting.startsAt.toISOString(), startsAtText: formatStart(meeting.startsAt, timeZone) };
  }

  /**
   * May one more person take a seat, with `seated` people seated now? People waiting in a lobby
   * hold no seat: they are counted when a moderator lets them in.
   */
  hasFreeSeat(capacity: number | null, seated: number): boolean {
    return capacity === null || seated < capacity;
  }

  /**
   * The meeting as it is now, for decisions about people already in its room or lobby (read when
   * a seat is taken: the API may change the limit or the lobby while the room runs).
   */
  async meetingNow(meetingId: string): Promise<MeetingRecord | undefined> {
    return this.store.meetings.get(meetingId);
  }

  /** Whoever waits in the lobby of `meeting` now and no longer has to (the lobby was turned off, or they may moderate). */
  mayLeaveLobby(meeting: MeetingRecord, permissions: PresetPermissions): boolean {
    return !waitsInLobby(meeting, permissions);
  }

  /** What someone in the meeting's room may do now (after a settings change); undefined once they are gone. */
  async permissionsNow(meeting: MeetingRecord, participantId: string): Promise<PresetPermissions | undefined> {
    const participant = await this.store.participants.findById(meeting.id, participantId);
    return participant && this.access.permissions(meeting, participant);
  }

  /** How a seat starts: muted where its preset says so or where it may not publish at all. */
  startingMedia(p: PresetPermissions): SeatMedia {
    return { audioMuted: p.startAudioMuted || !p.publishAudio, videoMuted: p.startVideoOff || !p.publishVideo, screenSharing: false };
  }

  /**
   * Whether a person's own "turn it on" still stands: one sent before their page saw the latest
   * moderator mute (`seen` below `requested`) is overtaken by that mute. A client that does not
   * number what it has seen (`seen` undefined) is taken at its word.
   */
  ownUnmuteStands(seen: number | undefined, requested: number): boolean {
    return seen === undefined || seen >= requested;
  }

  /** The person turns one of their sources on or off: on only where they may publish it. */
  setOwnMedia(media: SeatMedia, source: SeatSource, muted: boolean, p: PresetPermissions): SeatMedia {
    const now = { audioMuted: media.audioMuted, videoMuted: media.videoMuted, screenSharing: media.screenSharing };
    if (source === 'microphone') return { ...now, audioMuted: muted || !p.publishAudio };
    if (source === 'camera') return { ...now, videoMuted: muted || !p.publishVideo };
    return { ...now, screenSharing: !muted && p.shareScreen };
  }

  /**
   * New permissions while in the room: what may no longer be sent is off; what may now be sent
   * stays off until the person turns it on.
   */
  restrictMedia(media: SeatMedia, p: PresetPermissions): SeatMedia {
    return {
      audioMuted: media.audioMuted || !p.publishAudio,
      videoMuted: media.videoMuted || !p.publishVideo,
      screenSharing: media.screenSharing && p.shareScreen,
    };
  }

  /**
   * What the media worker may forward from a seat with these permissions. A screen share a
   * moderator stopped is not forwarded until the person shares again (the microphone and camera
   * are held back through their mute flags instead, which keeps their m-lines).
   */
  publishable(p: PresetPermissions, mutedByHost: { screen: boolean } = { screen: false }): Publishable {
    return { audio: p.publishAudio, video: p.publishVideo, screen: p.shareScreen && !mutedByHost.screen };
  }

  assertMayChat(p: PresetPermissions): void {
    if (!p.chat) throw forbidden('you may not chat in this meeting');
  }

  /**
   * A moderator's action on someone in the room (mute, remove) or the lobby (admit, decline).
   * `present`: the target is there. Nobody moderates themselves.
   */
  assertMayModerate(p: PresetPermissions, actorId: string, target: { id: string; present: boolean; where: 'room' | 'lobby' }): void {
    if (!p.moderate) throw forbidden('only hosts and moderators may do that');
    if (!target.present || target.id === actorId) {
      throw new CoreError('not_found', target.where === 'room' ? 'no such participant in the room' : 'nobody with that id is waiting');
    }
  }

  /**
   * A moderator's mute or removal was applied to someone in the room (by a host there, or by the
   * live API): recorded for webhooks.
   */
  async moderated(meetingId: string, participantId: string, action: { muted: SeatSource[] } | { removed: string | null }, by: Moderator): Promise<void> {
    const meeting = await this.store.meetings.get(meetingId);
    const participant = meeting && await this.store.participants.findById(meetingId, participantId);
    if (!meeting || !participant) return;
    if ('muted' in action) await this.outbox.record('participant.muted', meeting, participant, { sources: action.muted, by });
    else await this.outbox.record('participant.removed', meeting, participant, { reason: action.removed, by });
  }

  /** Ends the meeting for everyone, asked from inside the room. */
  async endForAll(meetingId: string, p: PresetPermissions): Promise<void> {
    if (!p.moderate) throw forbidden('only hosts and moderators may end the meeting');
    const meeting = await this.store.meetings.get(meetingId);
    if (meeting) await this.meetings.endForAll(meeting); // its meeting.closed event closes the room
  }

  /** Accept or decline from a personal link, before the meeting; what the invitation is now. */
  async answerInvitation(token: string, answer: 'accept' | 'decline'): Promise<'invited' | 'declined'> {
    const participant = await this.access.respond(token, answer === 'accept' ? 'accepted' : 'declined');
    return participant.status === PARTICIPANT_STATUS.declined ? 'declined' : 'invited';
  }
}
