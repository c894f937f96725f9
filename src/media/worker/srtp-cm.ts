// AES-128 counter mode (RFC 3711 §4.1.1) and the HMAC-SHA1 tag (§4.2.1) for werift-srtp.ts,
// built so that a packet costs no new cipher object. werift creates a `createCipheriv('aes-128-ctr')`
// per packet (a key schedule and a stream object each time); here one `aes-128-ecb` cipher per
// session key lives as long as the session and encrypts the counter blocks into the keystream.
import { createCipheriv, hash, type Cipher } from 'node:crypto';

// A UDP datagram is < 64 KiB: at most 4096 counter blocks, so the 16-bit block counter in the
// last two bytes never carries into the packet index (as it would not in aes-128-ctr either).
const MAX_BLOCKS = 4096;
const blocks = new ArrayBuffer(MAX_BLOCKS * 16);
const blockWords = new Uint32Array(blocks);
const blockBytes = Buffer.from(blocks);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The 32-bit word whose bytes in memory read `x` big-endian. */
function memoryOrder(x: number): number {
  if (!LITTLE_ENDIAN) return x >>> 0;
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** The keystream of one SRTP or SRTCP session key. Not reentrant: one thread, synchronous. */
export class CounterMode {
  private readonly ecb: Cipher;
  private readonly saltWords: readonly [number, number, number, number];

  /** `salt`: the 14-byte session salt. */
  constructor(sessionKey: Buffer, salt: Buffer) {
    // ECB without padding keeps no state between update() calls: every call is whole blocks.
    this.ecb = createCipheriv('aes-128-ecb', sessionKey, null);
    this.ecb.setAutoPadding(false);
    this.saltWords = [salt.readUInt32BE(0), salt.readUInt32BE(4), salt.readUInt32BE(8), salt.readUInt16BE(12) << 16];
  }

  /**
   * XORs `length` bytes of `src` from `srcOffset` with the keystream of (ssrc, index high 32
   * bits, index low 16 bits) into `dst` from `dstOffset`. `src` may be `dst` (in place).
   */
  xor(src: Uint8Array, srcOffset: number, dst: Buffer, dstOffset: number, length: number, ssrc: number, high: number, low: number): void {
    if (length === 0) return;
    const n = (length + 15) >>> 4;
    if (n > MAX_BLOCKS) throw new RangeError('SRTP packet too large');
    const [s0, s1, s2, s3] = this.saltWords;
    const w0 = memoryOrder(s0);
    const w1 = memoryOrder(ssrc ^ s1);
    const w2 = memoryOrder(high ^ s2);
    const top = (((low & 0xffff) << 16) ^ s3) >>> 0;
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      blockWords[j] = w0;
      blockWords[j + 1] = w1;
      blockWords[j + 2] = w2;
      blockWords[j + 3] = memoryOrder((top | i) >>> 0);
    }
    const keystream = this.ecb.update(blockBytes.subarray(0, n << 4));
    if (src !== dst || srcOffset !== dstOffset) dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
    xorInto(dst, dstOffset, keystream, length);
  }
}

/** dst[offset + i] ^= keystream[i] for i < length, a word at a time where aligned. */
function xorInto(dst: Buffer, offset: number, keystream: Buffer, length: number): void {
  let i = 0;
  const start = dst.byteOffset + offset;
  if ((start & 3) === 0 && (keystream.byteOffset & 3) === 0 && length >= 16) {
    const words = length >>> 2;
    const d = new Int32Array(dst.buffer, start, words);
    const k = new Int32Array(keystream.buffer, keystream.byteOffset, words);
    for (let w = 0; w < words; w++) d[w] ^= k[w];
    i = words << 2;
  }
  for (; i < length; i++) dst[offset + i] ^= keystream[i];
}

const SHA1_BLOCK = 64;
const SHA1_SIZE = 20;
// K^ipad, then the message and the ROC, hashed in one call (the message is copied in: a memcpy).
const innerInput = Buffer.alloc(SHA1_BLOCK + MAX_BLOCKS * 16 + 4);

/** An HMAC-SHA1 key as its two padded blocks (RFC 2104). */
export class AuthKey {
  readonly ipad = Buffer.alloc(SHA1_BLOCK, 0x36);
  /** K^opad, then room for the inner digest. */
  readonly outer = Buffer.alloc(SHA1_BLOCK + SHA1_SIZE, 0x5c);

  constructor(key: Buffer) {
    const k = key.length > SHA1_BLOCK ? hash('sha1', key, 'buffer') : key;
    for (let i = 0; i < k.length; i++) {
      this.ipad[i] ^= k[i];
      this.outer[i] ^= k[i];
    }
  }
}

/**
 * HMAC-SHA1 over `data` (and the 32-bit ROC when given), its first `tagLength` bytes written to
 * `dst` at `offset`. Two one-shot `crypto.hash` calls: `createHmac` costs a stream object per
 * packet and measured ~20% slower; Hash.copy() of precomputed states slower still.
 */
export function writeAuthTag(key: AuthKey, data: Uint8Array, roc: number | undefined, dst: Buffer, offset: number, tagLength: number): void {
  let end = SHA1_BLOCK + data.length;
  if (end + 4 > innerInput.length) throw new RangeError('SRTP packet too large');
  innerInput.set(key.ipad, 0);
  innerInput.set(data, SHA1_BLOCK);
  if (roc !== undefined) {
    innerInput.writeUInt32BE(roc >>> 0, end);
    end += 4;
  }
  const inner = hash('sha1', innerInput.subarray(0, end), 'buffer');
  inner.copy(key.outer, SHA1_BLOCK);
  const digest = hash('sha1', key.outer, 'buffer');
  digest.copy(dst, offset, 0, tagLength);
}
