import type { Store } from '../store/index.js';
import { CoreError } from './errors.js';
import { newSecret, safeEqual, sha256Hex } from './secrets.js';

const ADMIN_TOKEN_KEY = 'admin.token_hash';

/** The operator's credential for the admin API (accounts, service). One per server. */
export class AdminService {
  constructor(private readonly store: Store) {}

  /** Creates the admin token if none exists; returns it (once) when it did. */
  async ensureToken(): Promise<string | undefined> {
    if (await this.store.settings.get(ADMIN_TOKEN_KEY)) return undefined;
    return this.rotateToken();
  }

  async rotateToken(): Promise<string> {
    const token = newSecret('adm_');
    await this.store.settings.set(ADMIN_TOKEN_KEY, sha256Hex(token));
    return token;
  }

  async authenticate(token: string): Promise<void> {
    const stored = await this.store.settings.get(ADMIN_TOKEN_KEY);
    if (!stored || !token || !safeEqual(sha256Hex(token), stored)) {
      throw new CoreError('unauthenticated', 'missing or wrong admin token');
    }
  }

  /** Is `tokenHash` the hash of the admin token in force now (not rotated since)? */
  async isCurrentHash(tokenHash: string): Promise<boolean> {
    const stored = await this.store.settings.get(ADMIN_TOKEN_KEY);
    return !!stored && safeEqual(tokenHash, stored);
  }
}
