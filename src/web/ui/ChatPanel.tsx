import { useEffect, useRef, useState } from 'preact/hooks';
import { CHAT_MAX_LENGTH } from '../../protocol/messages.ts';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import { formatTime } from '../util.ts';
import { CloseIcon } from './icons.tsx';

/** Messages are rendered as text nodes only: whatever people type never becomes markup. */
export function ChatPanel({ meeting, state }: { meeting: Meeting; state: AppState }) {
  const { chat, permissions, self, phase } = state;
  const [draft, setDraft] = useState('');
  const list = useRef<HTMLOListElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const canChat = Boolean(permissions?.chat);
  const online = phase === 'room';

  useEffect(() => input.current?.focus(), []);
  // Follow the conversation, unless the person scrolled up to read.
  useEffect(() => {
    const el = list.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [chat.length]);

  const submit = (e: Event) => {
    e.preventDefault();
    if (meeting.controls.sendChat(draft)) setDraft('');
  };

  return (
    <section class="panel" aria-labelledby="chat-title" onKeyDown={(e) => e.key === 'Escape' && meeting.controls.setPanel(null)}>
      <header class="panel-header">
        <h2 id="chat-title">Chat</h2>
        <button type="button" class="icon-button" aria-label="Close chat" onClick={() => meeting.controls.setPanel(null)}>
          <CloseIcon />
        </button>
      </header>
      <ol class="messages" ref={list} aria-live="polite" aria-relevant="additions" tabIndex={0} aria-label="Messages">
        {chat.length === 0 && <li class="empty">No messages yet.</li>}
        {chat.map((m) => (
          <li key={m.id} class={m.from === self?.id ? 'mine' : undefined}>
            <div class="meta">
              <strong>{m.from === self?.id ? 'You' : m.name}</strong> <time dateTime={m.at}>{formatTime(m.at)}</time>
            </div>
            <p class="text">{m.text}</p>
          </li>
        ))}
      </ol>
      {canChat ? (
        <form class="chat-form" onSubmit={submit}>
          <input
            ref={input}
            type="text"
            aria-label="Message"
            placeholder={online ? 'Message everyone' : 'Reconnecting…'}
            maxLength={CHAT_MAX_LENGTH}
            value={draft}
            disabled={!online}
            onInput={(e) => setDraft(e.currentTarget.value)}
            enterKeyHint="send"
            autoComplete="off"
          />
          <button type="submit" class="button primary" disabled={!online || !draft.trim()}>
            Send
          </button>
        </form>
      ) : (
        <p class="panel-note">Chat is turned off for you in this meeting.</p>
      )}
    </section>
  );
}
