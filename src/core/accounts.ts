import type { AccountRecord, ApiTokenRecord, Store, UserRecord } from '../store/index.js';
import { CoreError, invalid, notFound } from './errors.js';
import { hasControlCharacters, lookupKey, requiredText } from './limits.js';
import { checkOrigins, type CorsPolicy } from './cors.js';
import type { PresetService } from './presets.js';
import { newId, newSecret, randomBase32, safeEqual, sha256Hex } from './secrets.js';
import { isValidTimeZone } from './time.js';

/** Every secret of a new account, shown once: the store keeps only their hashes. */
/**
 * LiveMinutes credentials a caller proved, with their account: the adapter keeps one per
 * keep-alive connection, so a backend repeating the same Authorization header costs no SHA-256.
 */
export interface LiveMinutesProof {
  accountSid: string;
  authToken: string;
  account: AccountRecord;
}

export interface AccountCredentials {
  accountId: string;
  accountSid: string;
  authToken: string;
  apiUsername: string;
  apiKey: string;
  serverKey: string;
  nativeAppKey: string;
  apiToken: string;
}

export type RotatableSecret = 'auth-token' | 'server-key' | 'native-app-key' | 'api-key' | 'api-token';

export interface LiveboxCaller {
  account: AccountRecord;
  user: UserRecord;
  /** A native-app key may manage conferences but not the service. */
  client: 'server' | 'native';
}

/** What the operator (admin API, CLI) or the account itself (its origins) may change. */
export interface AccountPatch {
  name?: string;
  timeZone?: string;
  maxMeetings?: number | null;
  maxUsers?: number | null;
  serviceControl?: boolean;
  corsOrigins?: string[];
  rateLimitPerMinute?: number | null;
  /** Recordings are deleted this many days after they were made; null keeps them. */
  recordingRetentionDays?: number | null;
}

export interface AccountDefaults {
  timeZone: string;
  maxMeetings: number;
  maxUsers: number;
}

const unauthenticated = (reason: string) => new CoreError('unauthenticated', reason);

// Compared against when no record matched, so a miss costs the same time as a wrong secret.
const DUMMY_HASH = sha256Hex('parley-no-such-credential');

export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly presets: PresetService,
    private readonly defaults: AccountDefaults,
    private readonly cors: CorsPolicy,
  ) {}

  async create(input: { name: string; timeZone?: string; serviceControl?: boolean }): Promise<{ account: AccountRecord; credentials: AccountCredentials }> {
    const name = requiredText('name', input.name, 100);
    const timeZone = input.timeZone ?? this.defaults.timeZone;
    if (!isValidTimeZone(timeZone)) throw invalid('timeZone', 'must be an IANA time zone name such as Europe/Paris');
    const now = new Date();
    const credentials = {
      accountSid: `AC${randomBase32(26)}`,
      authToken: newSecret(''),
      apiUsername: 'apiuser',
      apiKey: newSecret('lbk_'),
      serverKey: newSecret('lbs_'),
      nativeAppKey: newSecret('lbn_'),
      apiToken: newSecret('pk_'),
    };
    const account: AccountRecord = {
      id: newId('acc'),
      name,
      timeZone,
      accountSid: credentials.accountSid,
      authTokenHash: sha256Hex(credentials.authToken),
      serverKeyHash: sha256Hex(credentials.serverKey),
      nativeAppKeyHash: sha256Hex(credentials.nativeAppKey),
      maxMeetings: null,
      maxUsers: null,
      // Stopping the service ends every account's meetings: only accounts the operator allows.
      serviceControl: input.serviceControl ?? false,
      corsOrigins: [],
      rateLimitPerMinute: null,
      recordingRetentionDays: null,
      createdAt: now,
    };
    await this.store.transaction(async (tx) => {
      await tx.accounts.insert(account);
      await tx.users.insert({
        id: newId('usr'), accountId: account.id, username: credentials.apiUsername, displayName: 'API user', email: '',
        passwordHash: null, apiKeyHash: sha256Hex(credentials.apiKey), apiPermission: true, signupMeetingId: null, signupPreset: null,
        createdAt: now, updatedAt: now,
      });
      await tx.apiTokens.insert({ id: newId('tok'), accountId: account.id, name: 'default', tokenHash: sha256Hex(credentials.apiToken), createdAt: now, revokedAt: null });
      await this.presets.insertDefault(tx, account.id, now);
    });
    return { account, credentials: { accountId: account.id, ...credentials } };
  }

  list(): Promise<AccountRecord[]> {
    return this.store.accounts.list();
  }

  async get(id: string): Promise<AccountRecord> {
    const account = await this.store.accounts.findById(lookupKey('accountId', id));
    if (!account) throw notFound('account');
    return account;
  }

  async update(id: string, input: AccountPatch): Promise<AccountRecord> {
    const account = await this.get(id);
    // A field left out (undefined) is unchanged, not erased from the answer.
    const patch = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as AccountPatch;
    if (patch.name !== undefined) patch.name = requiredText('name', patch.name, 100);
    if (patch.timeZone !== undefined && !isValidTimeZone(patch.timeZone)) throw invalid('timeZone', 'must be an IANA time zone name such as Europe/Paris');
    for (const field of ['maxMeetings', 'maxUsers', 'rateLimitPerMinute'] as const) {
      const v = patch[field];
      if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0)) throw invalid(field, 'must be a whole number, 0 or more');
    }
    const days = patch.recordingRetentionDays;
    if (days !== undefined && days !== null && (!Number.isInteger(days) || days < 1 || days > 36_500)) {
      throw invalid('recordingRetentionDays', 'must be a whole number of days from 1 to 36500, or null to keep recordings');
    }
    if (patch.corsOrigins !== undefined) patch.corsOrigins = checkOrigins('corsOrigins', patch.corsOrigins);
    await this.store.accounts.update(id, patch);
    if (patch.corsOrigins !== undefined) await this.cors.refresh();
    return { ...account, ...patch } as AccountRecord;
  }

  /** Replaces one secret; the old one stops working at once. Returns the new secret (shown once). */
  async rotate(accountId: string, which: RotatableSecret): Promise<string> {
    const account = await this.get(accountId);
    switch (which) {
      case 'auth-token': {
        const secret = newSecret('');
        await this.store.accounts.update(account.id, { authTokenHash: sha256Hex(secret) });
        return secret;
      }
      case 'server-key': {
        const secret = newSecret('lbs_');
        await this.store.accounts.update(account.id, { serverKeyHash: sha256Hex(secret) });
        return secret;
      }
      case 'native-app-key': {
        const secret = newSecret('lbn_');
        await this.store.accounts.update(account.id, { nativeAppKeyHash: sha256Hex(secret) });
        return secret;
      }
      case 'api-key': {
        const user = await this.store.users.findByUsername(account.id, 'apiuser');
        if (!user) throw notFound('API user "apiuser"');
        const secret = newSecret('lbk_');
        await this.store.users.update(user.id, { apiKeyHash: sha256Hex(secret), updatedAt: new Date() });
        return secret;
      }
      case 'api-token': {
        const secret = newSecret('pk_');
        const now = new Date();
        await this.store.transaction(async (tx) => {
          for (const token of await tx.apiTokens.listByAccount(account.id)) {
            if (!token.revokedAt) await tx.apiTokens.revoke(token.id, now);
          }
          await tx.apiTokens.insert({ id: newId('tok'), accountId: account.id, name: 'default', tokenHash: sha256Hex(secret), createdAt: now, revokedAt: null });
        });
        return secret;
      }
    }
  }

  /**
   * The operator grants or withdraws a user's API permission (admin API, CLI), by id or by
   * username. The account's own API token may do the same for its users (native API).
   */
  async setApiPermission(accountId: string, user: { id: string } | { username: string }, apiPermission: boolean): Promise<UserRecord> {
    const account = await this.get(accountId);
    const record = 'id' in user
      ? await this.store.users.findById(account.id, lookupKey('userId', user.id))
      : await this.store.users.findByUsername(account.id, lookupKey('username', user.username));
    if (!record) throw notFound('user');
    const patch = { apiPermission, updatedAt: new Date() };
    await this.store.users.update(record.id, patch);
    return { ...record, ...patch };
  }

  /** LiveMinutes: HTTP Basic AccountSid:AuthToken. */
  async authenticateLiveMinutes(accountSid: string, authToken: string, earlier?: LiveMinutesProof): Promise<AccountRecord> {
    if (earlier && earlier.accountSid === accountSid && safeEqual(authToken, earlier.authToken)) {
      // The credentials proven before, again: no hashing. Re-read, so a rotated AuthToken or a
      // deleted account stops them at once.
      const account = await this.store.accounts.findById(earlier.account.id);
      if (account && account.authTokenHash === earlier.account.authTokenHash) return account;
    }
    // A SID with control characters names no account (and must not reach the database).
    const account = accountSid && !hasControlCharacters(accountSid) ? await this.store.accounts.findBySid(accountSid) : undefined;
    const matches = safeEqual(sha256Hex(authToken), account?.authTokenHash ?? DUMMY_HASH);
    if (!account || !matches) throw unauthenticated('wrong AccountSid or AuthToken');
    return account;
  }

  /** Livebox: an API user's username + key, and the account's server or native-app key. */
  async authenticateLivebox(input: { username?: string; key?: string; serverKey?: string; nativeAppKey?: string }): Promise<LiveboxCaller> {
    if (!input.username || !input.key) throw unauthenticated('username and key are required');
    const user = await this.store.users.findByApiKeyHash(sha256Hex(input.key));
    const nameMatches = safeEqual(input.username ?? '', user?.username ?? '\u0000');
    if (!user || !nameMatches) throw unauthenticated('wrong username or key');
    if (!user.apiPermission) throw new CoreError('forbidden', 'API permission is not enabled for this user; an administrator must enable it');
    const account = await this.store.accounts.findById(user.accountId);
    if (!account) throw unauthenticated('wrong username or key');
    if (input.serverKey !== undefined && input.serverKey !== '') {
      if (!safeEqual(sha256Hex(input.serverKey), account.serverKeyHash)) throw unauthenticated('wrong Serverkey');
      return { account, user, client: 'server' };
    }
    if (input.nativeAppKey !== undefined && input.nativeAppKey !== '') {
      if (!safeEqual(sha256Hex(input.nativeAppKey), account.nativeAppKeyHash)) throw unauthenticated('wrong Nativeappkey');
      return { account, user, client: 'native' };
    }
    throw unauthenticated('Serverkey (server-side apps) or Nativeappkey (native apps) is required');
  }

  /** Native API: Bearer token. */
  async authenticateBearer(token: string): Promise<{ account: AccountRecord; token: ApiTokenRecord }> {
    // The lookup is by hash: a wrong token finds nothing, and timing reveals nothing about right ones.
    const record = token ? await this.store.apiTokens.findByHash(sha256Hex(token)) : undefined;
    if (!record || record.revokedAt) throw unauthenticated('missing, wrong or revoked API token');
    const account = await this.store.accounts.findById(record.accountId);
    if (!account) throw unauthenticated('missing, wrong or revoked API token');
    return { account, token: record };
  }

  quotas(account: AccountRecord): { maxMeetings: number; maxUsers: number } {
    return {
      maxMeetings: account.maxMeetings ?? this.defaults.maxMeetings,
      maxUsers: account.maxUsers ?? this.defaults.maxUsers,
    };
  }
}

