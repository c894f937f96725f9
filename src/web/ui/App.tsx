import { useEffect } from 'preact/hooks';
import type { Meeting } from '../meeting.ts';
import { useStore } from '../store.ts';
import { CloseIcon } from './icons.tsx';
import { Countdown } from './Countdown.tsx';
import { Lobby } from './Lobby.tsx';
import { PreJoin } from './PreJoin.tsx';
import { Room } from './Room.tsx';
import { StatePage } from './StatePage.tsx';

export function App({ meeting }: { meeting: Meeting }) {
  const state = useStore(meeting.store);
  const { phase, title, toasts, announcement } = state;
  useEffect(() => {
    if (title) document.title = `${title} · Parley`;
  }, [title]);

  let screen;
  if (phase === 'countdown') screen = <Countdown meeting={meeting} state={state} />;
  else if (phase === 'prejoin' || phase === 'joining') screen = <PreJoin meeting={meeting} state={state} />;
  else if (phase === 'lobby') screen = <Lobby meeting={meeting} state={state} />;
  else if (phase === 'room' || phase === 'reconnecting') screen = <Room meeting={meeting} state={state} />;
  else screen = <StatePage meeting={meeting} state={state} />;

  return (
    <div class="app">
      {screen}
      <div class="toasts" role="status">
        {toasts.map((t) => (
          <div key={t.id} class="toast">
            <span>{t.text}</span>
            <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => meeting.controls.dismissToast(t.id)}>
              <CloseIcon />
            </button>
          </div>
        ))}
      </div>
      <div class="sr-only" aria-live="polite">{announcement}</div>
    </div>
  );
}
