// werift 0.24.4 splits a compound RTCP packet, but hands each packet's parser everything from its
// start to the end of the compound, not its own `length` words. A NACK parser then reads the
// packets after it as more lost sequence numbers: Chrome's NACK + REMB compounds arrived as
// [real, 36814, 36815, 0, 1, 0, 21061 ("RE" of "REMB"), …], thirty-odd numbers per NACK, each
// of which would be resent if it matched a packet in the send history, and each of which took a
// slot of the NACK limit's table. Here each parser gets its packet only (and a padded packet
// loses its padding from its own end, not from the compound's).
// It also reads a report block's cumulative packets lost unsigned: RFC 3550 makes it a signed
// 24-bit count, below zero when duplicates outnumber losses, so -1 became 16,777,215 lost (and a
// subscriber's loss 100%). Here it is signed, for every reader of receiver and sender reports.
import { RtcpPacketConverter } from 'werift';

const PATCHED = Symbol.for('parley.werift-rtcp-patched');
const HEADER_SIZE = 4;

type Converter = { deSerialize(data: Buffer): unknown[]; [PATCHED]?: true };

export function patchWeriftRtcp(): void {
  const converter = RtcpPacketConverter as unknown as Converter;
  if (converter[PATCHED]) return;
  if (typeof converter.deSerialize !== 'function') throw new Error('werift changed: RtcpPacketConverter.deSerialize is gone (see werift-rtcp.ts)');
  const original = converter.deSerialize.bind(converter);
  // werift's own parser, one packet at a time: it then sees only that packet's bytes.
  converter.deSerialize = (data: Buffer) => {
    const packets: unknown[] = [];
    let pos = 0;
    while (pos + HEADER_SIZE <= data.length) {
      const words = data.readUInt16BE(pos + 2);
      const end = pos + HEADER_SIZE + words * 4;
      if (end > data.length) break; // truncated: werift would read past it too
      for (const packet of original(data.subarray(pos, end))) packets.push(withSignedLoss(packet));
      pos = end;
    }
    return packets;
  };
  converter[PATCHED] = true;
}

/** A receiver or sender report's blocks with their cumulative loss sign-extended from 24 bits. */
function withSignedLoss(packet: unknown): unknown {
  const reports = (packet as { reports?: unknown }).reports;
  if (!Array.isArray(reports)) return packet;
  for (const report of reports as { packetsLost?: unknown }[]) {
    if (typeof report.packetsLost === 'number' && report.packetsLost >= 0x800000) report.packetsLost -= 0x1000000;
  }
  return packet;
}
