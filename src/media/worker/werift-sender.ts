// werift 0.24.4's RTCRtpSender.sendRtp, which every forwarded packet goes through once per
// subscriber, with the same effects but less per-packet garbage: its NTP clock reading
// (`ntpTime`, 3.8% of the media worker's busy time in a 1 → 50 profile) builds two arrays, a
// closure and a Buffer to make one bigint, and the header extensions are rebuilt with a spread,
// map, filter, find and a fresh mid Buffer per packet. test/unit/werift-sender.test.ts runs
// werift's original and this one side by side on the same packets and compares what reaches
// the transport and the sender's state.
import {
  RTCRtpSender,
  RTP_EXTENSION_URI,
  RtpPacket,
  milliTime,
  serializeAbsSendTime,
  serializeRepairedRtpStreamId,
  serializeSdesRTPStreamID,
  uint16Add,
  uint32Add,
  type RtpHeader,
} from 'werift';

const PATCHED = Symbol.for('parley.werift-sender-patched');
const MID = Symbol('parley.mid-payload');
/**
 * How many sent packets a sender keeps for resends (werift-nack-limit.ts answers the NACKs from
 * them). werift keeps 128: one probe cluster's padding (up to ~140 packets, on one m-line) pushed
 * every media packet out, and in the seconds after a link's limit came, 44% of the resends asked
 * for found the packet gone (traced 2026-12-07). 512 hold ~2 s of a 2.5 Mbit/s layer with a
 * cluster's padding. A payload is the publisher's own buffer, shared by every subscriber, unless
 * the m-line renumbers VP8 pictures after a layer switch (vp8-pictures.ts): then it is this
 * subscriber's copy, up to ~0.6 MB per forwarded video.
 */
export const RTP_HISTORY_SIZE = 512;
const NTP_EPOCH_MS = Date.UTC(1900, 0, 1);
const ntpBytes = Buffer.alloc(8);

/**
 * werift's `ntpTime()`, value for value: seconds since 1900 as a decimal string, the digits
 * after the point taken as an integer (not a binary fraction: werift's format, which its SR and
 * RTT code expect), packed as two uint32s.
 */
export function weriftNtpTime(): bigint {
  const seconds = (performance.timeOrigin + performance.now() - NTP_EPOCH_MS) / 1e3;
  const text = seconds.toString();
  const dot = text.indexOf('.');
  const sec = Number(dot < 0 ? text : text.slice(0, dot));
  const fraction = dot < 0 ? 0 : Number(text.slice(dot + 1));
  ntpBytes.writeUInt32BE(sec, 0); // throws past 2036 as werift's does
  ntpBytes.writeUInt32BE(fraction, 4);
  return ntpBytes.readBigUInt64BE(0);
}

interface Extension {
  id: number;
  payload: Buffer;
}

/** The fields of werift's RTCRtpSender that `sendRtp` reads and writes. */
interface Sender {
  dtlsTransport: {
    state: string;
    transportSequenceNumber: number;
    sendRtp(payload: Buffer, header: RtpHeader): Promise<number>;
  };
  codec?: { payloadType: number };
  ssrc: number;
  timestampOffset: number;
  seqOffset: number;
  timestamp: number;
  sequenceNumber: number;
  headerExtensions: { id: number; uri: string }[];
  mid?: string;
  rtpStreamId?: string;
  repairedRtpStreamId?: string;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  headerBytesSent: number;
  packetCount: number;
  rtpCache: RtpPacket[];
  redRedundantPayloadType?: number;
  redEncoder: { push(block: { block: Buffer; timestamp: number; blockPT: number }): void; build(): { serialize(): Buffer } };
  senderBWE: { rtpPacketSent(info: { wideSeq: number; size: number; sendingAtMs: number; sentAtMs: number }): void };
  runRtcp(): Promise<void>;
  [MID]?: { mid: string; payload: Buffer };
}

/** The mid extension's bytes; werift makes a new Buffer per packet, nothing ever writes to it. */
function midPayload(s: Sender, mid: string): Buffer {
  const cached = s[MID];
  if (cached && cached.mid === mid) return cached.payload;
  const payload = Buffer.from(mid);
  s[MID] = { mid, payload };
  return payload;
}

function extensionPayload(s: Sender, uri: string, ntpTimestamp: bigint): Buffer | undefined {
  switch (uri) {
    case RTP_EXTENSION_URI.sdesMid:
      return s.mid ? midPayload(s, s.mid) : undefined;
    case RTP_EXTENSION_URI.sdesRTPStreamID:
      return s.rtpStreamId ? serializeSdesRTPStreamID(s.rtpStreamId) : undefined;
    case RTP_EXTENSION_URI.repairedRtpStreamId:
      return s.repairedRtpStreamId ? serializeRepairedRtpStreamId(s.repairedRtpStreamId) : undefined;
    case RTP_EXTENSION_URI.transportWideCC:
      // Only probe clusters carry it (DownTrack writes it): a browser leaves packets that carry
      // it out of its REMB, which sizes what subscribers get (probe-cluster.ts).
      return undefined;
    case RTP_EXTENSION_URI.absSendTime:
      return serializeAbsSendTime(ntpTimestamp);
  }
  return undefined;
}

async function sendRtp(this: Sender, input: Buffer | RtpPacket): Promise<void> {
  if (this.dtlsTransport.state !== 'connected' || !this.codec) return;
  const rtp = Buffer.isBuffer(input) ? RtpPacket.deSerialize(input) : input;
  const { header, payload } = rtp;
  header.ssrc = this.ssrc;
  header.payloadType = this.codec.payloadType;
  header.timestamp = uint32Add(header.timestamp, this.timestampOffset);
  header.sequenceNumber = uint16Add(header.sequenceNumber, this.seqOffset);
  this.timestamp = header.timestamp;
  this.sequenceNumber = header.sequenceNumber;
  const ntpTimestamp = weriftNtpTime();

  // The sender's own extensions in negotiation order; the packet's keep their payload under
  // an id the sender also writes, else are appended; then sorted by id (stable, as werift's).
  const given: Extension[] = header.extensions;
  const extensions: Extension[] = [];
  for (const { id, uri } of this.headerExtensions) {
    const value = extensionPayload(this, uri, ntpTimestamp);
    if (value) extensions.push({ id, payload: value });
  }
  for (const ext of given) {
    let exist: Extension | undefined;
    for (const e of extensions) {
      if (e.id === ext.id) {
        exist = e;
        break;
      }
    }
    if (exist) exist.payload = ext.payload;
    else extensions.push(ext);
  }
  header.extensions = extensions.length > 1 ? extensions.sort((a, b) => a.id - b.id) : extensions;

  this.ntpTimestamp = ntpTimestamp;
  this.rtpTimestamp = header.timestamp;
  this.octetCount += payload.length;
  this.headerBytesSent += header.serializeSize;
  this.packetCount = uint32Add(this.packetCount, 1);
  this.rtpCache[header.sequenceNumber % RTP_HISTORY_SIZE] = rtp;
  let rtpPayload = payload;
  if (this.redRedundantPayloadType) {
    this.redEncoder.push({ block: rtpPayload, timestamp: header.timestamp, blockPT: this.redRedundantPayloadType });
    rtpPayload = this.redEncoder.build().serialize();
  }
  const size = await this.dtlsTransport.sendRtp(rtpPayload, header);
  void this.runRtcp();
  const now = milliTime();
  this.senderBWE.rtpPacketSent({ wideSeq: this.dtlsTransport.transportSequenceNumber, size, sendingAtMs: now, sentAtMs: now });
}

export function patchWeriftSender(): void {
  const proto = RTCRtpSender.prototype as unknown as { sendRtp: unknown; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  if (typeof proto.sendRtp !== 'function') throw new Error('werift changed: RTCRtpSender.sendRtp is gone (see werift-sender.ts)');
  proto.sendRtp = sendRtp;
  proto[PATCHED] = true;
}
