import type { Phase } from './state.ts';

export interface PageText {
  heading: string;
  detail: string;
  /** The page offers to join again. */
  rejoin?: boolean;
  /** The join-again button's words (default "Rejoin"). */
  rejoinLabel?: string;
  /** The page's own detail says it better than the server's sentence (`closed.message`). */
  ownDetail?: boolean;
}

/** The page for every phase that is not the pre-join screen or the room. */
export const PAGES: Record<Exclude<Phase, 'countdown' | 'prejoin' | 'joining' | 'lobby' | 'room' | 'reconnecting'>, PageText> = {
  // Shown only when the meeting has no start time: with one, the page counts down to it.
  not_started: {
    heading: 'The meeting has not started yet',
    detail: 'It has no start time yet. Open this link again later, or ask the organiser when it starts.',
    ownDetail: true,
  },
  ended: { heading: 'The meeting has ended', detail: 'Thank you for taking part.' },
  cancelled: { heading: 'The meeting was cancelled', detail: 'The organiser cancelled this meeting.' },
  disabled: { heading: 'The meeting is disabled', detail: 'The organiser has not enabled this meeting. Try again later.' },
  service_stopped: { heading: 'The video service is stopped', detail: 'Meetings cannot be joined until the service is started again.' },
  full: { heading: 'The meeting is full', detail: 'It has reached its maximum number of participants. Try again later.' },
  invitation_cancelled: { heading: 'Your invitation was cancelled', detail: 'This personal link no longer opens the meeting. Ask the organiser for a new one.' },
  removed: { heading: 'You were removed from the meeting', detail: 'A host removed you from this meeting.' },
  joined_elsewhere: {
    heading: 'You joined from another window or tab',
    detail: 'You are still in the meeting there. To take part from this window instead, rejoin here; the other one then leaves the meeting.',
    rejoin: true,
    rejoinLabel: 'Rejoin here',
    ownDetail: true,
  },
  not_found: { heading: 'This link does not lead to a meeting', detail: 'Check the address, or ask the organiser for a new link.' },
  declined: { heading: 'The host did not let you in', detail: 'You cannot join this meeting now. Contact the organiser if you think this is a mistake.' },
  left: { heading: 'You left the meeting', detail: 'You can join again while the meeting is still running.', rejoin: true },
  connection_lost: { heading: 'Connection lost', detail: 'We could not reconnect you to the meeting. Check your network and join again.', rejoin: true },
};

/** Turns a getUserMedia / getDisplayMedia failure into a sentence for the person. */
export function deviceErrorText(kind: 'camera' | 'microphone', error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Access to your ${kind} is blocked. Allow it in your browser's site settings to use it; you can join without it.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${kind} was found. You can join without one.`;
    case 'NotReadableError':
    case 'AbortError':
      return `Your ${kind} could not be started: another application may be using it.`;
    default:
      return `Your ${kind} could not be started. You can join without it.`;
  }
}

/** Counts down to a time, for the eye: coarse when far away, by the second when near (see countdownAnnouncement). */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (days > 0) return `${plural(days, 'day')} ${hours} h ${minutes} min`;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min ${String(seconds).padStart(2, '0')} s`;
  if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
  return plural(seconds, 'second');
}

/** Minutes before the start from which screen readers hear the countdown every minute. */
const ANNOUNCE_MINUTES = 5;

/**
 * What the countdown says to screen readers (its live region). It changes only at moments worth
 * hearing, never every second: the start (`start`, in words) once, then every minute of the
 * last few, then the opening.
 */
export function countdownAnnouncement(ms: number, start: string): string {
  if (ms <= 0) return 'The meeting is opening.';
  const minutes = Math.ceil(ms / 60_000);
  if (minutes === 1) return 'The meeting starts in less than a minute.';
  if (minutes <= ANNOUNCE_MINUTES) return `The meeting starts in ${minutes} minutes.`;
  return `The meeting starts ${start}.`;
}

export const NO_MEDIA_DEVICES = 'This browser does not let the page use a camera or microphone here (the page must be opened over HTTPS). You can still join to watch and listen.';
