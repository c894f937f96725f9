import { INVITATION_PATH, type InvitationRequest, type InvitationResponse, type RoomState } from '../protocol/messages.ts';
import { postJson, readRefusal } from './join.ts';
import { sentence } from './notices.ts';
import { tabStorage } from './util.ts';

/** What became of an answer to an invitation. */
export type InvitationOutcome =
  | { saved: 'invited' | 'declined' }
  /** Not saved. With `state`: the invitation was cancelled or the meeting is over (that page says so). */
  | { error: string; state?: RoomState };

/** A personal link's holder accepts or declines before joining (and may change their mind). */
export async function answerInvitation(token: string, answer: 'accept' | 'decline'): Promise<InvitationOutcome> {
  const request: InvitationRequest = { token, answer };
  try {
    const response = await postJson(INVITATION_PATH, request);
    if (!response.ok) {
      const refusal = await readRefusal(response);
      const reason = sentence(refusal?.message ?? '');
      const state = refusal?.state !== 'not_started' ? refusal?.state : undefined;
      return { error: `Your answer was not saved. ${reason || 'Try again.'}`, ...(state ? { state } : {}) };
    }
    const result = (await response.json().catch(() => undefined)) as InvitationResponse | undefined;
    const saved = result?.invitation === 'declined' || result?.invitation === 'invited' ? result.invitation : answer === 'decline' ? 'declined' : 'invited';
    tabStorage.set(acceptedKey(token), saved === 'invited' ? '1' : '0');
    return { saved };
  } catch {
    return { error: 'Your answer was not saved: the server could not be reached. Try again.' };
  }
}

/** "You accepted" survives the countdown's reload (the server's 'invited' is also "accepted"). */
export function acceptedHere(token: string): boolean {
  return tabStorage.get(acceptedKey(token)) === '1';
}

const acceptedKey = (token: string) => `parley.accepted.${token}`;
