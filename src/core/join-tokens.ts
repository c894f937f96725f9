import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PresetPermissions, Store } from '../store/index.js';
import type { Admission, LinkRef } from './access.js';
import { CoreError } from './errors.js';
import { randomBase62 } from './secrets.js';

/**
 * What a join token carries: enough for any node that shares the server secret and the store to
 * seat the person without asking the node that issued it.
 */
export interface JoinGrant {
  /** Unique per token: the store records its one use. */
  id: string;
  meetingId: string;
  accountId: string;
  participantId: string;
  /** The link the page was opened from: re-checked when the socket opens. */
  link: LinkRef;
  permissions: PresetPermissions;
  /** The meeting had a lobby for this person when the token was issued. */
  lobby: boolean;
  /** They held a seat before this server restarted: they come back to it past any lobby. */
  admitted: boolean;
  /** Before this instant the token does not open a socket (a page counting down gets it early). */
  notBefore: Date;
  expiresAt: Date;
}

/** How early a token may be presented before its notBefore (clocks of browser and server differ). */
export const JOIN_CLOCK_SKEW_MS = 1000;

const UNUSABLE = 'This join token is unknown or expired; open the link again.';

interface Payload {
  v: 1;
  id: string;
  m: string;
  a: string;
  p: string;
  l: LinkRef;
  perm: PresetPermissions;
  lobby: boolean;
  adm?: true;
  nbf: number;
  exp: number;
}

/**
 * Signed, self-contained join tokens: `base64url(payload).base64url(HMAC-SHA256)`, keyed by a key
 * derived from the server secret (every node has the same one). Single use is enforced through
 * the store, so a token works once whichever node it reaches.
 */
export class JoinTokens {
  private readonly key: Buffer;

  constructor(private readonly store: Store, secret: Buffer, private readonly ttlMs: number) {
    this.key = createHmac('sha256', secret).update('parley join token v1').digest();
  }

  issue(link: LinkRef, admission: Admission, now = new Date()): { token: string; grant: JoinGrant } {
    const { meeting, participant, permissions, lobby, notBefore } = admission;
    return this.sign({ meetingId: meeting.id, accountId: meeting.accountId, participantId: participant.id, link, permissions, lobby, admitted: false }, notBefore, now, this.ttlMs);
  }

  /**
   * A token for someone who holds a seat (or waits in a lobby) now, to take it again after this
   * server restarts: good from now for `ttlMs`.
   */
  reissue(seat: Omit<JoinGrant, 'id' | 'notBefore' | 'expiresAt'>, ttlMs: number, now = new Date()): string {
    return this.sign(seat, now, now, ttlMs).token;
  }

  /**
   * The grant of a token presented to open a socket, recording its use: throws `not_found` for a
   * token that is forged, malformed, expired or used before.
   */
  async redeem(token: string, now = new Date()): Promise<JoinGrant> {
    const grant = this.verify(token, now);
    if (!(await this.store.joinTokenUses.use(grant.id, grant.expiresAt))) throw new CoreError('not_found', UNUSABLE);
    return grant;
  }

  /** Forgets the uses of tokens that have expired anyway (the schedule sweep). */
  purgeExpired(now = new Date()): Promise<void> {
    return this.store.joinTokenUses.deleteExpired(now);
  }

  private verify(token: string, now: Date): JoinGrant {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 4096) throw new CoreError('not_found', UNUSABLE);
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new CoreError('not_found', UNUSABLE);
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload; // signed by us: well-formed
    if (payload.v !== 1 || payload.exp < now.getTime()) throw new CoreError('not_found', UNUSABLE);
    return toGrant(payload);
  }

  private sign(seat: Omit<JoinGrant, 'id' | 'notBefore' | 'expiresAt'>, notBefore: Date, now: Date, ttlMs: number): { token: string; grant: JoinGrant } {
    const expiresAt = new Date(Math.max(now.getTime(), notBefore.getTime()) + ttlMs);
    const payload: Payload = {
      v: 1, id: randomBase62(22), m: seat.meetingId, a: seat.accountId, p: seat.participantId,
      l: seat.link, perm: seat.permissions, lobby: seat.lobby, ...(seat.admitted ? { adm: true } : {}), nbf: notBefore.getTime(), exp: expiresAt.getTime(),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { token: `${body}.${this.mac(body)}`, grant: toGrant(payload) };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

function toGrant(p: Payload): JoinGrant {
  return {
    id: p.id, meetingId: p.m, accountId: p.a, participantId: p.p, link: p.l, permissions: p.perm, lobby: p.lobby, admitted: p.adm === true,
    notBefore: new Date(p.nbf), expiresAt: new Date(p.exp),
  };
}
