// Just enough of the VP8 RTP payload descriptor (RFC 7741 §4.2) to find where a keyframe
// starts. Hand-written instead of werift's Vp8RtpPayload because this runs for every video
// packet on the hot path and must not allocate or throw (padding-only packets have no payload).

/** True when `payload` is the first packet of a VP8 keyframe. */
export function isVp8KeyframeStart(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const b0 = payload[0];
  const start = (b0 & 0x10) !== 0; // S: start of a VP8 partition
  const pid = b0 & 0x07; // partition index
  if (!start || pid !== 0) return false;
  let offset = 1;
  if (b0 & 0x80) {
    // X: extended control bits present
    if (payload.length < 2) return false;
    const b1 = payload[1];
    offset = 2;
    if (b1 & 0x80) {
      // I: picture id, 7 or 15 bits
      if (payload.length <= offset) return false;
      offset += payload[offset] & 0x80 ? 2 : 1;
    }
    if (b1 & 0x40) offset += 1; // L: TL0PICIDX
    if (b1 & 0x30) offset += 1; // T or K: TID/Y/KEYIDX
  }
  if (payload.length <= offset) return false;
  // VP8 payload header: bit 0 of the first byte is the inverse keyframe flag.
  return (payload[offset] & 0x01) === 0;
}
