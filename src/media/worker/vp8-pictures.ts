// A subscriber m-line's VP8 picture IDs and TL0PICIDX (RFC 7741 §4.2), continuous across the
// sources it forwards one after the other (simulcast layers, publishers): each simulcast layer
// has sequences of its own. Chromium's VP8 reference finder keys its state by them and keeps
// what it saw of the old layer: once the new layer's TL0PICIDX reached values the old one had
// used, it dropped those base-layer frames as "already received" and stalled the picture
// ~3 s until its PLI (traced 2026-12-07: two clear viewers of one camera froze at the same
// moment, with every packet delivered). Like the sequence numbers (SeqTsRewriter), a new
// source's first picture continues right after the last one sent.
// Pure, and allocates nothing unless a field changes; unit-tested.

/** Where a VP8 payload descriptor keeps its picture ID (and its width) and TL0PICIDX; -1: absent. */
export interface Vp8Indices {
  pictureIdAt: number;
  /** 7 or 15 (0 without a picture ID) */
  pictureIdBits: number;
  tl0At: number;
}

/** The indices of `payload` into `out` (reused: this runs for every forwarded VP8 packet); false without them. */
export function vp8Indices(payload: Uint8Array, out: Vp8Indices): boolean {
  if (payload.length < 2 || (payload[0]! & 0x80) === 0) return false; // no X: no extension
  const x = payload[1]!;
  let at = 2;
  out.pictureIdAt = -1;
  out.pictureIdBits = 0;
  if (x & 0x80) {
    if (payload.length <= at) return false;
    out.pictureIdAt = at;
    out.pictureIdBits = payload[at]! & 0x80 ? 15 : 7;
    at += out.pictureIdBits === 15 ? 2 : 1;
  }
  out.tl0At = -1;
  if (x & 0x40) {
    out.tl0At = at;
    at += 1;
  }
  if (x & 0x30) at += 1; // T or K: TID/Y/KEYIDX
  return payload.length >= at;
}

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
  private readonly at: Vp8Indices = { pictureIdAt: -1, pictureIdBits: 0, tl0At: -1 };

  /** The next packet starts a new source (on its keyframe): its picture follows the last one sent. */
  restart(): void {
    this.restarting = true;
  }

  /** The payload to send: `payload` itself when nothing changes, else a copy with the fields renumbered. */
  rewrite(payload: Buffer): Buffer {
    const at = this.at;
    if (!vp8Indices(payload, at)) return payload;
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
