import type { AppState } from './state.ts';
import type { Store } from './store.ts';

const TOAST_MS = 6_000;

/** What the page tells the person besides its screens: toasts, and the screen readers' live region. */
export class Notices {
  private toastId = 0;

  constructor(private readonly store: Store<AppState>) {}

  toast(text: string): void {
    const id = ++this.toastId;
    this.store.set((s) => ({ toasts: [...s.toasts, { id, text }].slice(-3) }));
    setTimeout(() => this.dismiss(id), TOAST_MS);
  }

  dismiss(id: number): void {
    this.store.set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
  }

  announce(text: string): void {
    // A live region only speaks changes: make a repeated sentence differ.
    const same = this.store.get().announcement.trimEnd() === text;
    this.store.set({ announcement: same ? `${text}\u00a0` : text });
  }
}

/** A server's reason as a sentence: capitalised, ending with a full stop. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return '';
  return t[0]!.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}
