// Times this worker thread could not run for a while: a long task, a garbage collection, or no
// free core. Packets wait in the sockets meanwhile and are timed when they are read, which a
// publisher's congestion control takes for a queue on its link: measured 2026-12-06, a 1 s stop
// always took a Chromium publisher's estimate from 3.3 to 0.7 Mbit/s, and stops of 300–500 ms
// did so about one time in three (src/media/README.md, "Not done / known limits").

/**
 * How often the thread checks in; a gap of `STALL_MS` between two turns is a stall (so a stop of
 * STALL_MS − TICK_MS may count, and every longer one does). Each check wakes the thread: at a
 * 10 ms tick that was 1.6% of a core on this VM with nothing else to do, at 50 ms 0.3%.
 */
const TICK_MS = 50;
export const STALL_MS = 250;

export class LoopStalls {
  /** stalls so far, and the time they lasted (s) */
  count = 0;
  seconds = 0;
  private last: number;
  private readonly timer: NodeJS.Timeout | undefined;

  /** `tick`: false when the caller calls `check()` itself (tests, with their own clock). */
  constructor(private readonly now: () => number = () => performance.now(), tick = true) {
    this.last = now();
    if (tick) {
      this.timer = setInterval(() => this.check(), TICK_MS);
      this.timer.unref();
    }
  }

  /** One turn of the thread: counts the gap since the previous one if it is a stall. */
  check(): void {
    const now = this.now();
    const gap = now - this.last;
    this.last = now;
    if (gap < STALL_MS) return;
    this.count++;
    this.seconds += gap / 1000;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
