import { describe, expect, it } from 'vitest';
import { TurnCredentials, turnCredential } from '../../src/core/turn.js';

// Vectors computed apart from this code, with OpenSSL:
//   printf '%s' '1767225600:participant-1' | openssl dgst -sha1 -hmac 'coturn-shared-secret-0123456789abcdef' -binary | base64
const SECRET = 'coturn-shared-secret-0123456789abcdef';
const NEW_YEAR = new Date('2026-01-01T00:00:00Z'); // 1767225600

describe('coturn shared-secret credentials', () => {
  it('username is <expiry unix seconds>:<id>, password base64(HMAC-SHA1(secret, username))', () => {
    expect(turnCredential(SECRET, 'participant-1', NEW_YEAR)).toEqual({
      username: '1767225600:participant-1',
      credential: 'm/hkd2ngbDNqKshht8ioS3oOiUE=',
    });
  });

  it('expires TTL after the injected clock, per participant, and never carries the secret', () => {
    const now = new Date(NEW_YEAR.getTime() - 1500); // a fraction of a second rounds down
    const turn = new TurnCredentials({ urls: ['turn:relay.example:3478', 'turns:relay.example:443'], secret: SECRET, ttlSeconds: 3600 }, () => now);
    const [mine] = turn.forParticipant('participant-1');
    expect(mine).toEqual({
      urls: ['turn:relay.example:3478', 'turns:relay.example:443'],
      username: '1767229198:participant-1',
      credential: turnCredential(SECRET, 'participant-1', new Date('2026-01-01T00:59:58Z')).credential,
    });
    const [theirs] = turn.forParticipant('participant-2');
    expect(theirs!.username).toBe('1767229198:participant-2');
    expect(theirs!.credential).not.toBe(mine!.credential);
    expect(JSON.stringify([mine, theirs])).not.toContain(SECRET);
    expect(turn.refreshMs).toBe(1800_000);
  });

  it('an hour later, the same person gets the vector one hour on', () => {
    const turn = new TurnCredentials({ urls: ['turn:relay.example'], secret: SECRET, ttlSeconds: 3600 }, () => NEW_YEAR);
    expect(turn.forParticipant('participant-1')[0]).toMatchObject({ username: '1767229200:participant-1', credential: 'hPOEn4RxN3GWsfGg5QhmrClzTk4=' });
  });

  it('without a relay configured, nobody gets TURN entries', () => {
    const turn = new TurnCredentials(undefined);
    expect(turn.forParticipant('p')).toEqual([]);
    expect(turn.refreshMs).toBeUndefined();
  });
});
