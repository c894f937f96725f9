import { time, type Availability } from '../../core/index.js';
import type { RoomState } from '../../protocol/domain.js';
import { CLOSING_TEXT, notStartedExplanation, STATE_TEXT } from '../../protocol/states.js';
import { escapeHtml } from '../http/html.js';

export interface LinkPage {
  title: string;
  availability: Availability;
  live: boolean;
  timeZone: string;
  /** For personal links: who the link is for, and whether it still works. */
  invitee?: { name: string; cancelled: boolean; status: number };
}

/** The sentence that says where the meeting stands (the wording of every closed state: STATE_TEXT). */
export function stateSentence(page: LinkPage): { heading: string; detail: string; state: string } {
  const a = page.availability;
  const closed = (state: RoomState, detail = STATE_TEXT[state].explanation) => ({ state, heading: STATE_TEXT[state].title, detail });
  if (page.invitee?.cancelled) return closed('invitation_cancelled');
  switch (a.state) {
    case 'open':
      return page.live
        ? { state: 'open', heading: 'The meeting is in progress', detail: 'The meeting room opens from this link.' }
        : { state: 'open', heading: 'The meeting is open', detail: 'Nobody has joined yet. The meeting room opens from this link.' };
    case 'not_started':
      return closed('not_started', notStartedExplanation(time.formatStart(a.startsAt, page.timeZone)));
    case 'ended':
      return closed('ended', CLOSING_TEXT[a.reason].message);
    default:
      return closed(a.state);
  }
}

export function renderLinkPage(page: LinkPage): string {
  const s = stateSentence(page);
  const who = page.invitee && !page.invitee.cancelled ? `<p class="who">Personal link for ${escapeHtml(page.invitee.name || 'you')}</p>` : '';
  return document(page.title, `
    <main data-state="${s.state}">
      <p class="meeting">${escapeHtml(page.title)}</p>
      <h1>${escapeHtml(s.heading)}</h1>
      <p>${escapeHtml(s.detail)}</p>
      ${who}
    </main>`);
}

export function renderNotFound(): string {
  return document('Link not found', `
    <main data-state="not_found">
      <h1>${escapeHtml(STATE_TEXT.not_found.title)}</h1>
      <p>${escapeHtml(STATE_TEXT.not_found.explanation)}</p>
    </main>`);
}

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Parley</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f5f7; color: #1d2330; }
  main { max-width: 32rem; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 2px 12px rgb(0 0 0 / 8%); }
  .meeting { color: #5b6475; margin: 0 0 .25rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
</style>
</head>
<body>${body}
</body>
</html>`;
}
