import { randomBytes } from 'node:crypto';
import { AttemptLimiter } from './attempts.js';
import type { AdminService } from './admin.js';
import { CoreError } from './errors.js';
import { safeEqual, sha256Hex } from './secrets.js';

/** How long a console session lasts from the login (absolute: no sliding renewal). */
export const ADMIN_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Wrong admin tokens per address, and in all, per LOGIN_WINDOW_MS. */
const LOGIN_LIMIT_PER_ADDRESS = 10;
const LOGIN_LIMIT_IN_ALL = 50;
const LOGIN_WINDOW_MS = 15 * 60 * 1000;
const MAX_SESSIONS = 1000;

export interface AdminSession {
  /** The cookie's value: 256 random bits, shown to the browser only (kept here as its SHA-256). */
  id: string;
  /** Sent back in a header with every change (session-bound CSRF token, 256 random bits). */
  csrfToken: string;
  expiresAt: Date;
}

interface Held {
  csrfToken: string;
  expiresAt: number;
  /** The admin token's hash at login: rotating the token ends every session. */
  adminTokenHash: string;
}

const unauthenticated = () => new CoreError('unauthenticated', 'not signed in to the console, or the session ended; sign in with the admin token');

/**
 * Console sessions: the operator proves the admin token once and gets a session id (a cookie)
 * and a CSRF token. Sessions are held in this process's memory, keyed by the id's SHA-256:
 * a restart signs the operator out, and no cookie that this process did not hand out (and that
 * has not expired, been signed out, or outlived the admin token it was opened with) opens one.
 */
export class AdminSessions {
  private readonly sessions = new Map<string, Held>();
  private readonly attempts = new AttemptLimiter(LOGIN_WINDOW_MS, 'too many wrong admin tokens');

  constructor(private readonly admin: AdminService, private readonly ttlMs = ADMIN_SESSION_TTL_MS) {}

  /** Exchanges the admin token for a session. Wrong tokens are limited per address and in all. */
  async open(token: string, from: string, now = Date.now()): Promise<AdminSession> {
    const attempt = this.attempts.take([{ key: `ip:${from}`, max: LOGIN_LIMIT_PER_ADDRESS }, { key: 'all', max: LOGIN_LIMIT_IN_ALL }], now);
    await this.admin.authenticate(token); // throws unauthenticated: the attempt stays counted
    attempt.takeBack();
    this.prune(now);
    if (this.sessions.size >= MAX_SESSIONS) throw new CoreError('rate_limited', 'too many console sessions are open; sign out elsewhere or wait for them to expire');
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.sessions.set(sha256Hex(id), { csrfToken, expiresAt, adminTokenHash: sha256Hex(token) });
    return { id, csrfToken, expiresAt: new Date(expiresAt) };
  }

  /** The session a cookie names, if it is still open. Throws `unauthenticated` otherwise. */
  async check(id: string, now = Date.now()): Promise<AdminSession> {
    const key = id ? sha256Hex(id) : '';
    const held = this.sessions.get(key);
    if (!held) throw unauthenticated();
    if (held.expiresAt <= now || !(await this.admin.isCurrentHash(held.adminTokenHash))) {
      this.sessions.delete(key);
      throw unauthenticated();
    }
    return { id, csrfToken: held.csrfToken, expiresAt: new Date(held.expiresAt) };
  }

  /** A change made through the session must carry its CSRF token (compared in constant time). */
  assertCsrf(session: AdminSession, sent: string | undefined): void {
    if (!sent || !safeEqual(sent, session.csrfToken)) {
      throw new CoreError('forbidden', 'a change from the console needs the session’s CSRF token in the X-CSRF-Token header');
    }
  }

  close(id: string): void {
    if (id) this.sessions.delete(sha256Hex(id));
  }

  private prune(now: number): void {
    for (const [key, held] of this.sessions) if (held.expiresAt <= now) this.sessions.delete(key);
  }
}
