import type { Store } from '../store/index.js';
import { UniqueViolation } from '../store/index.js';
import { CoreError, invalid } from './errors.js';
import { LIMITS } from './limits.js';
import { sha256Hex } from './secrets.js';

export interface StoredResponse {
  statusCode: number;
  body: string;
}

const IN_PROGRESS = 0;
const KEEP_MS = 24 * 3600_000;

/**
 * Idempotency keys on creation: the first request with a key runs and its response is kept
 * for 24 h; a retry with the same key and the same request gets that response again; the same
 * key with a different request is refused.
 */
export class IdempotencyService {
  constructor(private readonly store: Store) {}

  async run(accountId: string, key: string, request: string, produce: () => Promise<StoredResponse>): Promise<StoredResponse & { replayed: boolean }> {
    if (key.length === 0 || key.length > LIMITS.idempotencyKey || /[^\x21-\x7e]/.test(key)) {
      throw invalid('Idempotency-Key', `must be 1 to ${LIMITS.idempotencyKey} visible ASCII characters`);
    }
    const fingerprint = sha256Hex(request);
    try {
      // Reserve the key first, so a concurrent retry cannot run the creation a second time.
      await this.store.idempotency.insert({ accountId, key, fingerprint, statusCode: IN_PROGRESS, body: '', createdAt: new Date() });
    } catch (error) {
      if (!(error instanceof UniqueViolation)) throw error;
      const existing = await this.store.idempotency.find(accountId, key);
      if (!existing) throw error;
      if (existing.fingerprint !== fingerprint) {
        throw new CoreError('conflict', 'this Idempotency-Key was already used with a different request', { field: 'Idempotency-Key' });
      }
      if (existing.statusCode === IN_PROGRESS) throw new CoreError('conflict', 'a request with this Idempotency-Key is still being processed');
      return { statusCode: existing.statusCode, body: existing.body, replayed: true };
    }
    try {
      const response = await produce();
      await this.store.transaction(async (tx) => {
        await tx.idempotency.delete(accountId, key);
        await tx.idempotency.insert({ accountId, key, fingerprint, ...response, createdAt: new Date() });
      });
      return { ...response, replayed: false };
    } catch (error) {
      // A failed request may be retried with the same key.
      await this.store.idempotency.delete(accountId, key);
      throw error;
    }
  }

  purgeExpired(now = new Date()): Promise<void> {
    return this.store.idempotency.deleteOlderThan(new Date(now.getTime() - KEEP_MS));
  }
}
