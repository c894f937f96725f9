import type { RoomBootstrap } from '../signaling/messages.ts';

/**
 * Reads the RoomBootstrap the server put into the page (script#parley-bootstrap). Returns
 * undefined when it is missing or unreadable (e.g. the template was opened directly).
 */
export function readBootstrap(doc: Document = document): RoomBootstrap | undefined {
  const text = doc.getElementById('parley-bootstrap')?.textContent;
  if (!text) return undefined;
  try {
    const data = JSON.parse(text) as Partial<RoomBootstrap> | null;
    if (!data || typeof data !== 'object' || !data.link || !data.meeting) return undefined;
    return {
      link: data.link,
      meeting: { title: String(data.meeting.title ?? '') },
      person: data.person,
      needsName: Boolean(data.needsName),
      embedded: Boolean(data.embedded),
    };
  } catch {
    return undefined;
  }
}
