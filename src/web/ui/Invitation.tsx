import type { Meeting } from '../meeting.ts';
import type { InvitationState } from '../state.ts';

/**
 * Accept or decline a personal invitation before the meeting. Declining can be undone: Accept
 * stays there, and joining works either way.
 */
export function Invitation({ meeting, invitation }: { meeting: Meeting; invitation: InvitationState }) {
  const declined = invitation.answer === 'declined';
  const accepted = invitation.answered && !declined;
  let text = 'Will you take part? Let the organiser know.';
  if (declined) text = 'You declined — you can still accept.';
  else if (accepted) text = 'You accepted.';
  return (
    <section class="invitation" aria-labelledby="invitation-title" aria-busy={invitation.busy}>
      <h2 id="invitation-title" class="sr-only">Your invitation</h2>
      <p class="invitation-status" role="status">{text}</p>
      <div class="invitation-actions">
        <button type="button" class={`button${accepted ? ' chosen' : ''}`} aria-pressed={accepted} onClick={() => void meeting.answerInvitation('accept')}>
          Accept
        </button>
        <button type="button" class={`button${declined ? ' chosen' : ''}`} aria-pressed={declined} onClick={() => void meeting.answerInvitation('decline')}>
          Decline
        </button>
      </div>
      {invitation.error && <p class="error" role="alert">{invitation.error}</p>}
    </section>
  );
}
