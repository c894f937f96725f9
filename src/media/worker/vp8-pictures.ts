// A subscriber m-line's VP8 picture IDs and TL0PICIDX (RFC 7741 §4.2), continuous across the
// sources it forwards one after the other (simulcast layers, publishers): each simulcast layer
// has sequences of its own. Chromium's VP8 reference finder keys its state by them and keeps
// what it saw of the old layer: once the new layer's TL0PICIDX reached values the old one had
// used, it dropped those base-layer frames as "already received" and stalled the picture
// ~3 s until its PLI (traced 2026-12-07: two clear viewers of one camera froze at the same
// moment, with every packet delivered). Like the sequence numbers (SeqTsRewriter), a new
// source's first picture continues right after the last one sent.
// Pure, and allocates nothing unless a field changes; unit-tested.

import { readVp8Descriptor, type Vp8Descriptor } from './vp8.js';

function readPictureId(payload: Uint8Array, at: number, bits: number): number {
  return bits === 15 ? ((payload[at]! & 0x7f) << 8) | payload[at + 1]! : payload[at]! & 0x7f;
}

/** `a` is newer than `b` in a space of `mask + 1` values. */
function newer(a: number, b: number, mask: number): boolean {
  return a !== b && ((a - b) & mask) <= mask >> 1;
}

export class Vp8Pictures {
  private pictureDelta = 0;
  private tl0Delta = 0;
  /** the newest picture ID and TL0PICIDX sent (undefined before the first) */
  private lastPictureId: number | undefined;
  private lastTl0: number | undefined;
  private restarting = false;
  private readonly at: Vp8Descriptor = { pictureIdAt: -1, pictureIdBits: 0, tl0At: -1 };

  /** The next packet starts a new source (on its keyframe): its picture follows the last one sent. */
  restart(): void {
    this.restarting = true;
  }

  /** The payload to send: `payload` itself when nothing changes, else a copy with the fields renumbered. */
  rewrite(payload: Buffer): Buffer {
    const at = this.at;
    if (readVp8Descriptor(payload, at) < 0 || (at.pictureIdAt < 0 && at.tl0At < 0)) return payload;
    const mask = at.pictureIdBits === 15 ? 0x7fff : 0x7f;
    const pictureId = at.pictureIdAt >= 0 ? readPictureId(payload, at.pictureIdAt, at.pictureIdBits) : undefined;
    const tl0 = at.tl0At >= 0 ? payload[at.tl0At]! : undefined;
    if (this.restarting) {
      this.restarting = false;
      this.pictureDelta = pictureId !== undefined && this.lastPictureId !== undefined ? (this.lastPictureId + 1 - pictureId) & mask : 0;
      this.tl0Delta = tl0 !== undefined && this.lastTl0 !== undefined ? (this.lastTl0 + 1 - tl0) & 0xff : 0;
    }
    const outPictureId = pictureId !== undefined ? (pictureId + this.pictureDelta) & mask : undefined;
    const outTl0 = tl0 !== undefined ? (tl0 + this.tl0Delta) & 0xff : undefined;
    // (A late packet of an earlier picture does not move them back.)
    if (outPictureId !== undefined && (this.lastPictureId === undefined || newer(outPictureId, this.lastPictureId, mask))) this.lastPictureId = outPictureId;
    if (outTl0 !== undefined && (this.lastTl0 === undefined || newer(outTl0, this.lastTl0, 0xff))) this.lastTl0 = outTl0;
    if (outPictureId === pictureId && outTl0 === tl0) return payload;
    const out = Buffer.from(payload); // the publisher's payload is shared by every subscriber
    if (outPictureId !== undefined) {
      if (at.pictureIdBits === 15) {
        out[at.pictureIdAt] = 0x80 | (outPictureId >> 8);
        out[at.pictureIdAt + 1] = outPictureId & 0xff;
      } else {
        out[at.pictureIdAt] = outPictureId;
      }
    }
    if (outTl0 !== undefined) out[at.tl0At] = outTl0;
    return out;
  }
}
