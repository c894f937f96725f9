import { createHmac } from 'node:crypto';

/** The TURN relay Parley hands out credentials for (TURN_URLS, TURN_SECRET, TURN_TTL_SECONDS). */
export interface TurnSettings {
  /** turn: and turns: URLs of one coturn (or several sharing the secret). */
  urls: string[];
  /** coturn's `static-auth-secret`: never leaves the server. */
  secret: string;
  /** How long a minted credential lets its holder open new allocations. */
  ttlSeconds: number;
}

/** One participant's TURN server entry, in the browser's RTCIceServer shape. */
export interface TurnServer {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * coturn's shared-secret scheme (`use-auth-secret`, the "TURN REST API"): the username is
 * `<expiry unix seconds>:<id>`, the password base64(HMAC-SHA1(secret, username)). coturn checks
 * both with the same secret and refuses a username whose expiry has passed.
 */
export function turnCredential(secret: string, id: string, expiresAt: Date): { username: string; credential: string } {
  const username = `${Math.floor(expiresAt.getTime() / 1000)}:${id}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/**
 * Mints short-lived TURN credentials per participant, fresh at every welcome, so the static
 * secret is never sent to a browser and a leaked credential stops working by itself.
 */
export class TurnCredentials {
  constructor(
    private readonly settings: TurnSettings | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  get configured(): boolean {
    return this.settings !== undefined;
  }

  /** The entries for one participant's transports; none when no TURN relay is configured. */
  forParticipant(participantId: string): TurnServer[] {
    if (!this.settings) return [];
    const expiresAt = new Date(this.clock().getTime() + this.settings.ttlSeconds * 1000);
    return [{ urls: [...this.settings.urls], ...turnCredential(this.settings.secret, participantId, expiresAt) }];
  }

  /**
   * When a seated page should get fresh credentials: at half their lifetime, so that new
   * allocations (an ICE restart, rebuilt transports) never present expired ones. coturn keeps an
   * allocation made with a credential after it expires; only new ones need a fresh one.
   */
  get refreshMs(): number | undefined {
    return this.settings ? (this.settings.ttlSeconds * 1000) / 2 : undefined;
  }
}
