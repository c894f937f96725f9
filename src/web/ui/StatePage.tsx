import { useEffect, useRef } from 'preact/hooks';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import { pageText, type PagePhase } from '../texts.ts';

/** Every ending and refusal: a title, one sentence, and Rejoin where that makes sense. */
export function StatePage({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // App shows this page for the PagePhases only.
  const phase = state.phase as PagePhase;
  const page = pageText(phase);
  useEffect(() => heading.current?.focus(), [phase]);
  return (
    <main class="state-page" data-state={state.phase}>
      <div class="card">
        {state.title && <p class="meeting-title">{state.title}</p>}
        <h1 ref={heading} tabIndex={-1}>{page.title}</h1>
        <p>{(!page.ownExplanation && state.pageMessage) || page.explanation}</p>
        {page.rejoin && (
          <button type="button" class="button primary" onClick={() => void meeting.rejoin()}>
            {page.rejoinLabel ?? 'Rejoin'}
          </button>
        )}
      </div>
    </main>
  );
}
