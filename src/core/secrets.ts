import { createHmac, hash, randomFillSync, timingSafeEqual } from 'node:crypto';

// Crockford's base32: no I, L, O, U, so codes read aloud or typed by hand survive.
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Random bytes come from the kernel's CSPRNG in 4 KiB batches: one getrandom() per small draw
// cost ~9 µs on our VMs, more than the rest of a meeting creation's JavaScript (Node's
// randomUUID pools the same way). Bytes are handed out once and never reused.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomBytes(n: number): Buffer {
  if (n > pool.length) return randomFillSync(Buffer.alloc(n));
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + n)); // a copy: the pool is refilled later
  poolOffset += n;
  return out;
}

function encode(bytes: Uint8Array, alphabet: string, length: number): string {
  // Rejection-free mapping: each output char uses one byte, masked to the alphabet size when
  // it is a power of two; base62 uses a modulo on 16-bit words, whose bias is below 0.1%.
  let out = '';
  if (alphabet.length === 32) {
    for (let i = 0; i < length; i++) out += alphabet[bytes[i] & 31];
    return out;
  }
  for (let i = 0; i < length; i++) out += alphabet[((bytes[2 * i] << 8) | bytes[2 * i + 1]) % alphabet.length];
  return out;
}

/** `length` base32 chars = 5·length random bits. */
export function randomBase32(length: number): string {
  return encode(randomBytes(length), BASE32, length);
}

/** `length` base62 chars ≈ 5.95·length random bits. */
export function randomBase62(length: number): string {
  return encode(randomBytes(length * 2), BASE62, length);
}

/** A secret handed to a client: 32 base62 chars ≈ 190 bits, with a readable prefix. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBase62(32)}`;
}

const ONE_BYTE = /^[\x00-\x7f]*$/;

export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex'); // one-shot: no Hash object per request
}

/**
 * Constant-time comparison of two strings (hashes, usernames); unequal lengths are unequal.
 * Strings of one-byte characters (hex digests: every credential check) are compared in place,
 * without allocating buffers; anything else as UTF-8 bytes.
 */
export function safeEqual(a: string, b: string): boolean {
  if (ONE_BYTE.test(a) && ONE_BYTE.test(b)) {
    let diff = a.length ^ b.length;
    // Walk the expected length whatever the input's, so timing does not tell how much matched.
    for (let i = 0; i < b.length; i++) diff |= (a.charCodeAt(i) | 0) ^ b.charCodeAt(i);
    return diff === 0;
  }
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) {
    timingSafeEqual(ba, ba); // spend comparable time either way
    return false;
  }
  return timingSafeEqual(ba, bb);
}

/**
 * Personal link tokens are derived, not stored: HMAC(server secret, participant id, version)
 * gives the same token every time the API is asked for the link, while the database holds
 * only its SHA-256 (a leaked database reveals no working link). 26 base32 chars = 130 bits.
 */
export function deriveToken(serverSecret: Buffer, purpose: string, id: string, version: number): string {
  const mac = createHmac('sha256', serverSecret).update(`${purpose}:${id}:${version}`).digest();
  return encode(mac, BASE32, 26);
}

/** Time-ordered ids (ULID layout: 48-bit ms time + 80 random bits) so cursors can page by id. */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = BASE32[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${randomBase32(16)}`.toLowerCase();
}
