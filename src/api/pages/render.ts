import { time, type Availability } from '../../core/index.js';
import { escapeHtml } from '../http/html.js';

export interface LinkPage {
  title: string;
  availability: Availability;
  live: boolean;
  timeZone: string;
  /** For personal links: who the link is for, and whether it still works. */
  invitee?: { name: string; cancelled: boolean; status: number };
}

/** The sentence that says where the meeting stands. */
export function stateSentence(page: LinkPage): { heading: string; detail: string; state: string } {
  const a = page.availability;
  if (page.invitee?.cancelled) return { state: 'invitation_cancelled', heading: 'Your invitation was cancelled', detail: 'This personal link no longer opens the meeting. Ask the organiser for a new one.' };
  switch (a.state) {
    case 'open':
      return page.live
        ? { state: 'open', heading: 'The meeting is in progress', detail: 'The meeting room opens from this link.' }
        : { state: 'open', heading: 'The meeting is open', detail: 'Nobody has joined yet. The meeting room opens from this link.' };
    case 'not_started':
      return { state: 'not_started', heading: 'The meeting has not started yet', detail: `It is scheduled for ${time.formatStart(a.startsAt, page.timeZone)}.` };
    case 'ended':
      return { state: 'ended', heading: 'The meeting has ended', detail: a.reason === 'scheduled_end' || a.reason === 'window_passed' ? 'Its scheduled time is over.' : 'The host ended it for everyone.' };
    case 'cancelled':
      return { state: 'cancelled', heading: 'The meeting was cancelled', detail: 'The organiser cancelled this meeting.' };
    case 'disabled':
      return { state: 'disabled', heading: 'The meeting is disabled', detail: 'The organiser has not enabled this meeting. Try again later.' };
    case 'service_stopped':
      return { state: 'service_stopped', heading: 'The video service is stopped', detail: 'Meetings cannot be joined until the service is started again.' };
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
      <h1>This link does not lead to a meeting</h1>
      <p>Check the address, or ask the organiser for a new link.</p>
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
