import { hash } from '@node-rs/argon2';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CoreError } from '../../src/core/errors.js';
import { UserService } from '../../src/core/users.js';
import type { AccountRecord, Store, UserRecord } from '../../src/store/index.js';

// argon2's verify, counted: a login must cost the same whether or not the username exists.
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof import('@node-rs/argon2')>();
  return { ...real, verify: vi.fn(real.verify) };
});
const { verify } = vi.mocked(await import('@node-rs/argon2'));

const account = { id: 'acc_1' } as AccountRecord;
const now = new Date();
const user = (username: string, passwordHash: string | null): UserRecord => ({
  id: `usr_${username}`, accountId: account.id, username, displayName: username, email: '', passwordHash, apiKeyHash: null,
  apiPermission: false, signupMeetingId: null, signupPreset: null, createdAt: now, updatedAt: now,
});

describe('signing in with a password', () => {
  let users: UserService;
  beforeEach(async () => {
    const known = [user('rita', await hash('rita password')), user('nopass', null)];
    const store = { users: { findByUsername: async (_a: string, name: string) => known.find((u) => u.username === name) } } as unknown as Store;
    users = new UserService(store);
    verify.mockClear();
  });

  it('a right password lets in; a wrong one is refused after one argon2 check', async () => {
    expect((await users.verifyPassword(account, 'rita', 'rita password')).username).toBe('rita');
    await expect(users.verifyPassword(account, 'rita', 'wrong')).rejects.toThrow('wrong username or password');
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('an unknown username, or a user without a password, costs an argon2 check too and says the same', async () => {
    for (const name of ['nobody', 'nopass']) {
      verify.mockClear();
      const error = await users.verifyPassword(account, name, 'whatever').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CoreError);
      expect((error as CoreError).code).toBe('unauthenticated');
      expect((error as CoreError).message).toBe('wrong username or password');
      expect(verify).toHaveBeenCalledTimes(1);
    }
  });
});
