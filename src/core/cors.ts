import type { AccountRecord, Store } from '../store/index.js';
import { invalid } from './errors.js';

export const MAX_CORS_ORIGINS = 20;

/**
 * An exact origin, `scheme://host[:port]`, as a browser sends it in `Origin`: http or https, no
 * path, query, user or trailing slash, the host in lower case and no default port. What is
 * stored is compared byte for byte with the header, so anything else is refused, not rewritten.
 */
export function checkOrigin(field: string, value: string): string {
  const why = 'must be an origin such as https://app.example.com (scheme://host[:port], no path or trailing slash)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, why);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value) throw invalid(field, why);
  return value;
}

/** An account's list: each an exact origin, no duplicates, at most MAX_CORS_ORIGINS. */
export function checkOrigins(field: string, values: readonly string[]): string[] {
  if (values.length > MAX_CORS_ORIGINS) throw invalid(field, `must have at most ${MAX_CORS_ORIGINS} origins`);
  const out = values.map((v, i) => checkOrigin(`${field}[${i}]`, v));
  return [...new Set(out)];
}

const REFRESH_MS = 30_000;

/**
 * Which browser origins may read API answers. The operator's origins (CORS_ORIGINS) may call as
 * any account; an account's own origins (accounts.corsOrigins) read only answers given to that
 * account. A preflight carries no credentials, so it cannot say which account will call: it is
 * answered for an origin the operator or any account allows, and the answer that follows is
 * readable only if that origin belongs to the account it authenticated as (see docs/livebox.md).
 * The union of every account's origins is kept in memory, re-read at most every 30 s and at once
 * after a change made through this process.
 */
export class CorsPolicy {
  private readonly global: ReadonlySet<string>;
  private anyAccount: ReadonlySet<string> = new Set();
  private loadedAt = -Infinity;
  private loading?: Promise<void>;

  constructor(private readonly store: Store, globalOrigins: readonly string[]) {
    this.global = new Set(globalOrigins);
  }

  /** May a preflight from `origin` be answered (the operator's or some account's origin)? */
  async preflight(origin: string): Promise<boolean> {
    if (this.global.has(origin)) return true;
    await this.refreshIfStale();
    return this.anyAccount.has(origin);
  }

  /** May `origin` read an answer given to `account` (or, with none known yet, an error)? */
  allows(origin: string, account: AccountRecord | undefined): boolean {
    if (this.global.has(origin)) return true;
    return account ? account.corsOrigins.includes(origin) : this.anyAccount.has(origin);
  }

  /** Re-reads every account's origins when the last reading is older than 30 s (the sweep calls it too). */
  async refreshIfStale(): Promise<void> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.refresh();
  }

  /** Re-reads every account's origins (at start, after a change, and from time to time). */
  refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const origins = new Set<string>();
        for (const account of await this.store.accounts.list()) for (const o of account.corsOrigins) origins.add(o);
        this.anyAccount = origins;
        this.loadedAt = Date.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
