import type { RoomBootstrap, StartTime } from '../protocol/messages.ts';
import { readBootstrap } from './bootstrap.ts';
import type { AppState } from './state.ts';
import type { Store } from './store.ts';
import type { Timers } from './timers.ts';

/** The countdown reloads up to this long after the start, so a crowd does not arrive at once. */
const START_JITTER_MS = 2_000;
/** The server still said "not started" at the start (clocks differ): ask again this often, growing. */
const START_RECHECK_MS = [2_000, 3_000, 5_000, 10_000, 15_000];
/** A setTimeout cannot wait longer than ~24.8 days; long countdowns wake up daily to re-aim. */
const MAX_TIMER_MS = 86_400_000;

/**
 * Before the start: at the start (plus up to 2 s, so not everyone comes at once) ask the server
 * whether the room is open, and reload into it.
 */
export class Countdown {
  constructor(private readonly store: Store<AppState>, private readonly timers: Timers) {}

  /**
   * Counts down to `start` (as the server said it when refusing an early join; it may have been
   * rescheduled since the page loaded), else to the page's start time. False: no start time.
   */
  begin(start?: StartTime): boolean {
    const { bootstrap } = this.store.get();
    const told = typeof start?.startsAt === 'string' && !Number.isNaN(Date.parse(start.startsAt)) ? start.startsAt : undefined;
    const startsAt = told ?? bootstrap.meeting.startsAt;
    if (!startsAt) return false;
    // Shown in both time zones, then the room opens by itself.
    const text = told ? (typeof start?.startsAtText === 'string' ? start.startsAtText : undefined) : bootstrap.meeting.startsAtText;
    const meeting = { title: bootstrap.meeting.title, startsAt, ...(text ? { startsAtText: text } : {}) };
    this.store.set({ phase: 'countdown', bootstrap: { ...bootstrap, meeting }, pageMessage: undefined, opensAt: undefined, waiting: [] });
    // Still ahead: aim at it. Else our wait for an early token fell short (clocks differ): ask again soon.
    this.aim(Date.parse(startsAt) > Date.now() ? -1 : 0);
    return true;
  }

  /**
   * `attempt` counts checks that found the room still closed (our clock runs ahead of the
   * server's): those ask again a little later each time. -1: aim at the start.
   */
  aim(attempt: number): void {
    const startsAt = Date.parse(this.store.get().bootstrap.meeting.startsAt ?? '');
    if (Number.isNaN(startsAt)) return;
    const delay = attempt < 0
      ? Math.max(0, startsAt - Date.now()) + Math.random() * START_JITTER_MS
      : START_RECHECK_MS[Math.min(attempt, START_RECHECK_MS.length - 1)]!;
    if (delay > MAX_TIMER_MS) return this.timers.set('countdown', MAX_TIMER_MS, () => this.aim(-1));
    this.timers.set('countdown', delay, () => void this.check(Math.max(0, attempt)));
  }

  private counting(): boolean {
    return this.store.get().phase === 'countdown';
  }

  private async check(attempt: number): Promise<void> {
    if (!this.counting()) return;
    let next: RoomBootstrap | undefined;
    try {
      const response = await fetch(location.href, { cache: 'no-store', credentials: 'same-origin' });
      next = readBootstrap(new DOMParser().parseFromString(await response.text(), 'text/html'));
    } catch {
      // Offline for a moment: ask again shortly rather than reloading into an error page.
      return this.aim(attempt + 1);
    }
    if (!this.counting()) return;
    if (next?.state === 'not_started' && next.meeting.startsAt) {
      const { bootstrap } = this.store.get();
      const moved = next.meeting.startsAt !== bootstrap.meeting.startsAt;
      if (moved) this.store.set({ bootstrap: { ...bootstrap, meeting: { ...bootstrap.meeting, startsAt: next.meeting.startsAt, startsAtText: next.meeting.startsAtText } } });
      // Rescheduled: count to the new time. Else the clocks differ: keep counting, ask again soon.
      return this.aim(moved && Date.parse(next.meeting.startsAt) > Date.now() ? -1 : attempt + 1);
    }
    // Open (or ended, cancelled…: the server's page says so): load the page as it is now.
    location.reload();
  }
}
