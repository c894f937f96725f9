// werift 0.24.4's RTCRtpReceiver.handleRTP runs for every packet a publisher sends, and on each
// it sorted the m-line's codecs twice (the `twccEnabled` and `nackEnabled` getters), split and
// lower-cased the codec's MIME type twice, copied the packet for its track and started an async
// function (`runRtcp`) only to return at once. This one does the same work with those answers
// kept per receiver (dropped when werift's `prepareReceive` changes the codecs) and the copy
// left out: every subscriber of a track's onReceiveRtp in Parley reads the packet and never
// changes it (DownTrack builds its own header).
import { RTCRtpReceiver, RTP_EXTENSION_URI, Red, unwrapRtx, codecParametersFromString } from 'werift';
import type { RtpPacket } from 'werift';

const PATCHED = Symbol.for('parley.werift-receiver-patched');
const FLAGS = Symbol('parley.receiver-flags');

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
  remoteStreams: Record<number, { add(packet: RtpPacket): void } | undefined>;
  receiverTWCC: { handleTWCC(seq: unknown): void } | undefined;
  setupTWCC(ssrc: number): void;
  ssrcByRtx: Record<number, number>;
  trackBySSRC: Record<number, Track | undefined>;
  nack: { addPacket(packet: RtpPacket): void };
  audioRedHandler: { push(red: unknown, packet: RtpPacket): RtpPacket[] };
  runRtcp(): Promise<void>;
  [FLAGS]?: Flags;
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
    if (!stream) return handleRTP.call(this, packet, extensions, track);
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
    if (track?.kind === 'video' && flags.nack) this.nack.addPacket(packet);
    if (track) {
      if (!red) track.onReceiveRtp.execute(packet, extensions);
      else if (track.kind === 'audio') for (const p of this.audioRedHandler.push(red, packet)) track.onReceiveRtp.execute(p, extensions);
    }
    if (!this.rtcpRunning) void this.runRtcp();
  };
  proto[PATCHED] = true;
}
