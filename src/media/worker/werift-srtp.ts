// SRTP/SRTCP with AES_CM_128_HMAC_SHA1_80 (werift 0.24.4's CipherAesCtr) without a new cipher per
// packet. werift's own builds a `createCipheriv('aes-128-ctr')` and a `createHmac('sha1')` for every
// packet either way, plus a BigInt for the counter and three `Buffer.concat` copies; in a profile of
// the media worker that was most of its busy time (src/media/README.md, "Beside Janus"). Same bytes
// out, same errors (test/unit/werift-srtp.test.ts compares with werift's unpatched copy).
// AEAD_AES_128_GCM (which werift prefers when the peer offers it) is left as werift does it: Node
// cannot reuse a GCM context for a new IV, and GHASH in JavaScript would cost more than it saves.
import { timingSafeEqual } from 'node:crypto';
import { ProtectionProfileAes128CmHmacSha1_80, RtcpHeader, RtpHeader, SrtpAuthenticationError, SrtpSession } from 'werift';
import { AuthKey, CounterMode, writeAuthTag } from './srtp-cm.js';
import { serializeRtpHeaderInto } from './werift-rtp-header.js';

const PATCHED = Symbol.for('parley.werift-srtp-patched');
const STATE = Symbol('parley.srtp-cm');
const SRTCP_INDEX_SIZE = 4;
const MIN_RTP_HEADER = 12;
const MIN_RTCP_PACKET = 8;
const RTP_FAILED = 'Failed to authenticate SRTP packet';
const RTCP_FAILED = 'Failed to authenticate SRTCP packet';

interface SessionCipher {
  readonly rtp: CounterMode;
  readonly rtcp: CounterMode;
  readonly rtpAuth: AuthKey;
  readonly rtcpAuth: AuthKey;
}

/** The fields of werift's CipherAesCtr that its methods use. */
interface CipherAesCtr {
  readonly srtpSessionKey: Buffer;
  readonly srtpSessionSalt: Buffer;
  readonly srtcpSessionKey: Buffer;
  readonly srtcpSessionSalt: Buffer;
  readonly srtpSessionAuthTag: Buffer;
  readonly srtcpSessionAuthTag: Buffer;
  readonly authTagLength: number;
  [STATE]?: SessionCipher;
}

interface CipherAesCtrMethods {
  encryptRtp(this: CipherAesCtr, header: RtpHeader, payload: Buffer, rolloverCounter: number): Buffer;
  decryptRtp(this: CipherAesCtr, cipherText: Buffer, rolloverCounter: number, header?: RtpHeader): [Buffer, RtpHeader];
  encryptRTCP(this: CipherAesCtr, rtcpPacket: Buffer, srtcpIndex: number): Buffer;
  decryptRTCP(this: CipherAesCtr, encrypted: Buffer): [Buffer, RtcpHeader];
  [PATCHED]?: true;
}

const expectedTag = Buffer.alloc(32);

function state(c: CipherAesCtr): SessionCipher {
  return (c[STATE] ??= {
    rtp: new CounterMode(c.srtpSessionKey, c.srtpSessionSalt),
    rtcp: new CounterMode(c.srtcpSessionKey, c.srtcpSessionSalt),
    rtpAuth: new AuthKey(c.srtpSessionAuthTag),
    rtcpAuth: new AuthKey(c.srtcpSessionAuthTag),
  });
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new SrtpAuthenticationError(message);
}

function checkTag(actual: Buffer, expectedLength: number, message: string): void {
  check(actual.length === expectedLength && timingSafeEqual(actual, expectedTag.subarray(0, expectedLength)), message);
}

/**
 * werift's parseSrtpRtpHeader (not exported), with its errors: used when a caller gives no parsed
 * header, and by werift-receive-path.ts.
 */
export function parseSrtpRtpHeader(packet: Buffer, tagLength: number): RtpHeader {
  const tagOffset = packet.length - tagLength;
  check(packet.length >= MIN_RTP_HEADER + tagLength, RTP_FAILED);
  let header: RtpHeader;
  try {
    header = RtpHeader.deSerialize(packet.subarray(0, tagOffset));
  } catch {
    throw new SrtpAuthenticationError(RTP_FAILED);
  }
  header.paddingSize = 0;
  check(header.payloadOffset >= MIN_RTP_HEADER && header.payloadOffset <= tagOffset, RTP_FAILED);
  return header;
}

// werift's finalizeSrtpRtpHeader (not exported).
function finalizeHeader(header: RtpHeader, packet: Buffer): RtpHeader {
  if (!header.padding) {
    header.paddingSize = 0;
    return header;
  }
  check(packet.length > header.payloadOffset, RTP_FAILED);
  const paddingSize = packet[packet.length - 1];
  check(paddingSize > 0 && paddingSize <= packet.length - header.payloadOffset, RTP_FAILED);
  header.paddingSize = paddingSize;
  return header;
}

const cheaper: Omit<CipherAesCtrMethods, typeof PATCHED> = {
  encryptRtp(header, payload, rolloverCounter) {
    const headerSize = header.serializeSize;
    const tagOffset = headerSize + payload.length;
    const out = Buffer.allocUnsafe(tagOffset + this.authTagLength);
    serializeRtpHeaderInto(header, out, headerSize);
    state(this).rtp.xor(payload, 0, out, headerSize, payload.length, header.ssrc, rolloverCounter, header.sequenceNumber);
    writeAuthTag(state(this).rtpAuth, out.subarray(0, tagOffset), rolloverCounter, out, tagOffset, this.authTagLength);
    return out;
  },

  decryptRtp(cipherText, rolloverCounter, parsed) {
    // werift's SrtpContext passes the header it parsed; its own default parses here.
    const header = parsed ?? parseSrtpRtpHeader(cipherText, this.authTagLength);
    const tagOffset = cipherText.length - this.authTagLength;
    writeAuthTag(state(this).rtpAuth, cipherText.subarray(0, tagOffset), rolloverCounter, expectedTag, 0, this.authTagLength);
    checkTag(cipherText.subarray(tagOffset), this.authTagLength, RTP_FAILED);
    const start = header.payloadOffset;
    const dst = Buffer.allocUnsafe(tagOffset);
    cipherText.copy(dst, 0, 0, start);
    state(this).rtp.xor(cipherText, start, dst, start, tagOffset - start, header.ssrc, rolloverCounter, header.sequenceNumber);
    return [dst, finalizeHeader(header, dst)];
  },

  encryptRTCP(rtcpPacket, srtcpIndex) {
    const ssrc = rtcpPacket.readUInt32BE(4);
    const length = rtcpPacket.length;
    const out = Buffer.allocUnsafe(length + SRTCP_INDEX_SIZE + this.authTagLength);
    rtcpPacket.copy(out, 0, 0, 8);
    state(this).rtcp.xor(rtcpPacket, 8, out, 8, length - 8, ssrc, srtcpIndex >> 16, srtcpIndex & 0xffff);
    out.writeUInt32BE(srtcpIndex, length);
    out[length] |= 0x80; // E flag: the packet is encrypted
    const tagOffset = length + SRTCP_INDEX_SIZE;
    writeAuthTag(state(this).rtcpAuth, out.subarray(0, tagOffset), undefined, out, tagOffset, this.authTagLength);
    return out;
  },

  decryptRTCP(encrypted) {
    const tagLength = this.authTagLength;
    check(encrypted.length >= MIN_RTCP_PACKET + tagLength + SRTCP_INDEX_SIZE, RTCP_FAILED);
    let header: RtcpHeader;
    try {
      header = RtcpHeader.deSerialize(encrypted.subarray(0, 4));
    } catch {
      throw new SrtpAuthenticationError(RTCP_FAILED);
    }
    const tagOffset = encrypted.length - tagLength;
    const tailOffset = tagOffset - SRTCP_INDEX_SIZE;
    writeAuthTag(state(this).rtcpAuth, encrypted.subarray(0, tagOffset), undefined, expectedTag, 0, tagLength);
    checkTag(encrypted.subarray(tagOffset), tagLength, RTCP_FAILED);
    const out = Buffer.allocUnsafe(tailOffset);
    encrypted.copy(out, 0, 0, tailOffset);
    if (encrypted[tailOffset] >>> 7 === 0) return [out, header];
    const srtcpIndex = encrypted.readUInt32BE(tailOffset) & 0x7fffffff;
    const ssrc = encrypted.readUInt32BE(4);
    state(this).rtcp.xor(out, 8, out, 8, tailOffset - 8, ssrc, srtcpIndex >> 16, srtcpIndex & 0xffff);
    return [out, header];
  },
};

/** werift's CipherAesCtr prototype, reached through a throwaway session (the class is not exported). */
function cipherAesCtrPrototype(): CipherAesCtrMethods {
  const key = Buffer.alloc(16);
  const salt = Buffer.alloc(14);
  const session = new SrtpSession({
    keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
    profile: ProtectionProfileAes128CmHmacSha1_80,
  });
  const cipher: unknown = (session.localContext as unknown as { cipher: unknown }).cipher;
  const proto: unknown = cipher && Object.getPrototypeOf(cipher);
  const methods = proto as Partial<CipherAesCtrMethods> | undefined;
  for (const name of ['encryptRtp', 'decryptRtp', 'encryptRTCP', 'decryptRTCP'] as const) {
    if (typeof methods?.[name] !== 'function') throw new Error(`werift changed: CipherAesCtr.${name} is gone (see werift-srtp.ts)`);
  }
  return proto as CipherAesCtrMethods;
}

export function patchWeriftSrtp(): void {
  const proto = cipherAesCtrPrototype();
  if (proto[PATCHED]) return;
  Object.assign(proto, cheaper);
  proto[PATCHED] = true;
}
