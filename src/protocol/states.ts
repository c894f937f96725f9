/**
 * What a page says for each state the server can send a person to: the one wording, used by the
 * meeting room (src/web), the server-rendered link pages (src/api/pages) and the `closed`
 * messages of signaling. No imports of Node or the DOM: built into the browser and the server.
 */

import type { RoomState } from './domain.js';

/** A state in words: a title (the page's heading), and one sentence that explains it. */
export interface StateText {
  title: string;
  explanation: string;
}

export const STATE_TEXT: Record<RoomState, StateText> = {
  // The room shows this only when the meeting has no start time: with one, it counts down.
  not_started: {
    title: 'The meeting has not started yet',
    explanation: 'It has no start time yet. Open this link again later, or ask the organiser when it starts.',
  },
  ended: { title: 'The meeting has ended', explanation: 'Thank you for taking part.' },
  cancelled: { title: 'The meeting was cancelled', explanation: 'The organiser cancelled this meeting.' },
  disabled: { title: 'The meeting is disabled', explanation: 'The organiser has not enabled this meeting. Try again later.' },
  service_stopped: { title: 'The video service is stopped', explanation: 'Meetings cannot be joined until the service is started again.' },
  full: { title: 'The meeting is full', explanation: 'It has reached its maximum number of participants. Try again later.' },
  invitation_cancelled: {
    title: 'Your invitation was cancelled',
    explanation: 'This personal link no longer opens the meeting. Ask the organiser for a new one.',
  },
  removed: { title: 'You were removed from the meeting', explanation: 'A host removed you from this meeting.' },
  joined_elsewhere: {
    title: 'You joined from another window or tab',
    explanation: 'You are still in the meeting there. To take part from this window instead, rejoin here; the other one then leaves the meeting.',
  },
  not_found: { title: 'This link does not lead to a meeting', explanation: 'Check the address, or ask the organiser for a new link.' },
  declined: { title: 'The host did not let you in', explanation: 'You cannot join this meeting now. Contact the organiser if you think this is a mistake.' },
};

/** `not_started` explained with the start in words (`startsAtText`), when the meeting has one. */
export function notStartedExplanation(startsAtText?: string): string {
  return startsAtText ? `It is scheduled for ${startsAtText}.` : STATE_TEXT.not_started.explanation;
}

/** `full` explained with the meeting's capacity, when it has one (the `closed` message of a refused seat). */
export function fullExplanation(capacity: number | null): string {
  return capacity === null ? STATE_TEXT.full.explanation : `All ${capacity} places are taken. Try again when someone has left.`;
}

/**
 * Why a meeting closed: the core's `meeting.closed` reasons, plus `window_passed` (a link page
 * opened after the scheduled end). Kept equal to the core's by the compile-time uses in
 * src/api/pages/render.ts and src/signaling.
 */
export type ClosingReason =
  | 'host_ended' | 'scheduled_end' | 'window_passed' | 'idle' | 'cancelled' | 'disabled' | 'service_stopped' | 'removed' | 'reset';

const SCHEDULED_END = 'Its scheduled time is over.';

/**
 * The state a closed meeting sends its people to, and the sentence that says why (the `closed`
 * message's `message`; the link page's explanation of an ended meeting).
 */
export const CLOSING_TEXT: Record<ClosingReason, { state: RoomState; message: string }> = {
  host_ended: { state: 'ended', message: 'The host ended it for everyone.' },
  scheduled_end: { state: 'ended', message: SCHEDULED_END },
  window_passed: { state: 'ended', message: SCHEDULED_END },
  idle: { state: 'ended', message: STATE_TEXT.ended.explanation },
  cancelled: { state: 'cancelled', message: STATE_TEXT.cancelled.explanation },
  disabled: { state: 'disabled', message: STATE_TEXT.disabled.explanation },
  service_stopped: { state: 'service_stopped', message: STATE_TEXT.service_stopped.explanation },
  removed: { state: 'ended', message: 'The meeting was deleted.' },
  reset: { state: 'ended', message: 'The meeting was reset by its organiser.' },
};
