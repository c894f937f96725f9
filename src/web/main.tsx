import { render } from 'preact';
import type { ParticipantInfo, TrackSource } from '../protocol/messages.ts';
import { STATE_TEXT } from '../protocol/states.ts';
import { readBootstrap } from './bootstrap.ts';
import { EmbedBridge, embeddingOrigin } from './embed.ts';
import { Meeting } from './meeting.ts';
import { App } from './ui/App.tsx';

declare global {
  interface Window {
    /** Test hooks: always present, read-only except dropSocket (which simulates a network drop). */
    __parley?: {
      state(): string;
      participants(): ParticipantInfo[];
      selfId(): string | undefined;
      /** What we receive from the others now, by participant and source. */
      remoteSources(): { participantId: string; source: TrackSource }[];
      /** Moderators: who waits in the lobby. */
      waiting(): { id: string; name: string }[];
      publisher(): RTCPeerConnection | undefined;
      subscriber(): RTCPeerConnection | undefined;
      /** the sender of one source's m-line (its simulcast layers' stats) */
      sender(source: TrackSource): RTCRtpSender | undefined;
      dropSocket(): void;
    };
  }
}

const root = document.getElementById('app');
const bootstrap = readBootstrap();
if (root) root.textContent = ''; // the "Opening the meeting…" placeholder
if (root && bootstrap) {
  const meeting = new Meeting(bootstrap);
  window.__parley = meeting.testHooks();
  render(<App meeting={meeting} />, root);
  // Inside another site's page (parley-embed.js): talk to it, and to nobody else.
  const origin = embeddingOrigin();
  if (origin) new EmbedBridge(meeting, origin).start();
} else if (root) {
  // The page was not served by Parley for a meeting link (or its data is damaged).
  render(
    <div class="app">
      <main class="state-page" data-state="not_found">
        <div class="card">
          <h1>{STATE_TEXT.not_found.title}</h1>
          <p>{STATE_TEXT.not_found.explanation}</p>
        </div>
      </main>
    </div>,
    root,
  );
  window.__parley = {
    state: () => 'not_found',
    participants: () => [],
    selfId: () => undefined,
    remoteSources: () => [],
    waiting: () => [],
    publisher: () => undefined,
    subscriber: () => undefined,
    sender: () => undefined,
    dropSocket: () => undefined,
  };
}
