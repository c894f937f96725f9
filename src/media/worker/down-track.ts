// One published track forwarded to one subscriber: SSRC/sequence/timestamp rewriting,
// keyframe gating for video, PLI/NACK bookkeeping.
import { RTP_EXTENSION_URI, RtpHeader, RtpPacket, serializeTransportWideCC, type RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import type { DownTrackStats } from '../types.js';
import type { WorkerContext } from './context.js';
import type { AudioLevel, PublishedTrack } from './published-track.js';
import { rtxPayloadTypeFor, videoCodecOf, type VideoCodec } from './codecs.js';
import { LayerSwitch } from './layer-switch.js';
import { onLostForGood } from './werift-nack-limit.js';
import { Vp8Pictures } from './vp8-pictures.js';

const ONE_BYTE_PROFILE = 0xbede;
export const CLOCK_RATE = { audio: 48_000, video: 90_000 } as const;
/** How long after a resume the losses a subscriber reports are left out (two of its reports). */
const RESUME_GRACE_MS = 2500;
/** Video packets held at most while DTLS is not up yet (~1 s of a 1.5 Mbit/s layer). */
const EARLY_MAX = 150;
/** A keyframe for a packet lost for good at most this often per subscriber's video (ms). */
const LOST_KEYFRAME_GAP_MS = 1000;

/** 1-byte audio-level payloads, indexed by (v << 7) | level; built once to avoid per-packet allocation. */
const AUDIO_LEVEL_PAYLOADS = Array.from({ length: 256 }, (_, i) => Buffer.from([i]));

/**
 * Now as abs-send-time (6.18 fixed-point seconds, 24 bits). Ours replaces werift's, which it
 * builds from an NTP time whose fraction is the decimal digits of the seconds (not a binary
 * fraction): Chrome's receive-side estimate made from those held still through a saturated link
 * for 25 s, then collapsed.
 */
function absSendTime(): Buffer {
  const value = Math.floor(((performance.timeOrigin + performance.now()) / 1000) * 262_144) % 0x1000000;
  const out = Buffer.allocUnsafe(3);
  out.writeUIntBE(value, 0, 3);
  return out;
}

/**
 * The payload of our padding-only packets: all padding (RFC 3550 5.1, its last byte counts it),
 * sent as it is with the P bit set (werift's sender writes the payload only).
 */
export const PADDING_PAYLOAD: Buffer = (() => {
  const bytes = Buffer.alloc(255);
  bytes[254] = 255;
  return bytes;
})();

/** a is newer than b in 16-bit sequence space */
function seqNewer(a: number, b: number): boolean {
  return a !== b && ((a - b) & 0xffff) < 0x8000;
}

/** Earlier sequence offsets kept for retransmissions of packets numbered before a drop or an insert. */
const OFFSET_HISTORY = 32;

/**
 * Rewrites the publisher's sequence numbers and timestamps into one continuous stream per
 * subscriber m-line. Offsets are computed when a source stream starts (first packet, or a new
 * publisher SSRC) so that the output continues at lastSeq + 1 and at a timestamp advanced by
 * the wall-clock gap; the subscriber's jitter buffer then sees one stream, never a jump back.
 * A packet that is not forwarded (the publisher's padding) and one that we add (our padding)
 * move the offset; a late packet from before such a move keeps the number it had.
 * The SSRC itself is replaced by werift's RTCRtpSender with its own.
 */
export class SeqTsRewriter {
  private inSsrc: number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastSeq: number | undefined;
  private lastTs = 0;
  private lastAt = 0;
  /** the newest input sequence number of the current source */
  private inLast: number | undefined;
  /** offsets in force before input sequence number `before`, oldest first */
  private history: { before: number; offset: number }[] = [];
  /** the VP8 picture IDs and TL0PICIDX of the same stream, continuous the same way */
  readonly pictures = new Vp8Pictures();

  constructor(private readonly clockRate: number) {}

  get started(): boolean {
    return this.inSsrc !== undefined;
  }

  /** True when a packet with this SSRC needs `start()` before it can be mapped. */
  isNewSource(ssrc: number): boolean {
    return ssrc !== this.inSsrc;
  }

  start(ssrc: number, seq: number, ts: number, now: number): void {
    let nextSeq: number;
    let nextTs: number;
    if (this.lastSeq === undefined) {
      // RFC 3550: random initial values. Keep the sequence away from the wrap for the sake of
      // receivers that mishandle it early (werift's own NACK generator does).
      nextSeq = Math.floor(Math.random() * 0x7fff);
      nextTs = Math.floor(Math.random() * 0xffffffff);
    } else {
      nextSeq = (this.lastSeq + 1) & 0xffff;
      const gap = Math.max(1, Math.round(((now - this.lastAt) * this.clockRate) / 1000));
      nextTs = (this.lastTs + gap) >>> 0;
    }
    this.inSsrc = ssrc;
    this.seqOffset = (nextSeq - seq) & 0xffff;
    this.tsOffset = (nextTs - ts) >>> 0;
    this.inLast = undefined;
    this.history = [];
    this.pictures.restart();
  }

  /** Maps one packet of the current source; remembers the newest for the next `start()`. */
  map(seq: number, ts: number, now: number): { seq: number; ts: number } {
    const outSeq = (seq + this.offsetFor(seq)) & 0xffff;
    const outTs = (ts + this.tsOffset) >>> 0;
    if (this.inLast === undefined || seqNewer(seq, this.inLast)) this.inLast = seq;
    if (this.lastSeq === undefined || seqNewer(outSeq, this.lastSeq)) {
      this.lastSeq = outSeq;
      this.lastTs = outTs;
      this.lastAt = now;
    }
    return { seq: outSeq, ts: outTs };
  }

  /**
   * A packet of the current source that is not forwarded (padding only): the next ones close the
   * gap it would leave. Only the next one in order can be taken out; another leaves its gap.
   */
  drop(seq: number): void {
    if (this.inLast === undefined || seq !== ((this.inLast + 1) & 0xffff)) return;
    this.moveOffset((seq + 1) & 0xffff, -1);
    this.inLast = seq;
  }

  /**
   * Numbers for `count` packets of our own right after the newest one sent (same timestamp), or
   * undefined before anything was sent.
   */
  insert(count: number): { firstSeq: number; ts: number } | undefined {
    if (this.lastSeq === undefined || this.inLast === undefined) return undefined;
    const firstSeq = (this.lastSeq + 1) & 0xffff;
    this.moveOffset((this.inLast + 1) & 0xffff, count);
    this.lastSeq = (this.lastSeq + count) & 0xffff;
    return { firstSeq, ts: this.lastTs };
  }

  /** Forget the current source: the next packet starts a new one (continuing the numbering). */
  reset(): void {
    this.inSsrc = undefined;
  }

  private moveOffset(from: number, by: number): void {
    this.history.push({ before: from, offset: this.seqOffset });
    if (this.history.length > OFFSET_HISTORY) this.history.shift();
    this.seqOffset = (this.seqOffset + by) & 0xffff;
  }

  /** The offset in force when a packet with this input number was first numbered. */
  private offsetFor(seq: number): number {
    let offset = this.seqOffset;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const moved = this.history[i]!;
      if (!seqNewer(moved.before, seq)) break;
      offset = moved.offset;
    }
    return offset;
  }
}

export class DownTrack {
  private readonly unsubscribers: (() => void)[] = [];
  private closed = false;
  /** Last-N or its link: this subscriber does not receive this video now. */
  private paused = false;
  /** which simulcast layer it receives (the only one when not simulcast) */
  private readonly layerSwitch: LayerSwitch;
  private packets = 0;
  private bytes = 0;
  /** sentAndLost() while its losses after a resume are not counted, and what was left out since */
  private countsAtResume: { sent: number; lost: number } | undefined;
  private resumeGraceUntil = 0;
  private uncounted = { sent: 0, lost: 0 };
  private nacksReceived = 0;
  private keyframeRequests = 0;
  private keyframesForLoss = 0;
  private lostKeyframeAt = -Infinity;
  /** video mapped before DTLS was up, from a keyframe on (see forward) */
  private early: { header: RtpHeader; payload: Buffer }[] = [];
  /** the newest packet sent ended a frame: padding may follow it */
  private atFrameEnd = false;
  private newestSeq: number | undefined;
  /** payload type of the publisher's latest video packet, and its codec */
  private inPayloadType = -1;
  private inCodec: VideoCodec | undefined;
  /** the subscriber's codecs (replaced by werift on each negotiation) and our pick among them */
  private codecsSeen: RTCRtpCodecParameters[] | undefined;
  private outCodec: RTCRtpCodecParameters | undefined;
  /** the subscriber's RTX payload type for outCodec, if it accepted RTX */
  private outRtx: number | undefined;
  /** video packets dropped because the subscriber did not accept the publisher's codec */
  private undecodable = 0;
  /** header-extension id of ssrc-audio-level on the subscriber m-line, if negotiated */
  private readonly audioLevelId: number | undefined;
  /** header-extension id of abs-send-time on the subscriber m-line, if negotiated (video) */
  private readonly absSendTimeId: number | undefined;
  /** header-extension id of the transport-wide sequence number, which only probe padding carries */
  private readonly wideSeqId: number | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    readonly track: PublishedTrack,
    readonly transceiver: RTCRtpTransceiver,
    /** owned by the subscriber m-line, so numbering continues when the m-line is reused */
    private readonly rewriter: SeqTsRewriter,
  ) {
    rewriter.reset();
    this.layerSwitch = new LayerSwitch(track.kind, rewriter, (layer) => track.requestKeyframe(layer));
    this.layerSwitch.setTarget(track.layers.length - 1);
    this.audioLevelId = transceiver.headerExtensions.find((e) => e.uri === RTP_EXTENSION_URI.audioLevelIndication)?.id;
    this.absSendTimeId = transceiver.headerExtensions.find((e) => e.uri === RTP_EXTENSION_URI.absSendTime)?.id;
    this.wideSeqId = track.kind === 'video' ? transceiver.headerExtensions.find((e) => e.uri === RTP_EXTENSION_URI.transportWideCC)?.id : undefined;
    const sender = transceiver.sender;
    const pli = sender.onPictureLossIndication.subscribe(() => this.onKeyframeRequest());
    const nack = sender.onGenericNack.subscribe(() => {
      this.nacksReceived++;
    });
    this.unsubscribers.push(pli.unSubscribe, nack.unSubscribe);
    if (track.kind === 'video') onLostForGood(sender, () => this.onLostForGood(performance.now()));
    track.addDownTrack(this);
    // The new subscriber needs a keyframe to decode anything (on a transport still connecting,
    // the first packet that is not one asks: see forward).
    if (this.dtlsUp) this.requestKeyframe();
  }

  get mid(): string {
    return this.transceiver.mid ?? '';
  }

  get senderSsrc(): number {
    return this.transceiver.sender.ssrc;
  }

  /**
   * The source paused and resumes (HeldSources): the next packet starts a new stretch that
   * continues this m-line's numbering, on a keyframe for video.
   */
  restartStream(): void {
    this.newStretch();
  }

  /** The next packet starts a new stretch on a keyframe; what was held before DTLS was up belonged to the one that ends. */
  private newStretch(): void {
    this.early = [];
    this.layerSwitch.restart();
  }

  /** werift drops what is sent before DTLS is up. */
  private get dtlsUp(): boolean {
    return this.transceiver.sender.dtlsTransport?.state === 'connected';
  }

  /** The simulcast layer it receives now (undefined: none yet), and the one it moves to. */
  get layer(): { current: number | undefined; target: number } {
    return { current: this.layerSwitch.currentLayer, target: this.layerSwitch.targetLayer };
  }

  /**
   * Packets sent to the subscriber so far, and how many of them it reported lost (RTCP RR,
   * cumulative), both still for a while after a resume (`now`: performance.now()).
   */
  sentAndLost(now: number): { sent: number; lost: number } {
    // werift's RTCRtpSender keeps the RR's count in a field its types call private (signed by werift-rtcp.ts).
    const lost = (this.transceiver.sender as unknown as { remotePacketsLost?: number }).remotePacketsLost ?? 0;
    if (this.countsAtResume) {
      if (now < this.resumeGraceUntil) return this.countsAtResume;
      this.uncounted = { sent: this.packets - this.countsAtResume.sent, lost: lost - this.countsAtResume.lost };
      this.countsAtResume = undefined;
    }
    return { sent: this.packets - this.uncounted.sent, lost: lost - this.uncounted.lost };
  }

  /** Moves to another simulcast layer at its next keyframe (the allocator's choice). */
  setLayer(layer: number): void {
    this.layerSwitch.setTarget(Math.max(0, Math.min(layer, this.track.layers.length - 1)));
  }

  /**
   * Stops or resumes forwarding to this subscriber (last-N) without a renegotiation: the m-line
   * stays. A resume continues the numbering and starts on a keyframe, asked for now.
   */
  setPaused(paused: boolean): void {
    if (paused === this.paused || this.closed) return;
    this.paused = paused;
    if (paused) {
      this.early = []; // (held before DTLS was up: it belongs to the stretch that ends here)
      return;
    }
    // Packets lost just before the pause (in a full queue, often the reason for it) are counted
    // by the subscriber only once newer ones arrive: its first reports after a resume blame the
    // resume for them.
    const now = performance.now();
    this.countsAtResume ??= this.sentAndLost(now);
    this.resumeGraceUntil = now + RESUME_GRACE_MS;
    this.newStretch();
    this.track.requestKeyframe(this.layerSwitch.targetLayer);
  }

  onKeyframeRequest(): void {
    if (this.paused) return; // a frozen picture is expected; the resume asks for a keyframe
    this.keyframeRequests++;
    this.requestKeyframe();
  }

  /**
   * A packet the subscriber still asks for after its last resend (werift-nack-limit.ts): no picture
   * until a keyframe, which it would ask for only after ~3 s. Asked now, at most once per
   * LOST_KEYFRAME_GAP_MS (a congested link loses many; its keyframes cost it too).
   */
  onLostForGood(now: number): void {
    if (this.paused || this.closed || now - this.lostKeyframeAt < LOST_KEYFRAME_GAP_MS) return;
    this.lostKeyframeAt = now;
    this.keyframesForLoss++;
    if (this.ctx.settings.debugLog) this.ctx.log('debug', 'keyframe for a packet lost for good', { peer: this.track.peerId, mid: this.mid, layer: this.layerSwitch.currentLayer });
    this.requestKeyframe();
  }

  /** Asks the publisher for a keyframe of the layer this subscriber receives (or moves to). */
  requestKeyframe(): void {
    this.track.requestKeyframe(this.layerSwitch.currentLayer ?? this.layerSwitch.targetLayer);
  }

  /** One packet of the track, from simulcast layer `layer` (`codec`: a video packet's). */
  forward(rtp: RtpPacket, level: AudioLevel | undefined, layer: number, codec: VideoCodec | undefined, now: number): void {
    if (this.closed || this.paused) return;
    const h = rtp.header;
    // Before DTLS is up werift drops what we send. Audio from then would be stale; video is held
    // from its keyframe on and goes out once DTLS is up (`transportUp`), so that a new
    // subscriber's first picture does not wait for a keyframe asked for only then (the request
    // goes out with the first packet that is not one, while DTLS still shakes hands).
    const connected = this.dtlsUp;
    if (!connected && this.track.kind !== 'video') return;
    if (this.track.kind === 'video' && !this.pickVideoCodec(h.payloadType, codec)) {
      this.undecodable++;
      return;
    }
    const mapped = this.layerSwitch.map(h, rtp.payload, layer, codec, now);
    if (!mapped) return;
    const { seq, ts } = mapped;
    const payload = codec === 'vp8' ? this.rewriter.pictures.rewrite(rtp.payload) : rtp.payload;

    // A fresh header per subscriber: werift's RTCRtpSender mutates it (SSRC, payload type,
    // extensions) and keeps the packet in its NACK history, so it cannot be shared.
    const header = new RtpHeader();
    header.marker = h.marker;
    header.payloadType = h.payloadType;
    header.sequenceNumber = seq;
    header.timestamp = ts;
    header.ssrc = h.ssrc;
    // werift's parser took any padding off the payload, and its sender writes the payload only:
    // a P bit copied here would make the subscriber cut the end off the frame.
    // Only the newest packet says whether a frame just ended (a late one says nothing about it).
    if (this.newestSeq === undefined || seqNewer(seq, this.newestSeq)) {
      this.newestSeq = seq;
      this.atFrameEnd = h.marker;
    }
    if (!connected) return this.hold(header, payload);
    if (this.early.length > 0) this.sendHeld();
    // The publisher's extension ids mean nothing on the subscriber m-line: drop them all, then
    // carry the audio level under the subscriber's id (werift adds the mid itself).
    const extensions =
      level && this.audioLevelId !== undefined
        ? [{ id: this.audioLevelId, payload: AUDIO_LEVEL_PAYLOADS[((level.v ? 1 : 0) << 7) | (level.level & 0x7f)] }]
        : this.sendTime();
    this.send(header, extensions, payload);
  }

  /** Keeps a video packet mapped before DTLS was up; too many (DTLS slow to come): from the next keyframe again. */
  private hold(header: RtpHeader, payload: Buffer): void {
    if (this.early.length >= EARLY_MAX) return this.newStretch();
    this.early.push({ header, payload });
  }

  /** Sends the video held before DTLS was up, stamped with the time it goes. */
  private sendHeld(): void {
    const held = this.early;
    this.early = [];
    for (const { header, payload } of held) this.send(header, this.sendTime(), payload);
  }

  /**
   * The subscriber's transport is up, the first time or again after a drop: what was held goes
   * out; a stream already running gets a fresh keyframe. One that has none yet asks with its
   * next packet (LayerSwitch.map), or already did.
   */
  transportUp(): void {
    // (DTLS not up yet, whatever the transport said: the next packet once it is sends the held ones.)
    if (this.closed || this.paused || !this.dtlsUp) return;
    if (this.early.length > 0) this.sendHeld();
    else if (this.layerSwitch.currentLayer !== undefined) this.requestKeyframe();
  }

  /** Whether its padding can carry a probe cluster's sequence numbers (the subscriber negotiated them). */
  get probes(): boolean {
    return this.wideSeqId !== undefined;
  }

  /**
   * Up to `count` padding-only packets (`PADDING_PAYLOAD`), if the newest packet sent ended a
   * frame (padding inside a frame would break it); how many were sent. `wideSeq`: a probe
   * cluster's, each packet carries the transport-wide sequence number it gives.
   */
  sendPadding(count: number, wideSeq?: () => number): number {
    if (this.closed || this.paused || this.track.kind !== 'video' || !this.atFrameEnd || count <= 0) return 0;
    if (wideSeq && this.wideSeqId === undefined) return 0;
    if (!this.dtlsUp || !this.outCodec) return 0;
    const numbers = this.layerSwitch.insertPadding(count);
    if (!numbers) return 0;
    for (let i = 0; i < count; i++) {
      const header = new RtpHeader();
      header.payloadType = this.outCodec.payloadType;
      header.sequenceNumber = (numbers.firstSeq + i) & 0xffff;
      header.timestamp = numbers.ts;
      header.padding = true;
      const extensions = this.sendTime();
      if (wideSeq) extensions.push({ id: this.wideSeqId!, payload: serializeTransportWideCC(wideSeq()) });
      this.send(header, extensions, PADDING_PAYLOAD);
    }
    this.newestSeq = (numbers.firstSeq + count - 1) & 0xffff;
    return count;
  }

  /** Our abs-send-time, for a video m-line that negotiated it. */
  private sendTime(): { id: number; payload: Buffer }[] {
    return this.absSendTimeId !== undefined ? [{ id: this.absSendTimeId, payload: absSendTime() }] : [];
  }

  private send(header: RtpHeader, extensions: { id: number; payload: Buffer }[], payload: Buffer): void {
    header.extensionProfile = ONE_BYTE_PROFILE;
    header.extensions = extensions;
    header.extension = extensions.length > 0;
    const packet = new RtpPacket(header, payload);
    this.packets++;
    const size = payload.length + 12;
    this.bytes += size;
    this.ctx.counters.packetsOut++;
    this.ctx.counters.bytesOut += size;
    this.transceiver.sender.sendRtp(packet).catch(() => {
      // a send on a closing transport; nothing to do
    });
  }

  /**
   * Sends the packet under the subscriber's payload type for the publisher's codec: werift's
   * sender writes `sender.codec`'s payload type on every packet, and after each negotiation
   * sets it to the first codec of the answer. False when the subscriber did not accept that
   * codec (it cannot decode it: the room then moves the publisher to VP8, see SfuRoom).
   * A codec switch (the publisher renegotiated) restarts the stream on a keyframe.
   */
  private pickVideoCodec(payloadType: number, codec: VideoCodec | undefined): boolean {
    const sender = this.transceiver.sender;
    if (payloadType !== this.inPayloadType) {
      if (codec !== this.inCodec) {
        if (this.inCodec !== undefined) this.newStretch();
        this.codecsSeen = undefined;
      }
      this.inPayloadType = payloadType;
      this.inCodec = codec;
    }
    if (this.codecsSeen !== this.transceiver.codecs) {
      this.codecsSeen = this.transceiver.codecs;
      this.outCodec = this.inCodec && this.transceiver.codecs.find((c) => videoCodecOf(c.mimeType) === this.inCodec);
      this.outRtx = this.outCodec && rtxPayloadTypeFor(this.transceiver.codecs, this.outCodec.payloadType);
    }
    if (!this.outCodec) return false;
    if (sender.codec !== this.outCodec) sender.codec = this.outCodec;
    // werift wraps a resend in RTX under this payload type (it sets one itself for its first codec only).
    const rtx = sender as unknown as { rtxPayloadType?: number };
    if (rtx.rtxPayloadType !== this.outRtx) rtx.rtxPayloadType = this.outRtx;
    return true;
  }

  stats(): DownTrackStats {
    let retransmitted = 0;
    for (const s of this.transceiver.sender.collectStats(Date.now())) {
      if (s.type === 'outbound-rtp' && 'retransmittedPacketsSent' in s) {
        retransmitted += Number(s.retransmittedPacketsSent ?? 0);
      }
    }
    return {
      mid: this.mid,
      peerId: this.track.peerId,
      source: this.track.source,
      kind: this.track.kind,
      packets: this.packets,
      bytes: this.bytes,
      nacksReceived: this.nacksReceived,
      retransmitted,
      rtxPayloadType: this.outRtx,
      keyframeRequests: this.keyframeRequests,
      keyframesForLoss: this.keyframesForLoss,
      codec: this.outCodec?.mimeType ?? (this.track.kind === 'audio' ? this.transceiver.sender.codec?.mimeType : undefined),
      undecodable: this.undecodable,
      layer: this.layerSwitch.currentLayer,
      targetLayer: this.layerSwitch.targetLayer,
      paused: this.paused,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers.length = 0;
    this.track.removeDownTrack(this);
  }
}
