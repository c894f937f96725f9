// The subscriber transport of one participant: we offer one sendonly m-line per track of the
// others, the client answers. Owns the m-lines (slots), their DownTracks and the negotiation.
import { EventEmitter } from 'node:events';
import {
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  type RTCDtlsTransport,
  type RTCPeerConnection,
  type RTCRtpTransceiver,
  type RtcpPacket,
} from 'werift';
import { MediaError, type DownTrackStats, type IceCandidateInit, type SubscribedTrack, type SubscriberOffer, type TrackKind, type VideoSize } from '../types.js';
import { videoCodecOf } from './codecs.js';
import type { WorkerContext } from './context.js';
import { CLOCK_RATE, DownTrack, PADDING_PAYLOAD, SeqTsRewriter } from './down-track.js';
import type { SubscriberTransportEvents } from './peer-types.js';
import type { PublishedTrack } from './published-track.js';
import { ReportedLoss } from './loss.js';
import type { ClusterRequest } from './bandwidth-allocator.js';
import { PausedVideos } from './paused-videos.js';
import type { ProbeOptions } from './probe-cluster.js';
import { ProbeSender, type ProbeOutcome } from './probe-sender.js';
import { keepInactiveSectionsAlive, sanitizeRemoteSdp } from './sdp.js';
import { createPeerConnection, reportedStateChanges } from './webrtc.js';

/** How often padding goes out, and the wire size of one padding packet (RTP, SRTP, UDP/IP). */
const PADDING_TICK_MS = 20;
const PADDING_WIRE_BYTES = PADDING_PAYLOAD.length + 12 + 8 + 10 + 28;

/** Coalesces the track changes of one burst (a peer publishing audio + video) into one offer. */
const NEGOTIATION_DELAY_MS = 20;
const FIR_FMT = 4;

/** A subscriber m-line and what it currently carries. */
interface Slot {
  transceiver: RTCRtpTransceiver;
  /** null once the track went away: the m-line is inactive */
  track: PublishedTrack | null;
  /** present once the client's answer for this m-line is applied */
  down: DownTrack | undefined;
  /** one numbering per m-line, across the tracks it carries over time */
  rewriter: SeqTsRewriter;
  /** version of the offer that made this m-line inactive */
  freedIn: number | undefined;
}

/** msid stream ids must be SDP tokens; the tracks list, not this, is authoritative. */
function streamIdFor(track: PublishedTrack): string {
  const base = track.peerId.replace(/[^A-Za-z0-9._~+-]/g, '_').slice(0, 48) || 'peer';
  return track.source === 'screen' ? `${base}-screen` : base;
}

export class SubscriberTransport extends EventEmitter<SubscriberTransportEvents> {
  private readonly pc: RTCPeerConnection;
  /** tracks of other peers this peer should receive */
  private readonly wanted = new Set<PublishedTrack>();
  private readonly slots: Slot[] = [];
  /**
   * Whether the client decodes H.264, from its answers: every video m-line of our offers lists
   * VP8 and H.264, and an answer keeps only what the browser decodes. Unknown before the first
   * answer with a video m-line.
   */
  receivesH264: boolean | undefined;
  private negotiating = false;
  private needsNegotiation = false;
  private negotiationTimer: NodeJS.Timeout | undefined;
  private offerVersion = 0;
  /** The next offer restarts ICE (new credentials): the browser asked, its network changed. */
  private iceRestartWanted = false;
  /** The offer being negotiated now has new ICE credentials. */
  private offerRestartsIce = false;
  private answeredVersion = 0;
  private lastOffer: SubscriberOffer | undefined;
  private readonly knownTransports = new WeakSet<RTCDtlsTransport>();
  /** What it lost lately of the video sent to it (its receiver reports). */
  private readonly videoLoss = new ReportedLoss();
  /** The videos this peer does not receive now (last-N, its link), and the layer of the others. */
  private readonly paused: PausedVideos;
  private closed = false;
  private readonly stopWatching: () => void;
  private paddingTimer: NodeJS.Timeout | undefined;
  /** bytes of padding owed (a tick where no video was between frames sends them later) */
  private paddingOwed = 0;
  private readonly probes = new ProbeSender(PADDING_WIRE_BYTES);
  /** a test's own cluster (probeForTest) waits for its verdict; the allocator never sees it */
  private testProbe: ((outcome: ProbeOutcome) => void) | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly peerId: string,
  ) {
    super();
    this.paused = new PausedVideos(
      (videos) => this.emit('videoPaused', videos),
      ctx.settings.debugLog ? (d, changed) => ctx.log(changed ? 'debug' : 'trace', 'video layers chosen', { peer: peerId, ...d }) : undefined,
      ctx.settings.traceLog === true,
    );
    this.pc = createPeerConnection(ctx.settings, { absSendTime: true, rtx: true, probes: true });
    this.stopWatching = reportedStateChanges(this.pc, (state) => {
      if (this.closed) return;
      // Connected, or heard again after a drop or an ICE restart: a picture on every m-line.
      if (state === 'connected') {
        for (const slot of this.slots) if (slot.down && !this.paused.isPaused(slot.down.track)) slot.down.transportUp();
      }
      this.emit('connectionState', state);
    });
    // Gives the transport something to connect even before anyone publishes.
    this.pc.createDataChannel('parley');
  }

  /** Tracks forwarded to this peer now (m-lines whose answer is applied). */
  get forwardedCount(): number {
    let forwarded = 0;
    for (const slot of this.slots) if (slot.down) forwarded++;
    return forwarded;
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  get dtlsTransports(): readonly RTCDtlsTransport[] {
    return this.pc.dtlsTransports;
  }

  /** Kind of the track an m-line of ours currently sends under this SSRC, if any. */
  kindOfSenderSsrc(ssrc: number): TrackKind | undefined {
    return this.slots.find((s) => s.transceiver.sender.ssrc === ssrc)?.track?.kind;
  }

  /** Starts the first negotiation at once (the transport connects before anyone publishes). */
  start(): void {
    this.scheduleNegotiation(0);
  }

  subscribe(track: PublishedTrack): void {
    if (this.closed || this.wanted.has(track)) return;
    this.wanted.add(track);
    this.scheduleNegotiation();
  }

  unsubscribe(track: PublishedTrack): void {
    if (!this.wanted.delete(track)) return;
    for (const slot of this.slots) {
      if (slot.track !== track) continue;
      // Stop forwarding now; the m-line goes inactive with the next offer.
      slot.down?.close();
      slot.down = undefined;
    }
    this.scheduleNegotiation();
  }

  /** Last-N: the publishers whose camera this peer does not receive now (the m-lines stay). */
  setPausedCameras(peerIds: ReadonlySet<string>): void {
    this.paused.setLastN(peerIds);
    this.applyPauses();
  }

  /**
   * What this peer's link carries now among the videos it receives (its REMB), the most
   * important first (`priorityOf`, lower first); audio always goes.
   */
  allocate(priorityOf: (track: PublishedTrack) => number, now: number): void {
    const forwarded = this.slots.flatMap((s) => (s.down ? [s.down.track] : []));
    // The browser's REMB covers the video m-lines only (only they carry abs-send-time): it is
    // what is left for video beside the audio, which always flows. So no audio is counted here.
    const audio = 0;
    // What it lost lately of the video it was sent, all m-lines together.
    let sent = 0;
    let lost = 0;
    for (const slot of this.slots) {
      if (slot.down?.track.kind !== 'video') continue;
      const counts = slot.down.sentAndLost(now);
      sent += counts.sent;
      lost += counts.lost;
    }
    // (An m-line that closes or changes track lowers the sums once: that sample counts nothing.)
    this.paused.setLoss(this.videoLoss.sample(sent, lost));
    const probed = this.probes.poll(now);
    if (probed && this.testProbe) {
      this.testProbe(probed);
      this.testProbe = undefined;
    } else if (probed) {
      this.paused.clusterResult(probed.verdict, probed.testedBps, now);
      if (this.ctx.settings.debugLog) this.ctx.log('debug', 'probe cluster', { peer: this.peerId, verdict: probed.verdict, testedBps: probed.testedBps, ...probed.summary });
    }
    this.paused.allocate(forwarded.filter((t) => t.kind === 'video'), audio, priorityOf, now);
    this.applyPauses();
    this.pad();
    this.probe(now);
  }

  /** Starts the probe cluster the allocator asks for, on the video m-lines that can carry it. */
  private probe(now: number): void {
    const wanted = this.paused.clusterWanted;
    if (!wanted || !this.probes.idle || this.closed || this.testProbe || !this.canProbe) return;
    this.paused.clusterStarted(now);
    this.startCluster(wanted, now);
  }

  /**
   * Test hook (entry.ts's `testProbe`, only with testHooks): a cluster of `paddingBps` now,
   * whatever the allocator wants; its verdict once known. Whether a browser answers at all.
   */
  async probeForTest(paddingBps: number): Promise<ProbeOutcome> {
    for (let waited = 0; !this.probes.idle || !this.canProbe; waited += 100) {
      if (this.closed || waited >= 10_000) throw new MediaError('invalid_state', 'no probe cluster can be sent to this peer now');
      await new Promise((r) => setTimeout(r, 100));
    }
    return new Promise((resolve) => {
      this.testProbe = resolve;
      // Judged at its end only: the test asks whether the browser answers every packet, and a
      // loaded machine's own delays (29 ms seen in CI, on loopback) would end the cluster early.
      this.startCluster({ testedBps: paddingBps, paddingBps }, performance.now(), { delayGrowthUs: Number.POSITIVE_INFINITY });
    });
  }

  /** Whether a video m-line negotiated the numbered padding a cluster needs. */
  private get canProbe(): boolean {
    return this.slots.some((s) => s.down?.probes);
  }

  private startCluster(request: ClusterRequest, now: number, options?: Partial<ProbeOptions>): void {
    this.probes.start(request, now, (count, wideSeq) => {
      let sent = 0;
      for (const slot of this.slots) {
        if (sent >= count) break;
        if (slot.down?.probes) sent += slot.down.sendPadding(count - sent, wideSeq);
      }
      return sent;
    }, options);
  }

  /** Sends the padding the allocator asks for (its estimate can then grow), paced. */
  private pad(): void {
    if (this.paused.paddingBps <= 0 || this.closed) {
      clearInterval(this.paddingTimer);
      this.paddingTimer = undefined;
      this.paddingOwed = 0;
      return;
    }
    if (this.paddingTimer) return;
    this.paddingTimer = setInterval(() => {
      const bps = this.paused.paddingBps;
      // At most 100 ms owed: a stretch without a frame boundary must not end in a burst.
      this.paddingOwed = Math.min(this.paddingOwed + (bps * PADDING_TICK_MS) / 8000, bps / 80);
      let count = Math.floor(this.paddingOwed / PADDING_WIRE_BYTES);
      for (const slot of this.slots) {
        if (count <= 0) break;
        if (slot.down?.track.kind !== 'video') continue;
        const sent = slot.down.sendPadding(count);
        count -= sent;
        this.paddingOwed -= sent * PADDING_WIRE_BYTES;
      }
    }, PADDING_TICK_MS);
  }

  /** What the page shows each video in: a small tile gets a low simulcast layer. */
  setVideoSizes(sizes: readonly VideoSize[]): void {
    this.paused.setVideoSizes(sizes);
  }

  private applyPauses(): void {
    const forwarded = this.slots.flatMap((s) => (s.down ? [s.down] : []));
    for (const down of forwarded) {
      down.setPaused(this.paused.isPaused(down.track));
      const layer = this.paused.layerOf(down.track);
      if (layer !== undefined) down.setLayer(layer);
    }
    this.paused.report(forwarded.map((d) => d.track));
  }

  private scheduleNegotiation(delay = NEGOTIATION_DELAY_MS): void {
    if (this.closed) return;
    if (this.negotiating) {
      this.needsNegotiation = true;
      return;
    }
    if (this.negotiationTimer) return;
    this.negotiationTimer = setTimeout(() => {
      this.negotiationTimer = undefined;
      this.negotiate().catch((error: unknown) => {
        this.negotiating = false;
        if (this.closed) return;
        this.ctx.log('error', 'subscriber negotiation failed', {
          peerId: this.peerId,
          error: error instanceof Error ? error.stack : String(error),
        });
      });
    }, delay);
  }

  private async negotiate(): Promise<void> {
    if (this.closed) return;
    this.negotiating = true;
    this.needsNegotiation = false;
    const version = this.offerVersion + 1;
    for (const slot of this.slots) {
      if (slot.track && !this.wanted.has(slot.track)) {
        slot.down?.close();
        slot.down = undefined;
        slot.track = null;
        slot.freedIn = version;
        slot.transceiver.setDirection('inactive');
      }
    }
    const carried = new Set(this.slots.map((s) => s.track));
    for (const track of this.wanted) {
      if (carried.has(track)) continue;
      // Reuse an m-line the client already saw go inactive, rather than growing the SDP with
      // every join. One freed in this very offer is not taken: the client must see the old
      // track end before a new one starts on that m-line.
      let slot = this.slots.find(
        (s) => !s.track && s.transceiver.kind === track.kind && s.freedIn !== undefined && s.freedIn <= this.answeredVersion,
      );
      if (slot) {
        slot.track = track;
        slot.freedIn = undefined;
        slot.transceiver.setDirection('sendonly');
      } else {
        const transceiver = this.pc.addTransceiver(track.kind, { direction: 'sendonly' });
        slot = { transceiver, track, down: undefined, rewriter: new SeqTsRewriter(CLOCK_RATE[track.kind]), freedIn: undefined };
        this.slots.push(slot);
      }
      slot.transceiver.sender.streamId = streamIdFor(track);
    }
    const iceRestart = this.iceRestartWanted;
    this.iceRestartWanted = false;
    this.offerRestartsIce = iceRestart;
    const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await this.ctx.gather(() => this.pc.setLocalDescription(offer));
    if (this.closed) return;
    this.watchNewDtlsTransports();
    const tracks: SubscribedTrack[] = [];
    for (const slot of this.slots) {
      if (!slot.track || !slot.transceiver.mid) continue;
      tracks.push({
        mid: slot.transceiver.mid,
        peerId: slot.track.peerId,
        source: slot.track.source,
        kind: slot.track.kind,
      });
    }
    this.offerVersion = version;
    const sdp = keepInactiveSectionsAlive(this.pc.localDescription?.sdp ?? '');
    this.lastOffer = { sdp, tracks, version };
    this.emit('offer', this.lastOffer);
  }

  async answer(answerSdp: string): Promise<void> {
    this.assertOpen();
    if (!this.negotiating || !this.lastOffer) {
      throw new MediaError('invalid_state', 'no subscriber offer is waiting for an answer');
    }
    const { sdp } = sanitizeRemoteSdp(answerSdp);
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (error) {
      this.assertOpen();
      throw new MediaError('invalid', `subscriber answer rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.negotiating = false;
    this.learnVideoCodecs();
    this.answeredVersion = this.lastOffer.version;
    this.lastOffer = undefined;
    // Start forwarding on the m-lines the client has now accepted.
    for (const slot of this.slots) {
      if (slot.track && !slot.down && this.wanted.has(slot.track) && slot.track.forwarded) {
        slot.down = new DownTrack(this.ctx, slot.track, slot.transceiver, slot.rewriter);
        if (this.paused.isPaused(slot.track)) slot.down.setPaused(true);
      }
    }
    if (this.needsNegotiation) this.scheduleNegotiation();
  }

  /**
   * Re-sends the offer waiting for an answer, or starts a new negotiation. With `iceRestart`, the
   * next offer has new ICE credentials; if one is waiting for an answer, that one is re-sent and
   * the restart follows its answer (one offer at a time).
   */
  requestOffer(iceRestart = false): void {
    this.assertOpen();
    if (this.negotiating) {
      // The offer waiting for an answer has fresh credentials already when it restarts ICE
      // itself: a second restart right after it would only restart the checks it starts.
      if (iceRestart && !this.offerRestartsIce) {
        this.iceRestartWanted = true;
        this.needsNegotiation = true;
      }
      if (this.lastOffer) this.emit('offer', this.lastOffer);
      return;
    }
    if (iceRestart) this.iceRestartWanted = true;
    this.scheduleNegotiation(0);
  }

  /**
   * PLI arrives per sender (werift routes it); FIR carries its target SSRC inside, so it is read
   * from the DTLS transport. Announces each new transport (`dtlsTransport` event).
   */
  private watchNewDtlsTransports(): void {
    for (const transport of this.pc.dtlsTransports) {
      if (this.knownTransports.has(transport)) continue;
      this.knownTransports.add(transport);
      transport.onRtcp.subscribe((packet: RtcpPacket) => {
        this.probes.onRtcp(packet);
        if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
        if (packet.feedback instanceof ReceiverEstimatedMaxBitrate) return this.paused.setEstimate(Number(packet.feedback.bitrate));
        // werift parses FIR (FMT 4) but does not export its class.
        const feedback = packet.feedback as { count: number; fir?: { ssrc: number }[] };
        if (feedback.count !== FIR_FMT || !feedback.fir) return;
        for (const entry of feedback.fir) {
          this.slots.find((s) => s.down?.senderSsrc === entry.ssrc)?.down?.onKeyframeRequest();
        }
      });
      this.emit('dtlsTransport', transport);
    }
  }

  /** A trickled client candidate (already checked). */
  async addIceCandidate(candidate: IceCandidateInit): Promise<void> {
    await this.pc.addIceCandidate(candidate).catch(() => undefined);
  }

  /** After an answer: what its video m-lines say about the client's decoders (receivesH264). */
  private learnVideoCodecs(): void {
    const video = this.slots.filter((s) => s.transceiver.kind === 'video');
    if (video.length === 0 || this.receivesH264 === false) return;
    const decodesH264 = video.every((s) => s.transceiver.codecs.some((c) => videoCodecOf(c.mimeType) === 'h264'));
    this.receivesH264 = decodesH264;
    if (!decodesH264) this.emit('lacksH264');
  }

  stats(): DownTrackStats[] {
    return this.slots.flatMap((s) => (s.down ? [s.down.stats()] : []));
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('closed', 'peer closed');
  }

  /** Stops forwarding and closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.negotiationTimer);
    clearInterval(this.paddingTimer);
    this.probes.close();
    for (const slot of this.slots) slot.down?.close();
    this.wanted.clear();
    this.stopWatching();
    await this.pc.close();
  }
}
