// werift 0.24.4's RtpHeader reads its bit fields with `getBit` (the byte turned into a string of
// '0'/'1' and parsed back, six times per header), appends each header extension by copying the
// array, and writes with two BitWriter objects. A received packet is parsed twice (SRTP, then
// RtpPacket), a forwarded one serialized once per subscriber. Same fields, same bytes, same
// errors with masks and shifts (test/unit/werift-srtp.test.ts compares with werift's own).
import { RtpHeader } from 'werift';

const PATCHED = Symbol.for('parley.werift-rtp-header-patched');
const ONE_BYTE = 0xbede;
const TWO_BYTE = 0x1000;
const CSRC_OFFSET = 12;

interface Extension {
  id: number;
  payload: Buffer;
}

function deSerialize(rawPacket: Buffer): RtpHeader {
  const h = new RtpHeader();
  const v_p_x_cc = rawPacket[0];
  h.version = v_p_x_cc >> 6;
  h.padding = (v_p_x_cc & 0x20) !== 0;
  h.extension = (v_p_x_cc & 0x10) !== 0;
  h.csrcLength = v_p_x_cc & 0x0f;
  const csrc: number[] = [];
  for (let i = 0; i < h.csrcLength; i++) csrc.push(rawPacket.readUInt32BE(CSRC_OFFSET + i * 4));
  h.csrc = csrc;
  let offset = CSRC_OFFSET + h.csrcLength * 4;
  const m_pt = rawPacket[1];
  h.marker = (m_pt & 0x80) !== 0;
  h.payloadType = m_pt & 0x7f;
  h.sequenceNumber = rawPacket.readUInt16BE(2);
  h.timestamp = rawPacket.readUInt32BE(4);
  h.ssrc = rawPacket.readUInt32BE(8);
  if (h.extension) {
    const profile = rawPacket.readUInt16BE(offset);
    h.extensionProfile = profile as RtpHeader['extensionProfile']; // any 16-bit value, as in werift
    offset += 2;
    const extensionLength = rawPacket.readUInt16BE(offset) * 4;
    h.extensionLength = extensionLength;
    offset += 2;
    const extensions: Extension[] = h.extensions;
    const end = offset + extensionLength;
    if (profile === ONE_BYTE) {
      while (offset < end) {
        const b = rawPacket[offset];
        if (b === 0) {
          offset++; // padding
          continue;
        }
        // werift reads undefined past the end as id 0, length 1 (`undefined & x` is 0)
        const id = b >> 4;
        const len = (b & 0x0f) + 1;
        offset++;
        if (id === 15) break;
        extensions.push({ id, payload: rawPacket.subarray(offset, offset + len) });
        offset += len;
      }
    } else if (profile === TWO_BYTE) {
      while (offset < end) {
        if (rawPacket[offset] === 0) {
          offset++;
          continue;
        }
        const id = rawPacket[offset++];
        const len = rawPacket[offset++];
        extensions.push({ id, payload: rawPacket.subarray(offset, offset + len) });
        offset += len;
      }
    } else {
      const payload = rawPacket.subarray(offset, offset + extensionLength);
      extensions.push({ id: 0, payload });
      offset += payload.length;
    }
  }
  h.payloadOffset = offset;
  if (h.padding) h.paddingSize = rawPacket[rawPacket.length - 1];
  return h;
}

/**
 * What werift's `RtpHeader.serialize(size)` writes, into `buf` from 0 (bytes up to `size` that
 * the header does not fill are zeroed, as in werift's zero-filled buffer). Sets `extension` and
 * `payloadOffset` on the header as werift does.
 */
export function serializeRtpHeaderInto(header: RtpHeader, buf: Buffer, size: number): void {
  if (header.extensions.length > 0) header.extension = true;
  const csrcs = header.csrc;
  buf.writeUInt8(((header.version & 3) << 6) | (header.padding ? 0x20 : 0) | (header.extension ? 0x10 : 0) | (csrcs.length & 0x0f), 0);
  buf.writeUInt8((header.marker ? 0x80 : 0) | (header.payloadType & 0x7f), 1);
  buf.writeUInt16BE(header.sequenceNumber, 2);
  buf.writeUInt32BE(header.timestamp, 4);
  buf.writeUInt32BE(header.ssrc, 8);
  let offset = CSRC_OFFSET;
  for (const csrc of csrcs) {
    buf.writeUInt32BE(csrc, offset);
    offset += 4;
  }
  if (header.extension) {
    const extHeaderPos = offset;
    buf.writeUInt16BE(header.extensionProfile, offset);
    offset += 4;
    const start = offset;
    const extensions: Extension[] = header.extensions;
    if (header.extensionProfile === ONE_BYTE) {
      for (const e of extensions) {
        buf.writeUInt8((e.id << 4) | (e.payload.length - 1), offset++);
        e.payload.copy(buf, offset);
        offset += e.payload.length;
      }
    } else if (header.extensionProfile === TWO_BYTE) {
      for (const e of extensions) {
        buf.writeUInt8(e.id, offset++);
        buf.writeUInt8(e.payload.length, offset++);
        e.payload.copy(buf, offset);
        offset += e.payload.length;
      }
    } else {
      const payload = extensions[0].payload;
      if (payload.length % 4 !== 0) throw new Error();
      payload.copy(buf, offset);
      offset += payload.length;
    }
    const extSize = offset - start;
    const rounded = Math.trunc((extSize + 3) / 4) * 4;
    buf.writeUInt16BE(Math.trunc(rounded / 4), extHeaderPos + 2);
    for (let i = 0; i < rounded - extSize; i++) buf.writeUInt8(0, offset++);
  }
  header.payloadOffset = offset;
  if (offset < size) buf.fill(0, offset, size);
}

function serialize(this: RtpHeader, size: number): Buffer {
  const buf = Buffer.alloc(size);
  serializeRtpHeaderInto(this, buf, 0);
  return buf;
}

export function patchWeriftRtpHeader(): void {
  const cls = RtpHeader as unknown as { deSerialize: unknown; prototype: { serialize: unknown }; [PATCHED]?: true };
  if (cls[PATCHED]) return;
  if (typeof cls.deSerialize !== 'function' || typeof cls.prototype.serialize !== 'function') {
    throw new Error('werift changed: RtpHeader.deSerialize/serialize are gone (see werift-rtp-header.ts)');
  }
  cls.deSerialize = deSerialize;
  cls.prototype.serialize = serialize;
  cls[PATCHED] = true;
}
