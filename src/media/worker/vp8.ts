// Just enough of the VP8 RTP payload descriptor (RFC 7741 §4.2) to find where a keyframe
// starts, and its picture size. Hand-written instead of werift's Vp8RtpPayload because this runs
// for every video packet on the hot path and must not allocate or throw (padding-only packets
// have no payload).

/** Offset of the VP8 payload header in the first packet of a partition 0, or -1. */
function partitionStart(payload: Uint8Array): number {
  if (payload.length < 1) return -1;
  const b0 = payload[0];
  const start = (b0 & 0x10) !== 0; // S: start of a VP8 partition
  const pid = b0 & 0x07; // partition index
  if (!start || pid !== 0) return -1;
  let offset = 1;
  if (b0 & 0x80) {
    // X: extended control bits present
    if (payload.length < 2) return -1;
    const b1 = payload[1];
    offset = 2;
    if (b1 & 0x80) {
      // I: picture id, 7 or 15 bits
      if (payload.length <= offset) return -1;
      offset += payload[offset] & 0x80 ? 2 : 1;
    }
    if (b1 & 0x40) offset += 1; // L: TL0PICIDX
    if (b1 & 0x30) offset += 1; // T or K: TID/Y/KEYIDX
  }
  return payload.length > offset ? offset : -1;
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
