import type { ParticipantInfo, Role } from '../../protocol/messages.ts';
import type { Meeting } from '../meeting.ts';
import type { AppState } from '../state.ts';
import { colorFor, initials } from '../util.ts';
import type { ConfirmSpec } from './ConfirmDialog.tsx';
import { CameraIcon, CloseIcon, HandIcon, MicIcon } from './icons.tsx';

const ROLE_LABEL: Record<Role, string | undefined> = { host: 'Host', moderator: 'Moderator', participant: undefined, viewer: 'Viewer' };

export function PeoplePanel({ meeting, state, confirm }: { meeting: Meeting; state: AppState; confirm: (spec: ConfirmSpec) => void }) {
  const { self, others, permissions, local } = state;
  const moderate = Boolean(permissions?.moderate);
  const waiting = moderate ? state.waiting : [];
  // Ourselves as we are now (the server's view lags our own toggles by a round trip).
  const me: ParticipantInfo | undefined = self && {
    ...self,
    audioMuted: !(local.micOn && local.audioTrack),
    videoMuted: !local.videoTrack,
  };
  const everyone = me ? [me, ...others] : others;
  // Raised hands first, then in join order.
  const sorted = [...everyone].sort((a, b) => Number(b.handRaised) - Number(a.handRaised));
  return (
    <section class="panel" aria-labelledby="people-title" onKeyDown={(e) => e.key === 'Escape' && meeting.controls.setPanel(null)}>
      <header class="panel-header">
        <h2 id="people-title">Participants ({everyone.length})</h2>
        <button type="button" class="icon-button" aria-label="Close participants" onClick={() => meeting.controls.setPanel(null)}>
          <CloseIcon />
        </button>
      </header>
      {waiting.length > 0 && (
        <section class="waiting" aria-labelledby="waiting-title">
          <h3 id="waiting-title">Waiting ({waiting.length})</h3>
          <ul class="people">
            {waiting.map((w) => (
              <li key={w.id} data-waiting-id={w.id}>
                <span class="avatar small" style={{ background: colorFor(w.id) }} aria-hidden="true">{initials(w.name)}</span>
                <span class="who">
                  <span class="name">{w.name}</span>
                </span>
                <span class="actions">
                  <button type="button" class="button small primary" aria-label={`Admit ${w.name}`} onClick={() => meeting.controls.answerKnock(w.id, true)}>
                    Admit
                  </button>
                  <button type="button" class="button small" aria-label={`Decline ${w.name}`} onClick={() => meeting.controls.answerKnock(w.id, false)}>
                    Decline
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <ul class="people" aria-label="In the meeting">
        {sorted.map((p) => {
          const isSelf = p.id === self?.id;
          const role = ROLE_LABEL[p.role];
          return (
            <li key={p.id} data-participant-id={p.id}>
              <span class="avatar small" style={{ background: colorFor(p.id) }} aria-hidden="true">{initials(p.name)}</span>
              <span class="who">
                <span class="name">{p.name}{isSelf ? ' (you)' : ''}</span>
                {role && <span class="role">{role}</span>}
              </span>
              <span class="states">
                {p.reconnecting && !isSelf && <span class="badge reconnecting">Reconnecting…</span>}
                {p.handRaised && <span class="badge hand" title="Hand raised" role="img" aria-label="Hand raised"><HandIcon /></span>}
                {p.audioMuted && <span class="badge" title="Microphone muted" role="img" aria-label="Microphone muted"><MicIcon off /></span>}
                {p.videoMuted && <span class="badge" title="Camera off" role="img" aria-label="Camera off"><CameraIcon off /></span>}
              </span>
              {moderate && !isSelf && (
                <span class="actions">
                  <button type="button" class="button small" aria-label={`Mute ${p.name}`} disabled={p.audioMuted} onClick={() => meeting.controls.moderate('mute', p.id)}>
                    Mute
                  </button>
                  <button
                    type="button"
                    class="button small danger"
                    aria-label={`Remove ${p.name}`}
                    onClick={() => confirm({
                      title: `Remove ${p.name}?`,
                      text: `${p.name} will be taken out of the meeting.`,
                      confirmLabel: 'Remove',
                      onConfirm: () => meeting.controls.moderate('remove', p.id),
                    })}
                  >
                    Remove
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
