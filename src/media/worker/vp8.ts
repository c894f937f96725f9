// Just enough of the VP8 RTP payload descriptor (RFC 7741 §4.2) to find where a keyframe
// starts, its picture size, and where the picture ID and TL0PICIDX are (vp8-pictures.ts).
// Hand-written instead of werift's Vp8RtpPayload because this runs for every video packet on
// the hot path and must not allocate or throw (padding-only packets have no payload).

/** Where a VP8 payload descriptor keeps its picture ID (and its width) and TL0PICIDX; -1: absent. */
export interface Vp8Descriptor {
  pictureIdAt: number;
  /** 7 or 15 (0 without a picture ID) */
  pictureIdBits: number;
  tl0At: number;
}

/**
 * The payload descriptor's length (where the VP8 payload starts), its fields' places in `out`
 * (reused by the caller: this runs for every video packet), or -1 when it is cut short.
 */
export function readVp8Descriptor(payload: Uint8Array, out: Vp8Descriptor): number {
  out.pictureIdAt = -1;
  out.pictureIdBits = 0;
  out.tl0At = -1;
  if (payload.length < 1) return -1;
  if ((payload[0]! & 0x80) === 0) return 1; // X: extended control bits present
  if (payload.length < 2) return -1;
  const x = payload[1]!;
  let at = 2;
  if (x & 0x80) {
    // I: picture id, 7 or 15 bits
    if (payload.length <= at) return -1;
    out.pictureIdAt = at;
    out.pictureIdBits = payload[at]! & 0x80 ? 15 : 7;
    at += out.pictureIdBits === 15 ? 2 : 1;
  }
  if (x & 0x40) {
    // L: TL0PICIDX
    out.tl0At = at;
    at += 1;
  }
  if (x & 0x30) at += 1; // T or K: TID/Y/KEYIDX
  return payload.length >= at ? at : -1;
}

const scratch: Vp8Descriptor = { pictureIdAt: -1, pictureIdBits: 0, tl0At: -1 };

/** Offset of the VP8 payload header in the first packet of a partition 0, or -1. */
function partitionStart(payload: Uint8Array): number {
  if (payload.length < 1) return -1;
  const b0 = payload[0]!;
  const start = (b0 & 0x10) !== 0; // S: start of a VP8 partition
  const pid = b0 & 0x07; // partition index
  if (!start || pid !== 0) return -1;
  const offset = readVp8Descriptor(payload, scratch);
  return offset >= 0 && payload.length > offset ? offset : -1;
}

/** True when `payload` is the first packet of a VP8 keyframe. */
export function isVp8KeyframeStart(payload: Uint8Array): boolean {
  const offset = partitionStart(payload);
  // VP8 payload header: bit 0 of the first byte is the inverse keyframe flag.
  return offset >= 0 && (payload[offset] & 0x01) === 0;
}

/**
 * The picture size a VP8 keyframe's first packet announces (RFC 6386 §9.1: 3-byte frame tag,
 * start code 9d 01 2a, then 14-bit width and height, little-endian), or undefined.
 */
export function vp8KeyframeSize(payload: Uint8Array): { width: number; height: number } | undefined {
  const offset = partitionStart(payload);
  if (offset < 0 || (payload[offset] & 0x01) !== 0 || payload.length < offset + 10) return undefined;
  if (payload[offset + 3] !== 0x9d || payload[offset + 4] !== 0x01 || payload[offset + 5] !== 0x2a) return undefined;
  const width = (payload[offset + 6] | (payload[offset + 7] << 8)) & 0x3fff;
  const height = (payload[offset + 8] | (payload[offset + 9] << 8)) & 0x3fff;
  return width > 0 && height > 0 ? { width, height } : undefined;
}
