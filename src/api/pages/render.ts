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

/**
 * How a server-rendered page looks: the meeting room's own built stylesheet (its design tokens,
 * light and dark, and its state-page card), so a link page and the room's page for the same
 * state are one design. Empty when the room is not built: the page is then unstyled, not restyled
 * here (a second copy of the design would drift).
 */
export interface PageLook {
  stylesheets: readonly string[];
}

/** The card a state is shown in: the same markup as the room's StatePage (src/web/ui/StatePage.tsx). */
export function renderLinkPage(page: LinkPage, look: PageLook): string {
  const s = stateSentence(page);
  const who = page.invitee && !page.invitee.cancelled ? `<p class="who">Personal link for ${escapeHtml(page.invitee.name || 'you')}</p>` : '';
  return document(page.title, look, `
<main data-state="${s.state}" class="state-page">
  <div class="card">
    <p class="meeting-title">${escapeHtml(page.title)}</p>
    <h1>${escapeHtml(s.heading)}</h1>
    <p>${escapeHtml(s.detail)}</p>
    ${who}
  </div>
</main>`);
}

export function renderNotFound(look: PageLook): string {
  return document('Link not found', look, `
<main data-state="not_found" class="state-page">
  <div class="card">
    <h1>${escapeHtml(STATE_TEXT.not_found.title)}</h1>
    <p>${escapeHtml(STATE_TEXT.not_found.explanation)}</p>
  </div>
</main>`);
}

function document(title: string, look: PageLook, main: string): string {
  const styles = look.stylesheets.map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · Parley</title>
<link rel="icon" href="data:,">
${styles}
</head>
<body>
<div class="app">${main}
</div>
</body>
</html>`;
}
