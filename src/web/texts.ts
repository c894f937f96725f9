import type { Phase } from './state.ts';

export interface PageText {
  heading: string;
  detail: string;
  /** The page offers to join again. */
  rejoin?: boolean;
}

/** The page for every phase that is not the pre-join screen or the room. */
export const PAGES: Record<Exclude<Phase, 'prejoin' | 'joining' | 'room' | 'reconnecting'>, PageText> = {
  not_started: { heading: 'The meeting has not started yet', detail: 'Open this link again at the scheduled time.' },
  ended: { heading: 'The meeting has ended', detail: 'Thank you for taking part.' },
  cancelled: { heading: 'The meeting was cancelled', detail: 'The organiser cancelled this meeting.' },
  disabled: { heading: 'The meeting is disabled', detail: 'The organiser has not enabled this meeting. Try again later.' },
  service_stopped: { heading: 'The video service is stopped', detail: 'Meetings cannot be joined until the service is started again.' },
  full: { heading: 'The meeting is full', detail: 'It has reached its maximum number of participants. Try again later.' },
  invitation_cancelled: { heading: 'Your invitation was cancelled', detail: 'This personal link no longer opens the meeting. Ask the organiser for a new one.' },
  removed: { heading: 'You were removed from the meeting', detail: 'A host removed you from this meeting.' },
  not_found: { heading: 'This link does not lead to a meeting', detail: 'Check the address, or ask the organiser for a new link.' },
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

export const NO_MEDIA_DEVICES = 'This browser does not let the page use a camera or microphone here (the page must be opened over HTTPS). You can still join to watch and listen.';
