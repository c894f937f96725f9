/** Timeouts by name: setting one replaces the one of that name, and teardown clears them all. */
export class Timers {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      fn();
    }, ms));
  }

  clear(name: string): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }

  has(name: string): boolean {
    return this.timers.has(name);
  }

  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
