import { useState } from 'preact/hooks';
import { api, failure } from '../api.ts';
import type { LiveMeeting, LivePerson, Source } from '../types.ts';
import { Outcome, useConfirm } from './confirm.tsx';
import { usePoll } from './poll.ts';

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '—');
const media = (s: Source) => (s.on ? 'on' : s.mutedByHost ? 'off (by a host)' : 'off');

/** Every live meeting across accounts, who is in each, and "end for everyone". */
export function LivePage() {
  const live = usePoll(() => api.get<{ data: LiveMeeting[] }>('/live'), 3000);
  const confirm = useConfirm();
  const [outcome, setOutcome] = useState<{ text?: string; error?: string }>({});

  const end = (m: LiveMeeting) => confirm.ask({
    title: `End “${name(m)}” for everyone?`,
    text: `Everyone in it (${m.participants.length}) is sent out and its links say that the meeting has ended. This cannot be undone.`,
    confirmLabel: 'End meeting',
    onConfirm: async () => {
      try {
        await api.post(`/meetings/${encodeURIComponent(m.meeting.id)}/end`);
        setOutcome({ text: `“${name(m)}” has ended.` });
      } catch (error) {
        setOutcome({ error: `Could not end “${name(m)}”: ${failure(error)}` });
      }
      await live.refresh();
    },
  });

  /** A command on someone in a meeting: says what it did, and refreshes. */
  const act = async (done: string, path: string, body?: unknown) => {
    try {
      await api.post(path, body);
      setOutcome({ text: done });
    } catch (error) {
      setOutcome({ error: failure(error) });
    }
    await live.refresh();
  };

  const meetings = live.data?.data;
  return (
    <>
      <Outcome text={outcome.text} error={outcome.error ?? live.error} />
      {!meetings ? <p class="hint">Loading…</p> : meetings.length === 0 ? <p class="hint">No meeting is live now.</p> : (
        <ul class="live-list">
          {meetings.map((m) => (
            <li key={m.meeting.id}>
              <section class="panel-card" aria-labelledby={`m-${m.meeting.id}`}>
                <div class="panel-card-header">
                  <div>
                    <h2 id={`m-${m.meeting.id}`}>{name(m)}</h2>
                    <p class="hint">
                      {m.account.name} · key {m.meeting.key} · {m.meeting.status.replace('_', ' ')} since {time(m.since)}
                      {m.lobby.length > 0 && ` · ${m.lobby.length} waiting in the lobby`}
                    </p>
                  </div>
                  <button type="button" class="button danger small" onClick={() => end(m)} aria-label={`End ${name(m)} for everyone`}>
                    End meeting
                  </button>
                </div>
                <People meeting={m} act={act} confirm={confirm.ask} />
                <Lobby meeting={m} act={act} />
              </section>
            </li>
          ))}
        </ul>
      )}
      {confirm.dialog}
    </>
  );
}

const name = (m: LiveMeeting) => m.meeting.title || m.meeting.key;

type Act = (done: string, path: string, body?: unknown) => Promise<void>;
const personPath = (m: LiveMeeting, id: string) => `/meetings/${encodeURIComponent(m.meeting.id)}/participants/${encodeURIComponent(id)}`;

function People({ meeting, act, confirm }: { meeting: LiveMeeting; act: Act; confirm: ReturnType<typeof useConfirm>['ask'] }) {
  if (meeting.participants.length === 0) return <p class="hint">Nobody is in the room now.</p>;
  const remove = (p: LivePerson) => confirm({
    title: `Remove ${p.name} from “${name(meeting)}”?`,
    text: 'Their page says that the organiser removed them. Their link still works.',
    confirmLabel: 'Remove',
    onConfirm: () => act(`${p.name} was removed.`, `${personPath(meeting, p.id)}/remove`, {}),
  });
  return (
    <table class="table">
      <caption class="sr-only">Who is in {name(meeting)}</caption>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Connection</th><th scope="col">Microphone</th><th scope="col">Camera</th><th scope="col">Screen</th><th scope="col">Joined</th><th scope="col">Actions</th></tr>
      </thead>
      <tbody>
        {meeting.participants.map((p: LivePerson) => (
          <tr key={p.id}>
            <th scope="row">{p.name}{p.speaking && <span class="tag speak">speaking</span>}{p.handRaised && <span class="tag">hand raised</span>}</th>
            <td>{p.role}</td>
            <td>{p.connection}</td>
            <td>{media(p.audio)}</td>
            <td>{media(p.video)}</td>
            <td>{media(p.screen)}</td>
            <td>{time(p.joinedAt)}</td>
            <td class="button-row">
              {p.audio.on && (
                <button type="button" class="button small" aria-label={`Mute ${p.name}`}
                  onClick={() => void act(`${p.name} was muted.`, `${personPath(meeting, p.id)}/mute`, { sources: ['audio'] })}>Mute</button>
              )}
              <button type="button" class="button small danger" aria-label={`Remove ${p.name}`} onClick={() => remove(p)}>Remove…</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Who waits in the meeting's lobby, to let in or turn away. */
function Lobby({ meeting, act }: { meeting: LiveMeeting; act: Act }) {
  if (meeting.lobby.length === 0) return null;
  return (
    <>
      <h3>Waiting in the lobby</h3>
      <ul class="plain-list">
        {meeting.lobby.map((w) => (
          <li key={w.id} class="button-row">
            <span>{w.name}, since {time(w.since)}</span>
            <button type="button" class="button small primary" aria-label={`Let ${w.name} in`} onClick={() => void act(`${w.name} was let in.`, `${personPath(meeting, w.id)}/admit`)}>Let in</button>
            <button type="button" class="button small" aria-label={`Turn ${w.name} away`} onClick={() => void act(`${w.name} was turned away.`, `${personPath(meeting, w.id)}/decline`)}>Turn away</button>
          </li>
        ))}
      </ul>
    </>
  );
}
