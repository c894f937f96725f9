// werift 0.24.4's RTCRtpReceiver.handleRTP runs for every packet a publisher sends, and on each
// it sorted the m-line's codecs twice (the `twccEnabled` and `nackEnabled` getters), split and
// lower-cased the codec's MIME type twice, copied the packet for its track and started an async
// function (`runRtcp`) only to return at once. This one does the same work with those answers
// kept per receiver (dropped when werift's `prepareReceive` changes the codecs) and the copy
// left out: every subscriber of a track's onReceiveRtp in Parley reads the packet and never
// changes it (DownTrack builds its own header).
// Its StreamStatistics.add (the RTCP receiver report's counts, per packet) turned each arrival
// time into a string and back (`Number.parseInt(n, 10)`) and read the stats clock through
// `performance.timeOrigin`: 4% of the media worker's receive path in bench:sfu's publish run.
// The same arithmetic here (test/unit/werift-receiver.test.ts compares the counters).
// Its NACKs come from NackRequester (nack-requester.ts says what werift's NackHandler got wrong).
import { GenericNack, RTCRtpReceiver, RTP_EXTENSION_URI, Red, RtcpTransportLayerFeedback, unwrapRtx, codecParametersFromString, uint16Gt } from 'werift';
import type { RtcpPacket, RtpPacket } from 'werift';
import { NACK_TICK_MS, NackRequester } from './nack-requester.js';
import { sharedInterval } from './shared-interval.js';

const PATCHED = Symbol.for('parley.werift-receiver-patched');
const FLAGS = Symbol('parley.receiver-flags');
const REQUESTER = Symbol('parley.nack-requester');

interface Codec {
  payloadType: number;
  clockRate: number;
  mimeType: string;
  parameters?: string;
}

interface Track {
  kind: string;
  onReceiveRtp: { execute(packet: RtpPacket, extensions: unknown): void };
}

interface Flags {
  nack: boolean;
  twcc: boolean;
  /** lower-cased codec names by payload type */
  names: Map<number, string>;
}

/** The parts of werift's RTCRtpReceiver that `handleRTP` uses. */
interface ReceiverInternals {
  stopped: boolean;
  rtcpRunning: boolean;
  codecs: Record<number, Codec | undefined>;
  readonly nackEnabled: unknown;
  readonly twccEnabled: unknown;
  remoteStreams: Record<number, StreamStatistics | undefined>;
  receiverTWCC: { handleTWCC(seq: unknown): void } | undefined;
  setupTWCC(ssrc: number): void;
  ssrcByRtx: Record<number, number>;
  trackBySSRC: Record<number, Track | undefined>;
  nack: { addPacket(packet: RtpPacket): void };
  rtcpSsrc: number;
  dtlsTransport: { sendRtcp(packets: RtcpPacket[]): Promise<unknown> } | undefined;
  onPacketLost: { execute(nack: GenericNack): void };
  [REQUESTER]?: NackRequester;
  audioRedHandler: { push(red: unknown, packet: RtpPacket): RtpPacket[] };
  runRtcp(): Promise<void>;
  [FLAGS]?: Flags;
}

/** The fields of werift's StreamStatistics (not exported) that `add` keeps. */
interface StreamStatistics {
  clockRate: number;
  packets_received: number;
  bytesReceived: number;
  headerBytesReceived: number;
  lastPacketReceivedTimestamp: number;
  base_seq?: number;
  max_seq?: number;
  cycles: number;
  jitter_q4: number;
  last_arrival?: number;
  last_timestamp?: number;
  add(packet: RtpPacket, now?: number): void;
}

const TIME_ORIGIN = performance.timeOrigin;

/** werift's StreamStatistics.add without the string round trip (arrival times are positive: trunc is parseInt). */
function addToStatistics(this: StreamStatistics, packet: RtpPacket, now = Date.now() / 1000): void {
  const { sequenceNumber: seq, timestamp } = packet.header;
  const inOrder = this.max_seq === undefined || uint16Gt(seq, this.max_seq);
  this.packets_received++;
  this.bytesReceived += packet.payload.length;
  this.headerBytesReceived += packet.header.serializeSize;
  this.lastPacketReceivedTimestamp = TIME_ORIGIN + performance.now();
  this.base_seq ??= seq;
  if (!inOrder) return;
  const arrival = Math.trunc(now * this.clockRate);
  if (this.max_seq !== undefined && seq < this.max_seq) this.cycles += 1 << 16;
  this.max_seq = seq;
  if (timestamp !== this.last_timestamp && this.packets_received > 1) {
    const diff = Math.abs(arrival - (this.last_arrival ?? 0) - (timestamp - (this.last_timestamp ?? 0)));
    this.jitter_q4 += diff - ((this.jitter_q4 + 8) >> 4);
  }
  this.last_arrival = arrival;
  this.last_timestamp = timestamp;
}

let statisticsPatched = false;

/** StreamStatistics is not exported: its prototype is patched once, from the first instance werift makes. */
function patchStatistics(stream: StreamStatistics | undefined): void {
  if (statisticsPatched || !stream) return;
  const proto = Object.getPrototypeOf(stream) as StreamStatistics;
  if (typeof proto.add !== 'function' || typeof stream.jitter_q4 !== 'number') {
    throw new Error('werift changed: StreamStatistics.add or jitter_q4 is gone (see werift-receiver.ts)');
  }
  proto.add = addToStatistics;
  statisticsPatched = true;
}

function requesterOf(receiver: ReceiverInternals): NackRequester {
  let requester = receiver[REQUESTER];
  if (requester) return requester;
  receiver.nack.addPacket = () => undefined; // werift's NackHandler hears nothing more: its 5 ms timer never starts
  requester = new NackRequester({
    now: () => performance.now(),
    ticks: sharedInterval(NACK_TICK_MS),
    send: (ssrc, lost) => {
      if (receiver.stopped || !receiver.dtlsTransport) return requester!.close();
      const nack = new GenericNack({ senderSsrc: receiver.rtcpSsrc, mediaSourceSsrc: ssrc, lost });
      receiver.dtlsTransport.sendRtcp([new RtcpTransportLayerFeedback({ feedback: nack })]).catch(() => undefined);
      receiver.onPacketLost.execute(nack); // werift's count per SSRC, and PublishedTrack's
    },
  });
  receiver[REQUESTER] = requester;
  return requester;
}

/** The first packet of an SSRC, for the NACKs: a video packet, or a retransmission in RTX. */
function heardFirst(receiver: ReceiverInternals, flags: Flags, codec: Codec, packet: RtpPacket, track: Track | undefined): void {
  const { ssrc, sequenceNumber } = packet.header;
  if (nameOf(flags, codec) === 'rtx') {
    const originalSsrc = receiver.ssrcByRtx[ssrc];
    if (originalSsrc !== undefined && packet.payload.length >= 2) requesterOf(receiver).received(originalSsrc, packet.payload.readUInt16BE(0));
  } else if ((track ?? receiver.trackBySSRC[ssrc])?.kind === 'video') {
    requesterOf(receiver).received(ssrc, sequenceNumber);
  }
}

function flagsOf(receiver: ReceiverInternals): Flags {
  return (receiver[FLAGS] ??= { nack: Boolean(receiver.nackEnabled), twcc: Boolean(receiver.twccEnabled), names: new Map() });
}

function nameOf(flags: Flags, codec: Codec): string {
  let name = flags.names.get(codec.payloadType);
  if (name === undefined) {
    name = (codec.mimeType.split('/')[1] ?? '').toLowerCase();
    flags.names.set(codec.payloadType, name);
  }
  return name;
}

export function patchWeriftReceiver(): void {
  const proto = RTCRtpReceiver.prototype as unknown as {
    handleRTP?: (this: ReceiverInternals, packet: RtpPacket, extensions: Record<string, unknown>, track: Track | undefined) => void;
    prepareReceive?: (this: ReceiverInternals, params: unknown) => void;
    [PATCHED]?: true;
  };
  if (proto[PATCHED]) return;
  const { handleRTP, prepareReceive } = proto;
  if (typeof handleRTP !== 'function' || typeof prepareReceive !== 'function') {
    throw new Error('werift changed: RTCRtpReceiver.handleRTP or prepareReceive is gone (see werift-receiver.ts)');
  }
  proto.prepareReceive = function (this: ReceiverInternals, params: unknown) {
    delete this[FLAGS];
    prepareReceive.call(this, params);
  };
  proto.handleRTP = function (this: ReceiverInternals, packet, extensions, track) {
    if (this.stopped) return;
    const ssrc = packet.header.ssrc;
    const codec = this.codecs[packet.header.payloadType];
    if (!codec) return;
    const flags = flagsOf(this);
    const stream = this.remoteStreams[ssrc];
    // The first packet of a stream goes through werift's own code, which makes its statistics.
    if (!stream) {
      if (flags.nack) heardFirst(this, flags, codec, packet, track);
      handleRTP.call(this, packet, extensions, track);
      return patchStatistics(this.remoteStreams[ssrc]);
    }
    stream.add(packet);
    if (this.receiverTWCC) this.receiverTWCC.handleTWCC(extensions[RTP_EXTENSION_URI.transportWideCC]);
    else if (flags.twcc) this.setupTWCC(ssrc);
    const name = nameOf(flags, codec);
    if (name === 'rtx') {
      const originalSsrc = this.ssrcByRtx[ssrc]!;
      const apt = codecParametersFromString(codec.parameters ?? '')['apt'];
      const rtxCodec = this.codecs[Number(apt)];
      if (packet.payload.length < 2 || !rtxCodec) return;
      packet = unwrapRtx(packet, rtxCodec.payloadType, originalSsrc);
      track = this.trackBySSRC[originalSsrc];
    }
    let red: { header: { fields: { blockPT: number }[] } } | undefined;
    if (name === 'red') {
      red = Red.deSerialize(packet.payload) as unknown as typeof red;
      if (this.codecs[red!.header.fields[0]!.blockPT] === undefined) return;
    }
    if (track?.kind === 'video' && flags.nack) requesterOf(this).received(packet.header.ssrc, packet.header.sequenceNumber);
    if (track) {
      if (!red) track.onReceiveRtp.execute(packet, extensions);
      else if (track.kind === 'audio') for (const p of this.audioRedHandler.push(red, packet)) track.onReceiveRtp.execute(p, extensions);
    }
    if (!this.rtcpRunning) void this.runRtcp();
  };
  proto[PATCHED] = true;
}
