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

  /** The outgoing sequence number and timestamp of a packet, or undefined when it is not forwarded. */
  map(h: RtpHeader, payload: Uint8Array, layer: number, codec: VideoCodec | undefined, now: number): { seq: number; ts: number } | undefined {
    if (this.kind === 'audio') {
      if (this.rewriter.isNewSource(h.ssrc)) this.rewriter.start(h.ssrc, h.sequenceNumber, h.timestamp, now);
      return this.rewriter.map(h.sequenceNumber, h.timestamp, now);
    }
    if (layer === this.current && !this.rewriter.isNewSource(h.ssrc)) return this.rewriter.map(h.sequenceNumber, h.timestamp, now);
    // Padding (a publisher probing its uplink) on another layer: nothing to decode or wait for.
    if (layer !== this.wanted || payload.length === 0) return undefined;
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
