// One participant inside a worker: a publisher transport (client offers) and a subscriber
// transport (we offer), and the negotiation state of both.
import {
  RtcpPayloadSpecificFeedback,
  type RTCDtlsTransport,
  type RTCPeerConnection,
  type RTCRtpTransceiver,
  type RtcpPacket,
} from 'werift';
import {
  MediaError,
  type CanPublish,
  type HeldSources,
  type IceCandidateInit,
  type PeerStats,
  type PublishAnswer,
  type SubscribedTrack,
  type TrackSource,
  type TrackSources,
  type TransportRole,
  type TransportState,
} from '../types.js';
import type { WorkerContext } from './context.js';
import { CLOCK_RATE, DownTrack, SeqTsRewriter } from './down-track.js';
import { PublishedTrack } from './published-track.js';
import {
  fitAnswerToOffer,
  isAcceptableCandidate,
  isSending,
  keepInactiveSectionsAlive,
  parseMediaSections,
  sanitizeRemoteSdp,
} from './sdp.js';
import { createPeerConnection } from './webrtc.js';

/** Coalesces the track changes of one burst (a peer publishing audio + video) into one offer. */
const NEGOTIATION_DELAY_MS = 20;
const FIR_FMT = 4;

/** The room as seen by a peer. */
export interface PeerHost {
  readonly id: string;
  trackForwardingChanged(track: PublishedTrack): void;
  /** the track is gone for good; `wasForwarded`: subscribers had it */
  trackRemoved(track: PublishedTrack, wasForwarded: boolean): void;
  audioLevel(peerId: string, level: number): void;
}

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

function isHeld(held: HeldSources, source: TrackSource): boolean {
  return source === 'microphone' ? held.audio : source === 'camera' ? held.video : false;
}

export function allowedToPublish(canPublish: CanPublish, source: TrackSource): boolean {
  return source === 'microphone' ? canPublish.audio : source === 'camera' ? canPublish.video : canPublish.screen;
}

/** msid stream ids must be SDP tokens; the tracks list, not this, is authoritative. */
function streamIdFor(track: PublishedTrack): string {
  const base = track.peerId.replace(/[^A-Za-z0-9._~+-]/g, '_').slice(0, 48) || 'peer';
  return track.source === 'screen' ? `${base}-screen` : base;
}

export class SfuPeer {
  private pub: RTCPeerConnection | undefined;
  private readonly sub: RTCPeerConnection;
  private readonly published = new Map<string, PublishedTrack>();
  /** tracks of other peers this peer should receive */
  private readonly wanted = new Set<PublishedTrack>();
  private readonly slots: Slot[] = [];
  private readonly pendingPublisherCandidates: IceCandidateInit[] = [];
  private publishChain: Promise<unknown> = Promise.resolve();
  private negotiating = false;
  private needsNegotiation = false;
  private negotiationTimer: NodeJS.Timeout | undefined;
  private offerVersion = 0;
  private answeredVersion = 0;
  private lastOffer: { sdp: string; tracks: SubscribedTrack[]; version: number } | undefined;
  private readonly hookedTransports = new WeakSet<RTCDtlsTransport>();
  private readonly lastState: Record<TransportRole, string> = { publisher: 'new', subscriber: 'new' };
  private downlinkLoss = 0;
  private uplinkLoss = 0;
  closed = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly host: PeerHost,
    readonly id: string,
    public canPublish: CanPublish,
    private held: HeldSources,
  ) {
    this.sub = createPeerConnection(ctx.settings);
    this.watchState(this.sub, 'subscriber');
    // Gives the subscriber transport something to connect even before anyone publishes.
    this.sub.createDataChannel('parley');
    this.scheduleNegotiation(0);
  }

  // ---------------------------------------------------------------- publisher transport

  publish(offerSdp: string, sources: TrackSources): Promise<PublishAnswer> {
    // One offer at a time on the publisher transport.
    const run = this.publishChain.then(() => this.doPublish(offerSdp, sources));
    this.publishChain = run.catch(() => undefined);
    return run;
  }

  private async doPublish(offerSdp: string, sources: TrackSources): Promise<PublishAnswer> {
    this.assertOpen();
    const sections = parseMediaSections(offerSdp);
    if (sections.length === 0) throw new MediaError('invalid', 'offer has no m-line');
    const wantedSources = new Map<string, TrackSource>();
    const used = new Set<TrackSource>();
    for (const m of sections) {
      if (!isSending(m)) continue;
      if (m.simulcast) throw new MediaError('invalid', `m-line ${m.mid}: simulcast is not supported yet`);
      const source = sources[m.mid] ?? (m.kind === 'audio' ? 'microphone' : 'camera');
      if (source !== 'microphone' && source !== 'camera' && source !== 'screen') {
        throw new MediaError('invalid', `m-line ${m.mid}: unknown source ${String(source)}`);
      }
      if ((source === 'microphone') !== (m.kind === 'audio')) {
        throw new MediaError('invalid', `m-line ${m.mid}: a ${m.kind} m-line cannot be the ${source}`);
      }
      if (used.has(source)) throw new MediaError('invalid', `two m-lines claim the ${source}`);
      used.add(source);
      wantedSources.set(m.mid, source);
    }

    const pc = (this.pub ??= this.createPublisher());
    const { sdp } = sanitizeRemoteSdp(offerSdp);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await pc.createAnswer();
      await this.ctx.gather(() => pc.setLocalDescription(answer));
    } catch (error) {
      if (this.closed) throw new MediaError('closed', 'peer closed');
      // Back to the last good state, so that the client can send a corrected offer.
      if (pc.signalingState === 'have-remote-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
      }
      throw new MediaError('invalid', `publisher offer rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.assertOpen();
    for (const candidate of this.pendingPublisherCandidates.splice(0)) {
      await pc.addIceCandidate(candidate).catch(() => undefined);
    }

    // Reconcile the published tracks with the m-lines of this offer.
    for (const [mid, track] of this.published) {
      if (wantedSources.get(mid) !== track.source) this.unpublish(mid);
    }
    for (const [mid, source] of wantedSources) {
      if (this.published.has(mid)) continue;
      const transceiver = pc.getTransceivers().find((t) => t.mid === mid);
      if (!transceiver) continue;
      const track = new PublishedTrack(this.ctx, this.id, mid, source, transceiver, (peerId, level) =>
        this.host.audioLevel(peerId, level),
      );
      this.published.set(mid, track);
      track.setHeld(isHeld(this.held, source));
      this.applyForwarding(track);
    }
    return {
      sdp: fitAnswerToOffer(offerSdp, pc.localDescription?.sdp ?? ''),
      tracks: [...this.published.values()].map((t) => ({
        mid: t.mid,
        source: t.source,
        kind: t.kind,
        forwarded: t.forwarded,
      })),
    };
  }

  private createPublisher(): RTCPeerConnection {
    const pc = createPeerConnection(this.ctx.settings);
    this.watchState(pc, 'publisher');
    return pc;
  }

  private unpublish(mid: string): void {
    const track = this.published.get(mid);
    if (!track) return;
    this.published.delete(mid);
    const wasForwarded = track.forwarded;
    track.forwarded = false;
    this.host.trackRemoved(track, wasForwarded);
    track.close();
  }

  private applyForwarding(track: PublishedTrack): void {
    const allowed = allowedToPublish(this.canPublish, track.source);
    if (allowed === track.forwarded) return;
    track.forwarded = allowed;
    this.host.trackForwardingChanged(track);
  }

  setCanPublish(canPublish: CanPublish): void {
    this.canPublish = { ...canPublish };
    for (const track of this.published.values()) this.applyForwarding(track);
  }

  setHeld(held: HeldSources): void {
    this.held = { ...held };
    for (const track of this.published.values()) track.setHeld(isHeld(this.held, track.source));
  }

  publishedTracks(): PublishedTrack[] {
    return [...this.published.values()];
  }

  // ---------------------------------------------------------------- subscriber transport

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
          peerId: this.id,
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
        const transceiver = this.sub.addTransceiver(track.kind, { direction: 'sendonly' });
        slot = { transceiver, track, down: undefined, rewriter: new SeqTsRewriter(CLOCK_RATE[track.kind]), freedIn: undefined };
        this.slots.push(slot);
      }
      slot.transceiver.sender.streamId = streamIdFor(track);
    }
    const offer = await this.sub.createOffer();
    await this.ctx.gather(() => this.sub.setLocalDescription(offer));
    if (this.closed) return;
    this.hookSubscriberRtcp();
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
    const sdp = keepInactiveSectionsAlive(this.sub.localDescription?.sdp ?? '');
    this.lastOffer = { sdp, tracks, version };
    this.ctx.emit({ ev: 'subscriberOffer', roomId: this.host.id, peerId: this.id, offer: this.lastOffer });
  }

  async subscriberAnswer(answerSdp: string): Promise<void> {
    this.assertOpen();
    if (!this.negotiating || !this.lastOffer) {
      throw new MediaError('invalid_state', 'no subscriber offer is waiting for an answer');
    }
    const { sdp } = sanitizeRemoteSdp(answerSdp);
    try {
      await this.sub.setRemoteDescription({ type: 'answer', sdp });
    } catch (error) {
      if (this.closed) throw new MediaError('closed', 'peer closed');
      throw new MediaError('invalid', `subscriber answer rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.negotiating = false;
    this.answeredVersion = this.lastOffer.version;
    this.lastOffer = undefined;
    // Start forwarding on the m-lines the client has now accepted.
    for (const slot of this.slots) {
      if (slot.track && !slot.down && this.wanted.has(slot.track) && slot.track.forwarded) {
        slot.down = new DownTrack(this.ctx, slot.track, slot.transceiver, slot.rewriter);
      }
    }
    if (this.needsNegotiation) this.scheduleNegotiation();
  }

  /** Re-sends the offer waiting for an answer, or starts a new negotiation. */
  requestSubscriberOffer(): void {
    this.assertOpen();
    if (this.negotiating) {
      if (this.lastOffer) {
        this.ctx.emit({ ev: 'subscriberOffer', roomId: this.host.id, peerId: this.id, offer: this.lastOffer });
      }
      return;
    }
    this.scheduleNegotiation(0);
  }

  /** PLI arrives per sender (werift routes it); FIR carries its target SSRC inside, so look there. */
  private hookSubscriberRtcp(): void {
    for (const transport of this.sub.dtlsTransports) {
      if (this.hookedTransports.has(transport)) continue;
      this.hookedTransports.add(transport);
      transport.onRtcp.subscribe((packet: RtcpPacket) => {
        if (!(packet instanceof RtcpPayloadSpecificFeedback)) return;
        // werift parses FIR (FMT 4) but does not export its class.
        const feedback = packet.feedback as { count: number; fir?: { ssrc: number }[] };
        if (feedback.count !== FIR_FMT || !feedback.fir) return;
        for (const entry of feedback.fir) {
          this.slots.find((s) => s.down?.senderSsrc === entry.ssrc)?.down?.onKeyframeRequest();
        }
      });
      if (this.downlinkLoss > 0) this.installLoss(transport);
    }
  }

  // ---------------------------------------------------------------- both

  async addIceCandidate(transport: TransportRole, candidate: IceCandidateInit | null): Promise<void> {
    this.assertOpen();
    // End-of-candidates is implied: werift keeps checking the pairs it has.
    if (!candidate || !candidate.candidate) return;
    if (!isAcceptableCandidate(candidate.candidate)) return;
    if (transport === 'subscriber') {
      await this.sub.addIceCandidate(candidate).catch(() => undefined);
    } else if (!this.pub || !this.pub.remoteDescription) {
      this.pendingPublisherCandidates.push(candidate);
    } else {
      await this.pub.addIceCandidate(candidate).catch(() => undefined);
    }
  }

  private watchState(pc: RTCPeerConnection, role: TransportRole): void {
    pc.connectionStateChange.subscribe((state) => {
      if (this.closed || this.lastState[role] === state) return;
      this.lastState[role] = state;
      if (role === 'subscriber' && state === 'connected') {
        for (const slot of this.slots) slot.down?.track.requestKeyframe();
      }
      if (state === 'connected' || state === 'disconnected' || state === 'failed') {
        this.ctx.emit({
          ev: 'connectionState',
          roomId: this.host.id,
          peerId: this.id,
          transport: role,
          state: state satisfies TransportState,
        });
      }
    });
  }

  /** How many tracks this peer sends us and how many we forward to it (for the worker's counters). */
  trackCounts(): { published: number; forwarded: number } {
    let forwarded = 0;
    for (const slot of this.slots) if (slot.down) forwarded++;
    return { published: this.published.size, forwarded };
  }

  stats(): PeerStats {
    return {
      peerId: this.id,
      publisherState: this.pub?.connectionState ?? 'none',
      subscriberState: this.sub.connectionState,
      published: [...this.published.values()].map((t) => t.stats()),
      subscribed: this.slots.flatMap((s) => (s.down ? [s.down.stats()] : [])),
    };
  }

  /**
   * Test hook: drops `percent` % of the video RTP on one transport to observe NACK handling end
   * to end. 'downlink': first transmissions towards this subscriber (werift's retransmissions
   * pass). 'uplink': packets arriving from this publisher, before werift's receiver sees them
   * (the publisher's retransmissions, a second arrival of the same number, pass).
   */
  setPacketLoss(direction: 'uplink' | 'downlink', percent: number): void {
    if (direction === 'downlink') {
      this.downlinkLoss = percent;
      for (const transport of this.sub.dtlsTransports) this.installLoss(transport);
    } else {
      this.uplinkLoss = percent;
      for (const transport of this.pub?.dtlsTransports ?? []) this.installUplinkLoss(transport);
    }
  }

  private installLoss(transport: RTCDtlsTransport): void {
    const marked = transport as RTCDtlsTransport & { parleyLoss?: true };
    if (marked.parleyLoss) return;
    marked.parleyLoss = true;
    const send = transport.sendRtp.bind(transport);
    const dropped = new Set<number>();
    transport.sendRtp = (payload, header) => {
      const slot = this.slots.find((s) => s.transceiver.sender.ssrc === header.ssrc);
      if (this.downlinkLoss > 0 && slot?.track?.kind === 'video') {
        const key = header.ssrc * 0x10000 + header.sequenceNumber;
        if (dropped.delete(key)) return send(payload, header); // a retransmission
        if (Math.random() * 100 < this.downlinkLoss) {
          dropped.add(key);
          if (dropped.size > 10_000) dropped.clear();
          return Promise.resolve(0);
        }
      }
      return send(payload, header);
    };
  }

  private installUplinkLoss(transport: RTCDtlsTransport): void {
    const marked = transport as RTCDtlsTransport & { parleyUplinkLoss?: true };
    if (marked.parleyUplinkLoss) return;
    marked.parleyUplinkLoss = true;
    const deliver = transport.onRtp.execute;
    const dropped = new Set<number>();
    transport.onRtp.execute = (rtp) => {
      const { ssrc, sequenceNumber } = rtp.header;
      const video = [...this.published.values()].some((t) => t.kind === 'video' && t.ssrc === ssrc);
      if (this.uplinkLoss > 0 && video) {
        const key = ssrc * 0x10000 + sequenceNumber;
        if (!dropped.delete(key) && Math.random() * 100 < this.uplinkLoss) {
          dropped.add(key);
          if (dropped.size > 10_000) dropped.clear();
          return;
        }
      }
      deliver(rtp);
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('closed', 'peer closed');
  }

  /** Tears down both transports; the room handles unpublishing and the event. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.negotiationTimer);
    for (const mid of [...this.published.keys()]) this.unpublish(mid);
    for (const slot of this.slots) slot.down?.close();
    this.wanted.clear();
    await Promise.allSettled([this.pub?.close(), this.sub.close()]);
  }
}
