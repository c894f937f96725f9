import { hash, verify } from '@node-rs/argon2';
import type { AccountRecord, PageQuery, Store, UserRecord } from '../store/index.js';
import { UniqueViolation } from '../store/index.js';
import { CoreError, conflict, invalid, notFound } from './errors.js';
import { email, hasControlCharacters, LIMITS, lookupKey, matching, optionalText, PATTERNS, requiredText } from './limits.js';
import { newId, newSecret, sha256Hex } from './secrets.js';

export interface UserInput {
  username?: string;
  displayName?: string;
  email?: string;
  password?: string | null;
  apiPermission?: boolean;
  /** false: a visitor who registered on a join page becomes a full user of the account. */
  selfRegistered?: boolean;
}

/** Where a visitor registered themselves (a meeting's sign-up), and the preset they got. */
export interface SignupOrigin {
  meetingId: string;
  presetName: string;
}

// Spent when the username is unknown or has no password, so that the answer takes as long as
// for a real user and does not tell which usernames exist.
const NO_USER = hash('parley-no-user');

function checkPassword(password: string): string {
  if (password.length < LIMITS.passwordMin) throw invalid('password', `must be at least ${LIMITS.passwordMin} characters`);
  if (password.length > LIMITS.passwordMax) throw invalid('password', `must be at most ${LIMITS.passwordMax} characters`);
  return password;
}

/**
 * The account's registered users: they can sign in to meetings that allow username/password,
 * and, once an administrator grants API permission and issues a key, call the Livebox API.
 */
export class UserService {
  constructor(private readonly store: Store) {}

  async create(account: AccountRecord, input: UserInput & { withApiKey?: boolean; signup?: SignupOrigin }): Promise<{ user: UserRecord; apiKey?: string }> {
    const username = matching('username', requiredText('username', input.username, LIMITS.username), PATTERNS.username,
      'letters, digits and . _ @ - (starting with a letter or digit)');
    const now = new Date();
    const apiKey = input.withApiKey ? newSecret('lbk_') : undefined;
    const user: UserRecord = {
      id: newId('usr'),
      accountId: account.id,
      username,
      displayName: optionalText('displayName', input.displayName, LIMITS.personName) || username,
      email: email('email', input.email),
      passwordHash: input.password ? await hash(checkPassword(input.password)) : null,
      apiKeyHash: apiKey ? sha256Hex(apiKey) : null,
      apiPermission: input.apiPermission ?? false,
      signupMeetingId: input.signup?.meetingId ?? null,
      signupPreset: input.signup?.presetName ?? null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.users.insert(user);
    } catch (error) {
      if (error instanceof UniqueViolation) throw conflict(`a user named "${username}" already exists`);
      throw error;
    }
    return { user, apiKey };
  }

  async get(account: AccountRecord, id: string): Promise<UserRecord> {
    const user = await this.store.users.findById(account.id, lookupKey('userId', id));
    if (!user) throw notFound('user');
    return user;
  }

  list(account: AccountRecord, page: PageQuery): Promise<UserRecord[]> {
    return this.store.users.list(account.id, page);
  }

  async update(account: AccountRecord, id: string, input: UserInput): Promise<UserRecord> {
    const user = await this.get(account, id);
    const patch: Partial<UserRecord> = { updatedAt: new Date() };
    if (input.displayName !== undefined) patch.displayName = optionalText('displayName', input.displayName, LIMITS.personName) || user.username;
    if (input.email !== undefined) patch.email = email('email', input.email);
    if (input.password !== undefined) patch.passwordHash = input.password === null ? null : await hash(checkPassword(input.password));
    if (input.apiPermission !== undefined) patch.apiPermission = input.apiPermission;
    if (input.selfRegistered === true && user.signupMeetingId === null) throw invalid('selfRegistered', 'can only be set to false (to promote a self-registered user)');
    if (input.selfRegistered === false) {
      patch.signupMeetingId = null;
      patch.signupPreset = null;
    }
    if (input.username !== undefined && input.username !== user.username) throw invalid('username', 'cannot be changed');
    await this.store.users.update(id, patch);
    return { ...user, ...patch };
  }

  /** Issues a new Livebox API key for the user (the old one stops working). */
  async rotateApiKey(account: AccountRecord, id: string): Promise<string> {
    await this.get(account, id);
    const apiKey = newSecret('lbk_');
    await this.store.users.update(id, { apiKeyHash: sha256Hex(apiKey), updatedAt: new Date() });
    return apiKey;
  }

  async delete(account: AccountRecord, id: string): Promise<void> {
    await this.get(account, id);
    await this.store.users.delete(id);
  }

  /** For meetings that allow username/password sign-in. */
  async verifyPassword(account: AccountRecord, username: string, password: string): Promise<UserRecord> {
    const user = hasControlCharacters(username) ? undefined : await this.store.users.findByUsername(account.id, username);
    const right = await verify(user?.passwordHash ?? await NO_USER, password);
    if (!right || !user?.passwordHash) throw new CoreError('unauthenticated', 'wrong username or password');
    return user;
  }
}
