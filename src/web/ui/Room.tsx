import { useEffect, useRef, useState } from 'preact/hooks';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import { ChatPanel } from './ChatPanel.tsx';
import { ConfirmDialog, type ConfirmSpec } from './ConfirmDialog.tsx';
import { Controls } from './Controls.tsx';
import { SoundIcon } from './icons.tsx';
import { AudioSink } from './media.tsx';
import { PeoplePanel } from './PeoplePanel.tsx';
import { buildTiles, Stage } from './Stage.tsx';

export function Room({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const [confirm, setConfirm] = useState<ConfirmSpec | null>(null);
  const { title, phase, panel, remote, audioBlocked, others, permissions, mediaProblem } = state;
  const waiting = permissions?.moderate ? state.waiting : [];
  const tiles = buildTiles(state);
  const count = others.length + (state.self ? 1 : 0);

  // A closed panel gives the focus back to the button that opened it.
  const lastPanel = useRef(panel);
  useEffect(() => {
    const closed = lastPanel.current;
    lastPanel.current = panel;
    if (closed && !panel) {
      document.querySelector<HTMLButtonElement>(`.controls [aria-label="${closed === 'chat' ? 'Chat' : 'Participants'}"]`)?.focus();
    }
  }, [panel]);

  const enableSound = () => {
    for (const audio of document.querySelectorAll('audio')) audio.play().catch(() => undefined);
    meeting.controls.setAudioBlocked(false);
  };

  return (
    <main class={`room${panel ? ' with-panel' : ''}`} data-state={phase}>
      <header class="room-header">
        <h1>{title}</h1>
        {state.recording && <span class="recording-indicator" role="status">Recording</span>}
        <span class="room-count">{count === 1 ? 'Only you' : `${count} people`}</span>
        {count > 1 && (
          <button
            type="button"
            class="button small view-toggle"
            aria-pressed={state.view === 'speaker'}
            onClick={() => meeting.controls.setView(state.view === 'speaker' ? 'grid' : 'speaker')}
          >
            Speaker view
          </button>
        )}
      </header>
      <div class="banners">
        {phase === 'reconnecting' && (
          <p class="banner warn" role="status">
            Reconnecting… Your seat is kept while we get you back.
          </p>
        )}
        {/* Always there, so screen readers hear when media is lost and when it is retried. */}
        <div class="media-region" role="status" aria-live="polite">
          {phase === 'room' && mediaProblem === 'gaveUp' && (
            <div class="banner warn media-lost">
              <span id="media-lost-text">Audio and video could not be connected again.</span>
              <button type="button" class="button small" aria-describedby="media-lost-text" onClick={() => meeting.retryMedia()}>
                Try again
              </button>
            </div>
          )}
          {phase === 'room' && mediaProblem === 'retrying' && <p class="banner warn">Connecting audio and video again…</p>}
        </div>
        {audioBlocked && (
          <button type="button" class="banner sound" onClick={enableSound}>
            <SoundIcon /> Turn on sound
          </button>
        )}
        {/* Always there, so screen readers hear each change of who is waiting. */}
        <div class="knock-region" role="status" aria-live="polite">
          {waiting.length > 0 && (
            <div class="banner knock">
              <span>
                <strong>{waiting.length} waiting</strong> to be let in: {waiting.map((w) => w.name).join(', ')}
              </span>
              {panel !== 'people' && (
                <button type="button" class="button small" onClick={() => meeting.controls.setPanel('people')}>
                  Review
                </button>
              )}
            </div>
          )}
        </div>
      </div>
      <div class="room-body">
        <Stage tiles={tiles} view={state.view} featured={state.featured} />
        {panel === 'chat' && <ChatPanel meeting={meeting} state={state} />}
        {panel === 'people' && <PeoplePanel meeting={meeting} state={state} confirm={setConfirm} />}
      </div>
      <Controls meeting={meeting} state={state} confirm={setConfirm} />
      <div class="audio-sinks" hidden>
        {[...remote].map(([participantId, media]) =>
          media.microphone ? <AudioSink key={`${participantId}:${media.microphone.id}`} track={media.microphone} onBlocked={() => meeting.controls.setAudioBlocked(true)} /> : null,
        )}
      </div>
      {confirm && <ConfirmDialog spec={confirm} onDone={() => setConfirm(null)} />}
    </main>
  );
}
