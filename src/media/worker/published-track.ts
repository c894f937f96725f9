// One track a participant sends us, fanned out to the DownTracks of every subscriber.
import { RTP_EXTENSION_URI, type MediaStreamTrack, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import type { PublishedTrackStats, TrackKind, TrackSource } from '../types.js';
import { videoCodecOf, type VideoCodec } from './codecs.js';
import type { WorkerContext } from './context.js';
import type { DownTrack } from './down-track.js';
import { KeyframeRequestLimiter } from './keyframe-limiter.js';
import { SequenceLoss } from './loss.js';

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
  /** SSRC of the latest packet, the target of PLIs */
  private mediaSsrc: number | undefined;
  private readonly pli = new KeyframeRequestLimiter(() => this.sendPli());
  private closed = false;
  private packets = 0;
  private bytes = 0;
  private pliSent = 0;
  private nacksSent = 0;
  private readonly loss = new SequenceLoss();
  private recordTap: RecordTap | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    readonly peerId: string,
    readonly mid: string,
    readonly source: TrackSource,
    private readonly transceiver: RTCRtpTransceiver,
    private readonly onAudioLevel: (peerId: string, level: number) => void,
  ) {
    this.kind = source === 'microphone' ? 'audio' : 'video';
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
    const { unSubscribe } = track.onReceiveRtp.subscribe((rtp, extensions) => this.onRtp(rtp, extensions));
    this.unsubscribers.push(unSubscribe);
  }

  // werift types the parsed extensions as { [uri]: any }.
  private onRtp(rtp: RtpPacket, extensions: Record<string, unknown> | undefined): void {
    if (this.closed) return;
    this.packets++;
    const size = rtp.payload.length + 12;
    this.bytes += size;
    this.ctx.counters.packetsIn++;
    this.ctx.counters.bytesIn += size;
    this.mediaSsrc = rtp.header.ssrc;
    const lost = this.loss.observe(rtp.header.ssrc, rtp.header.sequenceNumber);
    if (lost > 0) this.ctx.counters.packetsLost += lost;
    else if (lost < 0) this.ctx.counters.packetsLate++;
    if (!this.forwarded || this.held) return;
    let level: AudioLevel | undefined;
    if (this.kind === 'audio') {
      level = extensions?.[RTP_EXTENSION_URI.audioLevelIndication] as AudioLevel | undefined;
      if (level) this.onAudioLevel(this.peerId, level.level);
    }
    for (const down of this.downTracks) down.forward(rtp, level);
    this.recordTap?.(rtp);
  }

  /** Also hands what is forwarded to a recording (undefined: stop). */
  setRecordTap(tap: RecordTap | undefined): void {
    this.recordTap = tap;
    if (tap) this.requestKeyframe(); // a recorded video starts on a keyframe
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

  /** SSRC of the latest packet */
  get ssrc(): number | undefined {
    return this.mediaSsrc;
  }

  /**
   * Asks the publisher for a keyframe, at most once per PLI_INTERVAL_MS; a request inside the
   * interval is remembered and sent when it ends, so a new subscriber is never left waiting.
   */
  requestKeyframe(): void {
    if (this.kind !== 'video' || this.closed) return;
    this.pli.request();
  }

  private sendPli(): boolean {
    if (this.closed) return false;
    const ssrc = this.mediaSsrc ?? this.transceiver.receiver.tracks[0]?.ssrc;
    if (ssrc === undefined) return false;
    this.pliSent++;
    this.transceiver.receiver.sendRtcpPLI(ssrc).catch((error: unknown) => {
      this.ctx.log('warn', 'PLI send failed', { error: String(error) });
    });
    return true;
  }

  stats(): PublishedTrackStats {
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
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pli.close();
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers.length = 0;
    for (const down of [...this.downTracks]) down.close();
    this.downTracks.clear();
  }
}
