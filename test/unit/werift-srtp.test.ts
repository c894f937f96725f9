// The SRTP and RTP-header patches against werift's own code. `import 'werift'` loads its ESM
// bundle (which the patches change); `require('werift')` loads its CommonJS build of the same
// sources, a separate copy the patches never touch: the reference.
import { createRequire } from 'node:module';
import * as patched from 'werift';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWeriftRtpHeader } from '../../src/media/worker/werift-rtp-header.js';
import { patchWeriftSrtp } from '../../src/media/worker/werift-srtp.js';

const original = createRequire(import.meta.url)('werift') as typeof patched;
type Werift = typeof patched;

/** Deterministic bytes (xorshift32), so a failure reproduces. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

interface Keys {
  localMasterKey: Buffer;
  localMasterSalt: Buffer;
  remoteMasterKey: Buffer;
  remoteMasterSalt: Buffer;
}

/** Sessions whose remote keys are the local ones: what one encrypts the other decrypts. */
function loopKeys(r: ReturnType<typeof prng>): Keys {
  const key = r.bytes(16);
  const salt = r.bytes(14);
  return { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
}

interface HeaderProps {
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payloadType: number;
  marker: boolean;
  padding: boolean;
  paddingSize: number;
  csrc: number[];
  extensionProfile: number;
  extensions: { id: number; payload: Buffer }[];
}

function randomHeader(r: ReturnType<typeof prng>, sequenceNumber: number, ssrc: number): HeaderProps {
  const kind = r.int(4); // none, one-byte, two-byte, several one-byte
  const extensions: HeaderProps['extensions'] = [];
  const twoByte = kind === 2;
  const count = kind === 0 ? 0 : kind === 3 ? 1 + r.int(4) : 1;
  for (let i = 0; i < count; i++) {
    extensions.push({ id: 1 + i + r.int(3) * 4, payload: r.bytes(twoByte ? r.int(20) + 1 : 1 + r.int(16)) });
  }
  return {
    sequenceNumber,
    timestamp: r.int(0xffffffff),
    ssrc,
    payloadType: r.int(128),
    marker: r.int(2) === 1,
    padding: false,
    paddingSize: 0,
    csrc: r.int(4) === 0 ? [r.int(0xffffffff), r.int(0xffffffff)] : [],
    extensionProfile: twoByte ? 0x1000 : 0xbede,
    extensions,
  };
}

function makeHeader(w: Werift, p: HeaderProps): patched.RtpHeader {
  return new w.RtpHeader({ ...p, csrc: [...p.csrc], extensions: p.extensions.map((e) => ({ ...e })) } as never);
}

const PAYLOAD_SIZES = [0, 1, 15, 16, 17, 31, 100, 255, 1000, 1184, 1200, 1400];

function srtp(w: Werift, keys: Keys, profile: number) {
  return new w.SrtpSession({ keys, profile });
}

function srtcp(w: Werift, keys: Keys, profile: number) {
  return new w.SrtcpSession({ keys, profile });
}

/** What throwing looks like across the two copies (their error classes differ). */
function outcome(f: () => Buffer): Buffer | string {
  try {
    return f();
  } catch (error) {
    return error instanceof Error ? error.name : 'thrown';
  }
}

beforeAll(() => {
  patchWeriftRtpHeader();
  patchWeriftSrtp();
  // Otherwise every comparison below would compare the patch with itself.
  expect(patched.RtpHeader.deSerialize).not.toBe(original.RtpHeader.deSerialize);
});

const PROFILES = [
  ['AES_CM_128_HMAC_SHA1_80', patched.ProtectionProfileAes128CmHmacSha1_80],
  // Not patched, but it serializes headers with the patched code.
  ['AEAD_AES_128_GCM', patched.ProtectionProfileAeadAes128Gcm],
] as const;

describe.each(PROFILES)('SRTP %s: patched werift against its original', (_name, profile) => {
  it('protects and unprotects RTP to the same bytes, across the 16-bit sequence rollover', () => {
    const r = prng(profile * 7919 + 1);
    const keys = loopKeys(r);
    const [p, o] = [srtp(patched, keys, profile), srtp(original, keys, profile)];
    const ssrc = r.int(0xffffffff);
    let seq = 65536 - 40; // 96 packets: 40 before the wrap to 0, the rest after it
    let packets = 0;
    for (let round = 0; round < 2; round++) {
      for (const size of PAYLOAD_SIZES) {
        for (let k = 0; k < 4; k++) {
          const props = randomHeader(r, seq, ssrc);
          const payload = r.bytes(size);
          const mine = p.encrypt(payload, makeHeader(patched, props));
          const theirs = o.encrypt(payload, makeHeader(original, props));
          expect(mine.equals(theirs), `seq ${seq} size ${size}`).toBe(true);
          // Interoperation both ways, and the same plaintext out of either receiver.
          const byOriginal = o.decrypt(mine);
          const byPatched = p.decrypt(theirs);
          expect(byPatched.equals(byOriginal)).toBe(true);
          expect(original.RtpPacket.deSerialize(byOriginal).payload.equals(payload)).toBe(true);
          seq = (seq + 1) & 0xffff;
          packets++;
        }
      }
    }
    expect(packets).toBeGreaterThan(40); // so the run crossed 65535 → 0
    expect(seq).toBeLessThan(65536 - 40);
  });

  it('unprotects RTP with padding and rejects tampered or short packets like werift', () => {
    const r = prng(profile * 31 + 5);
    const keys = loopKeys(r);
    const [p, o] = [srtp(patched, keys, profile), srtp(original, keys, profile)];
    const [pr, or] = [srtp(patched, keys, profile), srtp(original, keys, profile)];
    for (let i = 0; i < 60; i++) {
      const props = { ...randomHeader(r, 1000 + i, 0x1234), padding: true };
      const pad = 1 + r.int(40);
      const payload = Buffer.concat([r.bytes(r.int(300)), Buffer.alloc(pad - 1), Buffer.from([pad])]);
      const enc = o.encrypt(payload, makeHeader(original, props));
      expect(p.encrypt(payload, makeHeader(patched, props)).equals(enc)).toBe(true);
      const tampered = Buffer.from(enc);
      tampered[r.int(tampered.length)] ^= 1 << r.int(8);
      const cut = enc.subarray(0, r.int(enc.length));
      for (const packet of [enc, tampered, cut]) {
        expect(outcome(() => pr.decrypt(packet))).toEqual(outcome(() => or.decrypt(packet)));
      }
    }
  });

  it('protects and unprotects RTCP to the same bytes, with 31-bit SRTCP indexes above 16 bits', () => {
    const r = prng(profile * 104729 + 3);
    const keys = loopKeys(r);
    const [p, o] = [srtcp(patched, keys, profile), srtcp(original, keys, profile)];
    const ssrc = r.int(0xffffffff);
    for (const start of [0, 65530, 0x7ffffff0]) {
      p.localContext.setIndex(ssrc, start);
      o.localContext.setIndex(ssrc, start);
      for (const words of [2, 3, 4, 7, 8, 16, 50, 300]) {
        const rtcp = r.bytes(words * 4);
        rtcp[0] = 0x80 | (rtcp[0] & 0x1f);
        rtcp.writeUInt16BE(words - 1, 2);
        rtcp.writeUInt32BE(ssrc, 4);
        const mine = p.encrypt(rtcp);
        const theirs = o.encrypt(rtcp);
        expect(mine.equals(theirs), `index from ${start}, ${words} words`).toBe(true);
        expect(o.decrypt(mine).equals(rtcp)).toBe(true);
        expect(p.decrypt(theirs).equals(rtcp)).toBe(true);
        const tampered = Buffer.from(mine);
        tampered[r.int(tampered.length)] ^= 0x10;
        expect(outcome(() => p.decrypt(tampered))).toEqual(outcome(() => o.decrypt(tampered)));
        const cut = mine.subarray(0, r.int(24));
        expect(outcome(() => p.decrypt(cut))).toEqual(outcome(() => o.decrypt(cut)));
      }
    }
  });
});

describe('RTP header: patched werift against its original', () => {
  it('parses random and malformed headers to the same fields, or fails on the same input', () => {
    const r = prng(99);
    for (let i = 0; i < 3000; i++) {
      let buf: Buffer;
      if (i % 3 === 0) {
        buf = r.bytes(r.int(80)); // garbage, often with X and CC bits set
      } else {
        const h = makeHeader(original, randomHeader(r, r.int(65536), r.int(0xffffffff)));
        h.padding = r.int(2) === 1;
        const wire = h.serialize(h.serializeSize);
        buf = Buffer.concat([wire, r.bytes(r.int(40))]);
        if (i % 3 === 2) buf = buf.subarray(0, r.int(buf.length + 1)); // truncated
      }
      const parse = (w: Werift) => {
        try {
          return JSON.parse(JSON.stringify(w.RtpHeader.deSerialize(buf))) as unknown;
        } catch {
          return 'throws';
        }
      };
      expect(parse(patched), buf.toString('hex')).toEqual(parse(original));
    }
  });

  it('serializes to the same bytes and leaves the header in the same state', () => {
    const r = prng(7);
    for (let i = 0; i < 500; i++) {
      const props = randomHeader(r, r.int(65536), r.int(0xffffffff));
      const [a, b] = [makeHeader(patched, props), makeHeader(original, props)];
      a.padding = b.padding = r.int(2) === 1;
      if (r.int(5) === 0) a.extension = b.extension = true; // flagged, maybe without extensions
      const extra = r.int(8);
      expect(a.serialize(a.serializeSize + extra).equals(b.serialize(b.serializeSize + extra))).toBe(true);
      expect(JSON.stringify(a)).toEqual(JSON.stringify(b));
    }
  });
});
