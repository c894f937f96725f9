import { useEffect, useRef, useState } from 'preact/hooks';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import { countdownAnnouncement, formatRemaining } from '../texts.ts';
import { Invitation } from './Invitation.tsx';
import { useNow } from './time.ts';

function startText(date: Date): string {
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(date);
  } catch {
    return date.toLocaleString();
  }
}

/** After the heading has been read: what a live region holds when the page appears is not spoken. */
const ANNOUNCE_AFTER_MS = 1_000;

/**
 * Before the start: the title, the start in the viewer's own time, and a countdown. The page
 * opens the meeting by itself at the start (see Meeting.aimCountdown): no camera is asked for
 * until then. A personal invitation can be accepted or declined here.
 *
 * The countdown changes every second for the eye, but is no live region (a timer is read when
 * the person goes to it); screen readers hear a separate region that changes only at sensible
 * moments (countdownAnnouncement).
 */
export function Countdown({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { title, bootstrap, invitation } = state;
  const startsAt = Date.parse(bootstrap.meeting.startsAt ?? '');
  const now = useNow(1000, Number.isNaN(startsAt) ? 0 : startsAt);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const left = startsAt - now;
  const date = new Date(startsAt);
  const [speak, setSpeak] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSpeak(true), ANNOUNCE_AFTER_MS);
    return () => clearTimeout(timer);
  }, []);
  return (
    <main class="state-page countdown-page" data-state="countdown">
      <div class="card">
        <p class="meeting-title">The meeting has not started yet</p>
        <h1 ref={heading} tabIndex={-1}>{title}</h1>
        <p>
          Starts <time dateTime={date.toISOString()}>{startText(date)}</time>
          {bootstrap.meeting.startsAtText && (
            <>
              <br />
              <span class="organiser-time">Organiser’s time: {bootstrap.meeting.startsAtText}</span>
            </>
          )}
        </p>
        <p class="countdown" role="timer" aria-live="off" aria-atomic="true">
          {left > 0 ? `Starts in ${formatRemaining(left)}` : 'Opening the meeting…'}
        </p>
        <p class="sr-only countdown-announcement" aria-live="polite" aria-atomic="true">
          {speak ? countdownAnnouncement(left, startText(date)) : ''}
        </p>
        <p>This page opens the meeting by itself when it starts; you can keep it open.</p>
        {invitation && <Invitation meeting={meeting} invitation={invitation} />}
      </div>
    </main>
  );
}
