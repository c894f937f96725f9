/** Up to two initials of a name, for tiles without video. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]!][0] ?? '';
  const last = words.length > 1 ? [...words[words.length - 1]!][0] ?? '' : '';
  return (first + last).toUpperCase();
}

/** A stable, dark-background-friendly colour for a participant id. */
export function colorFor(id: string): string {
  let hash = 0x811c9dc5; // FNV-1a: ids that differ in one character get unrelated hues
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return `hsl(${(hash >>> 0) % 360} 45% 38%)`;
}

/**
 * Web storage that never throws: it is blocked in some embedded and private contexts (even
 * reading `window.localStorage` can throw), and then nothing is remembered.
 */
function quietStorage(area: () => Storage) {
  return {
    get(key: string): string | undefined {
      try {
        return area().getItem(key) ?? undefined;
      } catch {
        return undefined;
      }
    },
    set(key: string, value: string): void {
      try {
        area().setItem(key, value);
      } catch {
        // Not stored: the page just does not remember it.
      }
    },
  };
}

/** Preferences kept across visits (name, devices). */
export const storage = quietStorage(() => localStorage);

/** Remembered across a reload of this tab only. */
export const tabStorage = quietStorage(() => sessionStorage);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
