// One track a participant sends us, fanned out to the DownTracks of every subscriber.
import { RTP_EXTENSION_URI, RtpHeader, RtpPacket, type MediaStreamTrack, type RTCRtpTransceiver } from 'werift';
import type { PublishedTrackStats, TrackKind, TrackSource } from '../types.js';
import { videoCodecOf, type VideoCodec } from './codecs.js';
import type { WorkerContext } from './context.js';
import { CLOCK_RATE, SeqTsRewriter, type DownTrack } from './down-track.js';
import { LayerSwitch } from './layer-switch.js';
import { SequenceLoss } from './loss.js';
import { SimulcastLayer } from './simulcast-layer.js';
import { vp8KeyframeSize } from './vp8.js';

export interface AudioLevel {
  v: boolean;
  level: number;
}

/** Where a recorded track's packets also go (worker/recorder.ts). */
export type RecordTap = (rtp: RtpPacket) => void;

export class PublishedTrack {
  readonly kind: TrackKind;
  /** false while `canPublish` forbids the source: packets are counted, never forwarded */
  forwarded = false;
  /** muted on the server (HeldSources): packets are counted, never forwarded, subscribers kept */
  private held = false;
  private readonly downTracks = new Set<DownTrack>();
  private readonly unsubscribers: (() => void)[] = [];
  private readonly seenTracks = new WeakSet<MediaStreamTrack>();
  /** its streams: one, or its simulcast layers lowest first (the order of the publisher's rids) */
  readonly layers: readonly SimulcastLayer[];
  private closed = false;
  private packets = 0;
  private bytes = 0;
  private pliSent = 0;
  private nacksSent = 0;
  private readonly loss = new SequenceLoss();
  private recordTap: RecordTap | undefined;
  /** a recording of a simulcast video takes its best flowing layer, switched on keyframes */
  private recordSwitch: LayerSwitch | undefined;
  private readonly recordSsrc = (Math.random() * 0xffffffff) >>> 0;
  /** the codec of the latest video payload type (looked up once per change) */
  private lastPayloadType = -1;
  private lastCodec: VideoCodec | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    readonly peerId: string,
    readonly mid: string,
    readonly source: TrackSource,
    /** simulcast rids, lowest layer first (empty: one stream) */
    readonly rids: readonly string[],
    private readonly transceiver: RTCRtpTransceiver,
    private readonly onAudioLevel: (peerId: string, level: number) => void,
  ) {
    this.kind = source === 'microphone' ? 'audio' : 'video';
    const send = (layer: SimulcastLayer) => this.sendPli(layer);
    this.layers = rids.length > 0 ? rids.map((rid, i) => new SimulcastLayer(i, rid, send)) : [new SimulcastLayer(0, undefined, send)];
    // werift adds one MediaStreamTrack per SSRC it learns from the SDP; a renegotiation that
    // changes the SSRC adds another one, so listen to all of them.
    for (const track of transceiver.receiver.tracks) this.listen(track);
    const sub = transceiver.onTrack.subscribe((track) => this.listen(track));
    this.unsubscribers.push(sub.unSubscribe);
    const lost = transceiver.receiver.onPacketLost.subscribe((nack) => {
      this.nacksSent += nack.lost.length;
    });
    this.unsubscribers.push(lost.unSubscribe);
  }

  private listen(track: MediaStreamTrack): void {
    if (this.seenTracks.has(track)) return;
    this.seenTracks.add(track);
    // A simulcast layer arrives on the track of its rid (werift routes by the rid extension).
    const layer = this.rids.length > 0 ? this.rids.indexOf(track.rid ?? '') : 0;
    if (layer < 0) return;
    const { unSubscribe } = track.onReceiveRtp.subscribe((rtp, extensions) => this.onRtp(rtp, extensions, layer));
    this.unsubscribers.push(unSubscribe);
  }

  // werift types the parsed extensions as { [uri]: any }.
  private onRtp(rtp: RtpPacket, extensions: Record<string, unknown> | undefined, layer: number): void {
    if (this.closed) return;
    const now = performance.now();
    this.packets++;
    const size = rtp.payload.length + 12;
    this.bytes += size;
    this.ctx.counters.packetsIn++;
    this.ctx.counters.bytesIn += size;
    const stream = this.layers[layer]!;
    stream.received(rtp.header.ssrc, size, rtp.payload.length > 0, now);
    const codec = this.kind === 'video' ? this.payloadCodec(rtp.header.payloadType) : undefined;
    if (codec === 'vp8') {
      const picture = vp8KeyframeSize(rtp.payload);
      if (picture) {
        stream.width = picture.width;
        stream.height = picture.height;
      }
    }
    const lost = this.loss.observe(rtp.header.ssrc, rtp.header.sequenceNumber);
    if (lost > 0) this.ctx.counters.packetsLost += lost;
    else if (lost < 0) this.ctx.counters.packetsLate++;
    if (!this.forwarded || this.held) return;
    let level: AudioLevel | undefined;
    if (this.kind === 'audio') {
      level = extensions?.[RTP_EXTENSION_URI.audioLevelIndication] as AudioLevel | undefined;
      if (level) this.onAudioLevel(this.peerId, level.level);
    }
    for (const down of this.downTracks) down.forward(rtp, level, layer, codec, now);
    if (this.recordTap) this.record(rtp, layer, codec, now);
  }

  private payloadCodec(payloadType: number): VideoCodec | undefined {
    if (payloadType !== this.lastPayloadType) {
      this.lastPayloadType = payloadType;
      this.lastCodec = this.codecOf(payloadType);
    }
    return this.lastCodec;
  }

  private record(rtp: RtpPacket, layer: number, codec: VideoCodec | undefined, now: number): void {
    if (!this.recordSwitch) return this.recordTap?.(rtp);
    const mapped = this.recordSwitch.map(rtp.header, rtp.payload, layer, codec, now);
    if (!mapped) return;
    // One continuous stream for the file, whichever layer it comes from.
    const header = new RtpHeader();
    header.marker = rtp.header.marker;
    header.payloadType = rtp.header.payloadType;
    header.sequenceNumber = mapped.seq;
    header.timestamp = mapped.ts;
    header.ssrc = this.recordSsrc;
    this.recordTap?.(new RtpPacket(header, rtp.payload));
  }

  /** Also hands what is forwarded to a recording (undefined: stop). */
  setRecordTap(tap: RecordTap | undefined): void {
    this.recordTap = tap;
    this.recordSwitch = tap && this.rids.length > 0
      ? new LayerSwitch(this.kind, new SeqTsRewriter(CLOCK_RATE.video), (layer) => this.requestKeyframe(layer))
      : undefined;
    if (this.recordSwitch) this.recordSwitch.setTarget(this.bestFlowingLayer(performance.now()));
    if (tap) this.requestKeyframe(); // a recorded video starts on a keyframe
  }

  /** A keyframe for a recording: on the layer it takes (on all of them before it took one). */
  requestRecordedKeyframe(): void {
    this.requestKeyframe(this.recordSwitch?.currentLayer);
  }

  /** The highest layer flowing now (0 when none does). */
  bestFlowingLayer(now: number): number {
    for (let i = this.layers.length - 1; i > 0; i--) if (this.layers[i]!.flowing(now)) return i;
    return 0;
  }

  /**
   * Updates each layer's rate (the room calls it on a timer). A recording keeps the layer it took
   * while that flows, and moves up only from one that stopped: each move is a change of picture
   * size in the file.
   */
  sampleRates(now: number): void {
    for (const layer of this.layers) layer.sampleRate(now);
    const recorded = this.recordSwitch?.currentLayer;
    if (this.recordSwitch && (recorded === undefined || !this.layers[recorded]?.flowing(now))) {
      this.recordSwitch.setTarget(this.bestFlowingLayer(now));
    }
  }

  /** Muted on the server now (HeldSources). */
  get onHold(): boolean {
    return this.held;
  }

  setHeld(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    if (held) return;
    // Each subscriber continues its numbering after the gap; video waits for a keyframe.
    for (const down of this.downTracks) down.restartStream();
    this.recordSwitch?.restart();
    this.requestKeyframe();
  }

  addDownTrack(down: DownTrack): void {
    this.downTracks.add(down);
  }

  removeDownTrack(down: DownTrack): void {
    this.downTracks.delete(down);
  }

  /** The codec of a payload type this publisher sends (from its m-line's negotiated codecs). */
  codecOf(payloadType: number): VideoCodec | undefined {
    return videoCodecOf(this.transceiver.codecs.find((c) => c.payloadType === payloadType)?.mimeType);
  }

  /** The video codec the publisher sends: the first of our answer (JSEP), e.g. H.264 when it preferred it. */
  get videoCodec(): VideoCodec | undefined {
    return this.kind === 'video' ? videoCodecOf(this.transceiver.codecs[0]?.mimeType) : undefined;
  }

  /** SSRC of the latest packet of the first layer */
  get ssrc(): number | undefined {
    return this.layers[0]!.ssrc;
  }

  /**
   * Asks the publisher for a keyframe on one layer (all: undefined), at most once per
   * PLI_INTERVAL_MS per layer; a request inside the interval is remembered and sent when it
   * ends, so a new subscriber is never left waiting.
   */
  requestKeyframe(layer?: number): void {
    if (this.kind !== 'video' || this.closed) return;
    if (layer === undefined) for (const l of this.layers) l.pli.request();
    else this.layers[layer]?.pli.request();
  }

  private sendPli(layer: SimulcastLayer): boolean {
    if (this.closed) return false;
    const ssrc = layer.ssrc ?? (this.rids.length === 0 ? this.transceiver.receiver.tracks[0]?.ssrc : undefined);
    if (ssrc === undefined) return false;
    this.pliSent++;
    this.transceiver.receiver.sendRtcpPLI(ssrc).catch((error: unknown) => {
      this.ctx.log('warn', 'PLI send failed', { error: String(error) });
    });
    return true;
  }

  stats(): PublishedTrackStats {
    const now = performance.now();
    return {
      mid: this.mid,
      source: this.source,
      kind: this.kind,
      forwarded: this.forwarded,
      held: this.held,
      packets: this.packets,
      bytes: this.bytes,
      pliSent: this.pliSent,
      nacksSent: this.nacksSent,
      subscribers: this.downTracks.size,
      codec: this.transceiver.codecs[0]?.mimeType,
      layers: this.layers.map((l) => ({ rid: l.rid, flowing: l.flowing(now), kbps: Math.round(l.rateBps / 1000), width: l.width, height: l.height })),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const layer of this.layers) layer.close();
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers.length = 0;
    for (const down of [...this.downTracks]) down.close();
    this.downTracks.clear();
  }
}
