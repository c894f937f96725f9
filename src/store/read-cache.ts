import type { Repositories } from './repositories.js';

/**
 * Point lookups of the hot read paths (credentials, meeting by key, link tokens, statuses),
 * answered from memory. Correctness rests on three rules:
 * - every write through this store (transactions included) empties the cache before it runs and
 *   again once it is done, so a lookup that overlapped it does not store what it read (the
 *   generation moved);
 * - inside a transaction lookups bypass the cache (they may see uncommitted rows), and the end
 *   of a transaction, committed or not, empties it;
 * - a write by another process (the CLI, another connection) is seen through SQLite's
 *   data_version, and empties everything.
 * Cached records are frozen: a caller that tries to change one fails loudly instead of
 * changing what the next caller reads.
 */
export class ReadCache {
  private readonly entries = new Map<string, unknown>();
  private generation = 0;
  private seenVersion: number | undefined;

  constructor(private readonly writesElsewhere: () => number | undefined, private readonly max = 20_000) {
    this.seenVersion = writesElsewhere();
  }

  read<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const version = this.writesElsewhere();
    if (version !== this.seenVersion) {
      this.seenVersion = version;
      this.clear();
    } else {
      const hit = this.entries.get(key); // only defined values are stored
      if (hit !== undefined) return Promise.resolve(hit as T); // stored by loadAndStore from load(): a T
    }
    return this.loadAndStore(key, load);
  }

  private async loadAndStore<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && generation === this.generation) {
      if (this.entries.size >= this.max) this.entries.clear();
      this.entries.set(key, deepFreeze(value));
    }
    return value;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Date) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

type Repo = Record<string, (...args: never[]) => Promise<unknown>>;

/** Which lookups are cached: repository → method → cache key namespace. */
const CACHED: Partial<Record<keyof Repositories, string[]>> = {
  accounts: ['findById', 'findBySid'],
  users: ['findByApiKeyHash'],
  apiTokens: ['findByHash'],
  presets: ['findByName'],
  meetings: ['findById', 'findByKey', 'findByCode', 'findByHashKeyHash', 'get'],
  participants: ['findById', 'findByExternalId', 'findByTokenHash'],
};

/** Tables no cached lookup reads: their writes leave the cache alone (an audit entry follows most API changes). */
const UNRELATED: ReadonlySet<keyof Repositories> = new Set(['joinTokenUses', 'webhookEndpoints', 'webhookOutbox', 'audit', 'recordings']);

/** Methods that only read; anything else on a repository is a write. */
const READS = /^(find|get|list|count|externalIdKnown)/;

/**
 * Wraps repositories so the cached lookups go through `cache` and every write empties it.
 * One cache serves all tables: writes are rare next to reads, and a single generation keeps
 * the rules simple (a meeting write also moves participants, presets rename meetings…).
 */
export function withReadCache(repos: Repositories, cache: ReadCache, mode: 'cached' | 'transaction'): Repositories {
  const wrapped: Record<string, Repo> = {};
  for (const [name, repo] of Object.entries(repos) as [keyof Repositories, Repo][]) {
    const cached = new Set(CACHED[name] ?? []);
    const out: Repo = {};
    for (const [method, fn] of Object.entries(repo)) {
      const call = fn as (...args: unknown[]) => Promise<unknown>;
      if (UNRELATED.has(name)) {
        out[method] = fn;
      } else if (cached.has(method) && mode === 'cached') {
        const prefix = `${name}.${method}\u0000`;
        out[method] = ((...args: unknown[]) => cache.read(prefix + args.join('\u0000'), () => call(...args))) as Repo[string];
      } else if (READS.test(method)) {
        out[method] = fn;
      } else {
        out[method] = (async (...args: unknown[]) => {
          cache.clear();
          try {
            return await call(...args);
          } finally {
            cache.clear();
          }
        }) as Repo[string];
      }
    }
    wrapped[name] = out;
  }
  return wrapped as unknown as Repositories; // same methods and signatures, wrapped
}
