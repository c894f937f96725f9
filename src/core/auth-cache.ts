import type { Store } from '../store/index.js';

/**
 * Remembers successful authentications for a while: checking credentials costs two indexed
 * queries, which would otherwise dominate the cheapest API calls. Entries are keyed by the
 * secret's hash (a wrong secret never hits), are all forgotten on any credential change made
 * here, and on any write by another process (the CLI) or, where the database cannot tell
 * (PostgreSQL, several nodes), after a short time.
 */
export class AuthCache<T> {
  private readonly entries = new Map<string, { value: T; at: number }>();
  private seenVersion: number | undefined;
  private readonly ttlMs: number;

  constructor(private readonly store: Pick<Store, 'writesElsewhere'>, private readonly max = 10_000) {
    this.ttlMs = store.writesElsewhere() === undefined ? 5_000 : 60_000;
    this.seenVersion = store.writesElsewhere();
  }

  get(key: string): T | undefined {
    const version = this.store.writesElsewhere();
    if (version !== this.seenVersion) {
      this.seenVersion = version;
      this.entries.clear();
      return undefined;
    }
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, at: Date.now() });
  }

  clear(): void {
    this.entries.clear();
  }
}
