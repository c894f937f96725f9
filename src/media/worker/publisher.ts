// The publisher transport of one participant: the client offers its sendonly tracks, we
// answer. Owns the PublishedTracks and decides which of them are forwarded (canPublish) or held.
import { EventEmitter } from 'node:events';
import type { RTCDtlsTransport, RTCPeerConnection } from 'werift';
import {
  MediaError,
  type CanPublish,
  type HeldSources,
  type IceCandidateInit,
  type PublishAnswer,
  type PublishedTrackStats,
  type TrackSource,
  type TrackSources,
} from '../types.js';
import type { WorkerContext } from './context.js';
import type { PublisherTransportEvents, PublisherTransportOptions } from './peer-types.js';
import { PublishedTrack } from './published-track.js';
import { filterOfferedVideoCodecs } from './codecs.js';
import { fitAnswerToOffer, isSending, parseMediaSections, sanitizeRemoteSdp } from './sdp.js';
import { createPeerConnection, reportedStateChanges } from './webrtc.js';

function isHeld(held: HeldSources, source: TrackSource): boolean {
  return source === 'microphone' ? held.audio : source === 'camera' ? held.video : false;
}

export function allowedToPublish(canPublish: CanPublish, source: TrackSource): boolean {
  return source === 'microphone' ? canPublish.audio : source === 'camera' ? canPublish.video : canPublish.screen;
}

/** At most this many simulcast layers per video (the room sends three). */
const MAX_LAYERS = 3;
/** RFC 8851 rid syntax, shorter; werift keys a plain object by rid, so none of its own keys. */
const RID = /^[A-Za-z0-9_-]{1,16}$/;

interface WantedTrack {
  source: TrackSource;
  /** simulcast layers, lowest first (empty: one stream) */
  rids: string[];
}

/** The mid → source map of an offer's sending m-lines, checked against the rules in types.ts. */
function sourcesOfOffer(offerSdp: string, sources: TrackSources): Map<string, WantedTrack> {
  const sections = parseMediaSections(offerSdp);
  if (sections.length === 0) throw new MediaError('invalid', 'offer has no m-line');
  const wanted = new Map<string, WantedTrack>();
  const used = new Set<TrackSource>();
  for (const m of sections) {
    if (!isSending(m)) continue;
    if (m.simulcast) {
      if (m.kind !== 'video') throw new MediaError('invalid', `m-line ${m.mid}: simulcast is for video only`);
      if (m.sendRids.length === 0 || m.sendRids.length > MAX_LAYERS) throw new MediaError('invalid', `m-line ${m.mid}: simulcast needs 1 to ${MAX_LAYERS} rids`);
      const bad = m.sendRids.find((rid) => !RID.test(rid) || rid in Object.prototype);
      if (bad !== undefined) throw new MediaError('invalid', `m-line ${m.mid}: invalid rid ${JSON.stringify(bad)}`);
      if (new Set(m.sendRids).size !== m.sendRids.length) throw new MediaError('invalid', `m-line ${m.mid}: a rid is listed twice`);
    }
    const source = sources[m.mid] ?? (m.kind === 'audio' ? 'microphone' : 'camera');
    if (source !== 'microphone' && source !== 'camera' && source !== 'screen') {
      throw new MediaError('invalid', `m-line ${m.mid}: unknown source ${String(source)}`);
    }
    if ((source === 'microphone') !== (m.kind === 'audio')) {
      throw new MediaError('invalid', `m-line ${m.mid}: a ${m.kind} m-line cannot be the ${source}`);
    }
    if (used.has(source)) throw new MediaError('invalid', `two m-lines claim the ${source}`);
    used.add(source);
    wanted.set(m.mid, { source, rids: m.simulcast ? m.sendRids : [] });
  }
  return wanted;
}

export class PublisherTransport extends EventEmitter<PublisherTransportEvents> {
  /** created by the first offer */
  private pc: RTCPeerConnection | undefined;
  private readonly published = new Map<string, PublishedTrack>();
  private readonly pendingCandidates: IceCandidateInit[] = [];
  private publishChain: Promise<unknown> = Promise.resolve();
  private readonly peerId: string;
  private canPublish: CanPublish;
  private held: HeldSources;
  private readonly onAudioLevel: PublisherTransportOptions['onAudioLevel'];
  private readonly h264Allowed: PublisherTransportOptions['h264Allowed'];
  private closed = false;
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    options: PublisherTransportOptions,
  ) {
    super();
    this.peerId = options.peerId;
    this.canPublish = { ...options.canPublish };
    this.held = { ...options.held };
    this.onAudioLevel = options.onAudioLevel;
    this.h264Allowed = options.h264Allowed;
  }

  /** Tracks this peer sends us now. */
  get publishedCount(): number {
    return this.published.size;
  }

  get connectionState(): string {
    return this.pc?.connectionState ?? 'none';
  }

  get dtlsTransports(): readonly RTCDtlsTransport[] {
    return this.pc?.dtlsTransports ?? [];
  }

  publish(offerSdp: string, sources: TrackSources): Promise<PublishAnswer> {
    // One offer at a time on the publisher transport.
    const run = this.publishChain.then(() => this.doPublish(offerSdp, sources));
    this.publishChain = run.catch(() => undefined);
    return run;
  }

  private async doPublish(offerSdp: string, sources: TrackSources): Promise<PublishAnswer> {
    this.assertOpen();
    const wantedSources = sourcesOfOffer(offerSdp, sources);
    const pc = (this.pc ??= this.createPeerConnection());
    // H.264 only while everyone in the room can decode it (SfuRoom.h264Allowed).
    const { sdp } = sanitizeRemoteSdp(filterOfferedVideoCodecs(offerSdp, { h264: this.h264Allowed() }), { transportCc: true });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await pc.createAnswer();
      await this.ctx.gather(() => pc.setLocalDescription(answer));
    } catch (error) {
      this.assertOpen();
      // Back to the last good state, so that the client can send a corrected offer.
      if (pc.signalingState === 'have-remote-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
      }
      throw new MediaError('invalid', `publisher offer rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.assertOpen();
    for (const candidate of this.pendingCandidates.splice(0)) {
      await pc.addIceCandidate(candidate).catch(() => undefined);
    }

    // Reconcile the published tracks with the m-lines of this offer.
    for (const [mid, track] of this.published) {
      const wanted = wantedSources.get(mid);
      // New layers are a new track for the subscribers (their DownTracks pick among the layers).
      if (wanted?.source !== track.source || wanted.rids.join(';') !== track.rids.join(';')) this.unpublish(mid);
    }
    for (const [mid, { source, rids }] of wantedSources) {
      if (this.published.has(mid)) continue;
      const transceiver = pc.getTransceivers().find((t) => t.mid === mid);
      if (!transceiver) continue;
      const track = new PublishedTrack(this.ctx, this.peerId, mid, source, rids, transceiver, this.onAudioLevel);
      this.published.set(mid, track);
      track.setHeld(isHeld(this.held, source));
      this.applyForwarding(track);
    }
    return {
      sdp: fitAnswerToOffer(offerSdp, pc.localDescription?.sdp ?? ''),
      tracks: this.tracks().map((t) => ({ mid: t.mid, source: t.source, kind: t.kind, forwarded: t.forwarded })),
    };
  }

  private createPeerConnection(): RTCPeerConnection {
    const pc = createPeerConnection(this.ctx.settings, { transportCc: true, simulcast: true });
    this.stopWatching = reportedStateChanges(pc, (state) => {
      if (this.closed) return;
      // Back after a drop or an ICE restart: the subscribers' decoders lost packets meanwhile.
      if (state === 'connected') for (const track of this.published.values()) if (track.kind === 'video') track.requestKeyframe();
      this.emit('connectionState', state);
    });
    return pc;
  }

  /** A trickled client candidate (already checked); kept until the first offer is applied. */
  async addIceCandidate(candidate: IceCandidateInit): Promise<void> {
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
    } else {
      await this.pc.addIceCandidate(candidate).catch(() => undefined);
    }
  }

  private unpublish(mid: string): void {
    const track = this.published.get(mid);
    if (!track) return;
    this.published.delete(mid);
    const wasForwarded = track.forwarded;
    track.forwarded = false;
    this.emit('trackRemoved', track, wasForwarded);
    track.close();
  }

  private applyForwarding(track: PublishedTrack): void {
    const allowed = allowedToPublish(this.canPublish, track.source);
    if (allowed === track.forwarded) return;
    track.forwarded = allowed;
    this.emit('trackForwardingChanged', track);
  }

  setCanPublish(canPublish: CanPublish): void {
    this.canPublish = { ...canPublish };
    for (const track of this.published.values()) this.applyForwarding(track);
  }

  setHeld(held: HeldSources): void {
    this.held = { ...held };
    for (const track of this.published.values()) track.setHeld(isHeld(this.held, track.source));
  }

  tracks(): PublishedTrack[] {
    return [...this.published.values()];
  }

  stats(): PublishedTrackStats[] {
    return this.tracks().map((t) => t.stats());
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('closed', 'peer closed');
  }

  /** Unpublishes every track (with their events) and closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const mid of [...this.published.keys()]) this.unpublish(mid);
    this.stopWatching?.();
    await this.pc?.close();
  }
}
