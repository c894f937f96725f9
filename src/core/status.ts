import type { EndReason, MeetingStatus, ParticipantStatus } from '../store/index.js';

/**
 * The status machines, as pure functions. Presence (the media layer), the host's commands,
 * schedules and cancellations feed events in; the core persists what comes out. Status codes
 * are LiveMinutes': meeting 1 start / 8 in progress / 11 host quit / 12 finish; participant
 * 2 accept (invited) / 3 refuse / 10 in progress / 11 quit.
 */

export const MEETING_STATUS = { created: 1, inProgress: 8, hostLeft: 11, finished: 12 } as const;
export const PARTICIPANT_STATUS = { invited: 2, declined: 3, inProgress: 10, left: 11 } as const;

export type MeetingEvent =
  /**
   * Someone's media connected. `open`: the meeting may be joined right now (its availability is
   * 'open': enabled, not cancelled, inside its window, service running), judged on the same
   * record the event is applied to. A connection reported late, after the meeting closed, must
   * not start or reopen it.
   */
  | { type: 'connected'; isHost: boolean; open: boolean }
  /** Someone left; `hostsConnected` counts hosts still in the room after they went. */
  | { type: 'left'; isHost: boolean; hostsConnected: number }
  | { type: 'ended'; reason: EndReason }
  | { type: 'reset' };

export interface MeetingState {
  status: MeetingStatus;
  endReason: EndReason | null;
}

export const isLive = (s: MeetingStatus) => s === MEETING_STATUS.inProgress || s === MEETING_STATUS.hostLeft;

/**
 * Ends after which the meeting may run again: the next person who comes in starts a new session.
 * PRODUCT.md: "empty long enough" (idle) reopens; turning a conference off ends its live session
 * and it can be joined again once turned on (disabled); a stopped service refuses joins "until
 * start" (service_stopped). Final: ended for all by the host, the scheduled end (a new window
 * resets it, see MeetingService.update), a cancellation. A reset is not an end (back to 1).
 * Reopening still needs the meeting to be open again: see the `connected` event.
 */
export const REOPENABLE: ReadonlySet<EndReason> = new Set(['idle', 'disabled', 'service_stopped']);

/** Reasons that only end a session that is actually running; the others also close a meeting nobody joined yet. */
const LIVE_ONLY: ReadonlySet<EndReason> = new Set(['idle', 'disabled', 'service_stopped']);

/** Ended for a final reason (not one after which it may run again): over for good. */
export function hasEndedForGood(meeting: MeetingState): meeting is MeetingState & { endReason: EndReason } {
  return meeting.status === MEETING_STATUS.finished && meeting.endReason !== null && !REOPENABLE.has(meeting.endReason);
}

export function nextMeetingState(state: MeetingState, event: MeetingEvent): MeetingState {
  switch (event.type) {
    case 'connected':
      // A host arriving (or coming back) means the meeting is in progress; anyone else arriving
      // while the host is away leaves it at "host quit". A session that is not running starts
      // (1) or starts over (12) only if the meeting may be joined now and, once ended, only
      // after an end that is not final: a late report never revives an ended meeting.
      if (state.status === MEETING_STATUS.created && !event.open) return state;
      if (state.status === MEETING_STATUS.finished && !(event.open && state.endReason !== null && REOPENABLE.has(state.endReason))) return state;
      if (state.status === MEETING_STATUS.hostLeft && !event.isHost) return state;
      return { status: MEETING_STATUS.inProgress, endReason: null };
    case 'left':
      if (state.status === MEETING_STATUS.inProgress && event.isHost && event.hostsConnected === 0) return { status: MEETING_STATUS.hostLeft, endReason: null };
      return state;
    case 'ended':
      if (LIVE_ONLY.has(event.reason) && !isLive(state.status)) return state;
      if (state.status === MEETING_STATUS.finished && event.reason !== 'cancelled') return state; // the first reason stands
      return { status: MEETING_STATUS.finished, endReason: event.reason };
    case 'reset':
      return { status: MEETING_STATUS.created, endReason: null };
  }
}

/** Invited and not yet in: the invitation may still be accepted or declined. */
const hasNotJoined = (s: ParticipantStatus) => s === PARTICIPANT_STATUS.invited || s === PARTICIPANT_STATUS.declined;

/** Connected to the meeting's room now. */
export const isConnected = (s: ParticipantStatus) => s === PARTICIPANT_STATUS.inProgress;

export type ParticipantEvent = 'connected' | 'left' | 'accepted' | 'declined' | 'reset';

/** Returns the next status, or null when the event is not allowed from this status. */
export function nextParticipantStatus(status: ParticipantStatus, event: ParticipantEvent): ParticipantStatus | null {
  switch (event) {
    case 'connected':
      return PARTICIPANT_STATUS.inProgress;
    case 'left':
      return status === PARTICIPANT_STATUS.inProgress ? PARTICIPANT_STATUS.left : status;
    case 'accepted':
      return hasNotJoined(status) ? PARTICIPANT_STATUS.invited : null;
    case 'declined':
      return hasNotJoined(status) ? PARTICIPANT_STATUS.declined : null;
    case 'reset':
      return PARTICIPANT_STATUS.invited;
  }
}

/** Switched on: enabled and not cancelled (final). Livebox's conference Mode. */
export function isSwitchedOn(meeting: { enabled: boolean; cancelledAt: Date | null }): boolean {
  return meeting.enabled && meeting.cancelledAt === null;
}

/** What a link to the meeting leads to right now. */
export type Availability =
  | { state: 'open' }
  | { state: 'not_started'; startsAt: Date }
  | { state: 'ended'; reason: EndReason | 'window_passed' }
  | { state: 'cancelled' }
  | { state: 'disabled' }
  | { state: 'service_stopped' };


export function meetingAvailability(
  meeting: { cancelledAt: Date | null; enabled: boolean; status: MeetingStatus; endReason: EndReason | null; startsAt: Date | null; endsAt: Date | null },
  now: Date,
  serviceRunning: boolean,
): Availability {
  if (meeting.cancelledAt) return { state: 'cancelled' };
  // Sessions ended for a final reason are over for good; the others may start again (REOPENABLE).
  if (hasEndedForGood(meeting)) return { state: 'ended', reason: meeting.endReason };
  if (meeting.endsAt && now.getTime() >= meeting.endsAt.getTime()) return { state: 'ended', reason: 'window_passed' };
  if (!meeting.enabled) return { state: 'disabled' };
  if (meeting.startsAt && now.getTime() < meeting.startsAt.getTime()) return { state: 'not_started', startsAt: meeting.startsAt };
  if (!serviceRunning) return { state: 'service_stopped' };
  return { state: 'open' };
}
