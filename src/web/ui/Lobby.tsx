import { useEffect, useRef } from 'preact/hooks';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import { Devices, Preview } from './Preview.tsx';

/** Waiting to be let in: the preview stays, so people can get ready; Leave gives up. */
export function Lobby({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { title } = state;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main class="prejoin lobby" data-state="lobby">
      <div class="prejoin-card">
        <Preview meeting={meeting} state={state} />
        <div class="prejoin-form">
          <p class="eyebrow">{title}</p>
          <h1 ref={heading} tabIndex={-1}>Waiting to be let in</h1>
          <p class="joining-as" role="status">
            The host knows you are here and will let you in soon. Please wait.
          </p>
          {meeting.joiningAs && (
            <p class="joining-as">
              Joining as <strong>{meeting.joiningAs}</strong>
            </p>
          )}
          <Devices meeting={meeting} state={state} />
          <div class="join-row">
            <button type="button" class="button" onClick={() => meeting.leave()}>
              Leave
            </button>
          </div>
        </div>
      </div>
    </main>
  );
}
