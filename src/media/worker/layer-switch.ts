// Which packets of a published track one receiver (a subscriber's m-line, a recording) gets: one
// simulcast layer at a time, switched on a keyframe of the new layer so that the picture never
// breaks, renumbered into one continuous stream (SeqTsRewriter).
import type { RtpHeader } from 'werift';
import type { TrackKind } from '../types.js';
import { isKeyframeStart, type VideoCodec } from './codecs.js';
import type { SeqTsRewriter } from './down-track.js';

export class LayerSwitch {
  /** the layer forwarded now (undefined: none yet, or restarting on a keyframe) */
  private current: number | undefined;
  /** the layer wanted; forwarding moves to it at its next keyframe */
  private wanted = 0;

  constructor(
    private readonly kind: TrackKind,
    private readonly rewriter: SeqTsRewriter,
    /** asks the publisher for a keyframe on a layer (rate-limited by the track) */
    private readonly requestKeyframe: (layer: number) => void,
  ) {}

  get currentLayer(): number | undefined {
    return this.current;
  }

  get targetLayer(): number {
    return this.wanted;
  }

  /** Moves to `layer` at its next keyframe (asked for now); the current one flows until then. */
  setTarget(layer: number): void {
    if (layer === this.wanted) return;
    this.wanted = layer;
    if (layer !== this.current) this.requestKeyframe(layer);
  }

  /** The next packet starts a new stretch (continuing the numbering), on a keyframe for video. */
  restart(): void {
    this.rewriter.reset();
    this.current = undefined;
  }

  /** Numbers for `count` padding packets right after the newest packet sent (none yet: undefined). */
  insertPadding(count: number): { firstSeq: number; ts: number } | undefined {
    return this.current === undefined ? undefined : this.rewriter.insert(count);
  }

  /** The outgoing sequence number and timestamp of a packet, or undefined when it is not forwarded. */
  map(h: RtpHeader, payload: Uint8Array, layer: number, codec: VideoCodec | undefined, now: number): { seq: number; ts: number } | undefined {
    const current = this.kind === 'audio' || layer === this.current;
    if (payload.length === 0) {
      // Padding only (the publisher probing its uplink): meant for its own link, not the
      // subscriber's, which may be the weak one. Not sent, and no gap left in the numbering.
      if (current && !this.rewriter.isNewSource(h.ssrc)) this.rewriter.drop(h.sequenceNumber);
      return undefined;
    }
    if (this.kind === 'audio') {
      if (this.rewriter.isNewSource(h.ssrc)) this.rewriter.start(h.ssrc, h.sequenceNumber, h.timestamp, now);
      return this.rewriter.map(h.sequenceNumber, h.timestamp, now);
    }
    if (current && !this.rewriter.isNewSource(h.ssrc)) return this.rewriter.map(h.sequenceNumber, h.timestamp, now);
    if (layer !== this.wanted) return undefined;
    // A new layer, or the first packet, or a new publisher SSRC: only from a keyframe on, since
    // nothing before it can be decoded and it would only make the subscriber ask again.
    if (!codec || !isKeyframeStart(codec, payload)) {
      this.requestKeyframe(layer);
      return undefined;
    }
    this.rewriter.start(h.ssrc, h.sequenceNumber, h.timestamp, now);
    this.current = layer;
    return this.rewriter.map(h.sequenceNumber, h.timestamp, now);
  }
}
