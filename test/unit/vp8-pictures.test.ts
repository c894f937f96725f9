import { describe, expect, it } from 'vitest';
import { Vp8Pictures } from '../../src/media/worker/vp8-pictures.js';
import { readVp8Descriptor } from '../../src/media/worker/vp8.js';

/** A VP8 payload descriptor (X, I with a 15- or 7-bit picture ID, L, T) and a few payload bytes. */
function vp8(pictureId: number, tl0: number, tid: number, bits: 15 | 7 = 15): Buffer {
  const picture = bits === 15 ? [0x80 | (pictureId >> 8), pictureId & 0xff] : [pictureId & 0x7f];
  return Buffer.from([0x90, 0xe0, ...picture, tl0, tid << 6, 0xaa, 0xbb]);
}

function read(payload: Buffer): { pictureId: number; tl0: number } {
  const at = { pictureIdAt: -1, pictureIdBits: 0, tl0At: -1 };
  expect(readVp8Descriptor(payload, at)).toBe(payload.length - 2); // the descriptor, then two bytes of payload
  const pictureId = at.pictureIdBits === 15 ? ((payload[at.pictureIdAt]! & 0x7f) << 8) | payload[at.pictureIdAt + 1]! : payload[at.pictureIdAt]! & 0x7f;
  return { pictureId, tl0: payload[at.tl0At]! };
}

describe('Vp8Pictures', () => {
  it('passes the first source through as it is, without a copy', () => {
    const pictures = new Vp8Pictures();
    pictures.restart();
    for (let i = 0; i < 5; i++) {
      const payload = vp8(1000 + i, 7 + (i >> 2), i % 4);
      expect(pictures.rewrite(payload)).toBe(payload);
    }
  });

  it('continues the picture IDs and TL0PICIDX of the last source when another layer starts', () => {
    const pictures = new Vp8Pictures();
    pictures.restart();
    for (let i = 0; i < 8; i++) pictures.rewrite(vp8(30_000 + i, 200 + (i >> 2), i % 4)); // last: 30007, tl0 201
    // The other layer's sequences are elsewhere (its TL0PICIDX behind: Chromium dropped its
    // base frames as already received once they reached the old layer's values).
    pictures.restart();
    const out = [0, 1, 2, 3, 4].map((i) => {
      const original = vp8(12_345 + i, 50 + (i >> 2), i % 4);
      const copy = Buffer.from(original);
      const rewritten = pictures.rewrite(original);
      expect(original).toEqual(copy); // the publisher's payload, shared by every subscriber, is not touched
      expect(rewritten.subarray(6)).toEqual(original.subarray(6));
      return read(rewritten);
    });
    expect(out).toEqual([
      { pictureId: 30_008, tl0: 202 },
      { pictureId: 30_009, tl0: 202 },
      { pictureId: 30_010, tl0: 202 },
      { pictureId: 30_011, tl0: 202 },
      { pictureId: 30_012, tl0: 203 },
    ]);
  });

  it('wraps picture IDs at 15 bits and TL0PICIDX at 8, and keeps a late packet of an earlier picture where it was', () => {
    const pictures = new Vp8Pictures();
    pictures.restart();
    pictures.rewrite(vp8(0x7ffe, 0xff, 0));
    pictures.restart();
    expect(read(pictures.rewrite(vp8(10, 3, 0)))).toEqual({ pictureId: 0x7fff, tl0: 0 });
    expect(read(pictures.rewrite(vp8(11, 3, 2)))).toEqual({ pictureId: 0, tl0: 0 });
    expect(read(pictures.rewrite(vp8(10, 3, 0)))).toEqual({ pictureId: 0x7fff, tl0: 0 }); // a retransmission
    expect(read(pictures.rewrite(vp8(12, 3, 1)))).toEqual({ pictureId: 1, tl0: 0 });
  });

  it('renumbers 7-bit picture IDs in 7 bits', () => {
    const pictures = new Vp8Pictures();
    pictures.restart();
    pictures.rewrite(vp8(126, 9, 0, 7));
    pictures.restart();
    const out = pictures.rewrite(vp8(40, 1, 0, 7));
    expect(out.length).toBe(vp8(40, 1, 0, 7).length);
    expect(read(out)).toEqual({ pictureId: 127, tl0: 10 });
    expect(read(pictures.rewrite(vp8(41, 1, 2, 7)))).toEqual({ pictureId: 0, tl0: 10 });
  });

  it('leaves a payload without a picture ID or descriptor extension alone', () => {
    const pictures = new Vp8Pictures();
    pictures.restart();
    pictures.rewrite(vp8(500, 1, 0));
    pictures.restart();
    const plain = Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a]);
    expect(pictures.rewrite(plain)).toBe(plain);
    expect(pictures.rewrite(Buffer.alloc(0)).length).toBe(0);
  });
});
