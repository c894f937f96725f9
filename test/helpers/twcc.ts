import { TransportWideCC } from 'werift';

/** A transport-cc feedback packet (header included) parsed by werift, as the server reads the browser's. */
export function parseFeedback(packet: Buffer): TransportWideCC {
  const padded = (packet[0]! & 0x20) !== 0;
  const body = padded ? packet.subarray(4, packet.length - packet[packet.length - 1]!) : packet.subarray(4);
  return TransportWideCC.deSerialize(body, undefined as never);
}
