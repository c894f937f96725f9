import type { RoomState, TrackSource } from '../protocol/messages.ts';
import { STATE_TEXT, type StateText } from '../protocol/states.ts';
import type { Phase } from './state.ts';

/** A state page: the wording (the server's, see STATE_TEXT) and what the page offers. */
export interface PageText extends StateText {
  /** The page offers to join again. */
  rejoin?: boolean;
  /** The join-again button's words (default "Rejoin"). */
  rejoinLabel?: string;
  /** The page's own explanation says it better than the server's sentence (`closed.message`). */
  ownExplanation?: boolean;
}

/** The phases that show a state page: every RoomState, and the two endings that are the page's own. */
export type PagePhase = Exclude<Phase, 'countdown' | 'prejoin' | 'joining' | 'lobby' | 'room' | 'reconnecting'>;

const OWN_PAGES: Record<Exclude<PagePhase, RoomState>, PageText> = {
  left: { title: 'You left the meeting', explanation: 'You can join again while the meeting is still running.', rejoin: true },
  connection_lost: { title: 'Connection lost', explanation: 'We could not reconnect you to the meeting. Check your network and join again.', rejoin: true },
};

const PAGE_OPTIONS: Partial<Record<RoomState, Omit<PageText, keyof StateText>>> = {
  // Without a start time (else the room counts down): the server's sentence would say less.
  not_started: { ownExplanation: true },
  joined_elsewhere: { rejoin: true, rejoinLabel: 'Rejoin here', ownExplanation: true },
  // The server's sentence names who declined, which only restates the heading ("… did not let you in").
  declined: { ownExplanation: true },
};

/** The page for every phase that is not the pre-join screen or the room. */
export function pageText(phase: PagePhase): PageText {
  if (phase === 'left' || phase === 'connection_lost') return OWN_PAGES[phase];
  // A phase this build does not know (a newer server's state): the meeting is over for this page.
  return { ...(STATE_TEXT[phase] ?? STATE_TEXT.ended), ...PAGE_OPTIONS[phase] };
}

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

/** The server's answer refused a source this page sends (see Publisher.onRefused). */
export function refusedSourceText(source: TrackSource): string {
  if (source === 'microphone') return 'Your microphone could not be connected to the meeting: the others cannot hear you.';
  if (source === 'camera') return 'Your camera could not be connected to the meeting: the others cannot see it.';
  return 'Your screen could not be shared with the meeting: the others cannot see it.';
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
