// A room inside a worker: its peers, who receives which track, and the active speaker.
import { MediaError, type CanPublish, type CloseReason, type HeldSources, type RecordedFile } from '../types.js';
import { ActiveSpeakerDetector } from './active-speaker.js';
import { camerasForwarded, SpeakerRecency } from './last-n.js';
import type { WorkerContext } from './context.js';
import { SfuPeer } from './peer.js';
import type { PeerHost } from './peer-types.js';
import type { PublishedTrack } from './published-track.js';
import { RoomRecorder, type SinkFactory } from './recorder.js';
import { sharedInterval } from './shared-interval.js';

const SPEAKER_TICK_MS = 200;
/** How often each subscriber's videos are fitted to its link (bandwidth-allocator.ts). */
const ALLOCATE_TICK_MS = 500;

export class SfuRoom implements PeerHost {
  readonly peers = new Map<string, SfuPeer>();
  private readonly speaker = new ActiveSpeakerDetector();
  /** who spoke last, for last-N */
  private readonly recency = new SpeakerRecency();
  private readonly stopSpeakerTicks: () => void;
  /** Its own timer: the allocation's work is spread over the period, not all rooms' in one turn. */
  private readonly allocateTimer: NodeJS.Timeout;
  closed = false;
  /** set while the room is recorded (worker/recorder.ts) */
  recorder: RoomRecorder | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    readonly id: string,
  ) {
    this.stopSpeakerTicks = sharedInterval(SPEAKER_TICK_MS).add(() => {
      const changed = this.speaker.tick(performance.now());
      if (changed === undefined) return;
      if (changed !== null && this.recency.spoke(changed)) this.applyLastN();
      this.ctx.emit({ ev: 'activeSpeaker', roomId: this.id, peerId: changed });
    });
    this.allocateTimer = setInterval(() => this.allocate(performance.now()), ALLOCATE_TICK_MS);
  }

  addPeer(peerId: string, canPublish: CanPublish, held: HeldSources): SfuPeer {
    if (this.closed) throw new MediaError('closed', 'room closed');
    if (this.peers.has(peerId)) throw new MediaError('invalid_state', `peer ${peerId} is already in the room`);
    const peer = new SfuPeer(this.ctx, this, peerId, { ...canPublish }, { ...held });
    this.peers.set(peerId, peer);
    this.recency.arrived(peerId);
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const track of other.publishedTracks()) if (track.forwarded) peer.subscribe(track);
    }
    this.applyLastN();
    return peer;
  }

  getPeer(peerId: string): SfuPeer {
    const peer = this.peers.get(peerId);
    if (!peer) throw new MediaError('not_found', `no peer ${peerId} in room ${this.id}`);
    return peer;
  }

  async closePeer(peerId: string, reason: CloseReason): Promise<void> {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    this.recency.left(peerId);
    this.applyLastN();
    // Tell the main thread first: the transports may take a moment to close.
    this.ctx.emit({ ev: 'peerClosed', roomId: this.id, peerId, reason });
    await peer.close();
  }

  // PeerHost

  trackForwardingChanged(track: PublishedTrack): void {
    const event = { mid: track.mid, source: track.source, kind: track.kind };
    if (track.forwarded) {
      this.ctx.emit({ ev: 'trackPublished', roomId: this.id, peerId: track.peerId, track: event });
      this.recorder?.attach(track);
      for (const peer of this.peers.values()) if (peer.id !== track.peerId) peer.subscribe(track);
    } else {
      this.withdraw(track);
      this.ctx.emit({ ev: 'trackUnpublished', roomId: this.id, peerId: track.peerId, track: event });
    }
    if (track.source === 'camera') this.applyLastN();
  }

  trackRemoved(track: PublishedTrack, wasForwarded: boolean): void {
    if (!wasForwarded) return;
    this.withdraw(track);
    if (track.source === 'camera') this.applyLastN();
    const owner = this.peers.get(track.peerId);
    if (owner && !owner.closed) {
      const event = { mid: track.mid, source: track.source, kind: track.kind };
      this.ctx.emit({ ev: 'trackUnpublished', roomId: this.id, peerId: track.peerId, track: event });
    }
  }

  private withdraw(track: PublishedTrack): void {
    this.recorder?.detach(track);
    for (const peer of this.peers.values()) peer.unsubscribe(track);
    if (track.source === 'microphone' && this.speaker.removePeer(track.peerId) === null && !this.closed) {
      this.ctx.emit({ ev: 'activeSpeaker', roomId: this.id, peerId: null });
    }
  }

  /**
   * A publisher may send H.264 only while every peer here decodes it (as far as their answers
   * showed): the SFU forwards, it does not transcode, and every browser decodes VP8.
   */
  h264Allowed(): boolean {
    for (const peer of this.peers.values()) if (peer.subscriber.receivesH264 === false) return false;
    return true;
  }

  /**
   * Someone who cannot decode H.264 is here: whoever sends H.264 publishes again, and is then
   * answered VP8 (h264Allowed). Their peer closes with `codec-change`; the client starts its
   * media over on the same seat (signaling sends `mediaReset`).
   */
  receiverLacksH264(peerId: string): void {
    for (const other of this.peers.values()) {
      if (other.id === peerId || other.closed) continue;
      if (other.publishedTracks().some((t) => t.forwarded && t.videoCodec === 'h264')) {
        this.ctx.log('info', 'H.264 publisher moved to VP8: a peer cannot decode H.264', { publisher: other.id, receiver: peerId });
        void this.closePeer(other.id, 'codec-change');
      }
    }
  }

  camerasChanged(): void {
    this.applyLastN();
  }

  /**
   * Last-N (settings.lastN > 0): each peer receives the cameras of the N others who spoke most
   * recently; the others' cameras are paused for it (m-lines kept, audio untouched). A camera on
   * hold takes no place.
   */
  private applyLastN(): void {
    const { lastN } = this.ctx.settings;
    if (!lastN || this.closed) return;
    const withCamera = new Set<string>();
    for (const peer of this.peers.values()) {
      if (peer.publishedTracks().some((t) => t.source === 'camera' && t.forwarded && !t.onHold)) withCamera.add(peer.id);
    }
    for (const peer of this.peers.values()) {
      const forwarded = camerasForwarded(this.recency.ranking, peer.id, withCamera, lastN);
      peer.subscriber.setPausedCameras(new Set([...withCamera].filter((id) => id !== peer.id && !forwarded.has(id))));
    }
  }

  /**
   * Fits each subscriber's videos to its link: screen shares first, then cameras by how recently
   * their owner spoke. Publishers' rates are sampled first (they are what a video costs).
   */
  private allocate(now: number): void {
    if (this.closed) return;
    for (const peer of this.peers.values()) for (const track of peer.publishedTracks()) track.sampleRates(now);
    const rank = new Map(this.recency.ranking.map((id, i) => [id, i]));
    const priorityOf = (track: PublishedTrack) => (track.source === 'screen' ? 0 : 1 + (rank.get(track.peerId) ?? rank.size));
    for (const peer of this.peers.values()) peer.subscriber.allocate(priorityOf, now);
  }

  audioLevel(peerId: string, level: number): void {
    this.speaker.addLevel(peerId, level);
  }

  /** Starts recording every forwarded track, now and later; a failed write stops it (`recordingEnded`). */
  async startRecording(recordingId: string, dir: string, openSink: SinkFactory): Promise<void> {
    if (this.closed) throw new MediaError('closed', 'room closed');
    if (this.recorder) throw new MediaError('invalid_state', `room ${this.id} is already recorded`);
    const recorder = await RoomRecorder.create(this.ctx, recordingId, dir, openSink, (error) => {
      void this.endRecording(recorder, 'failed', String(error));
    });
    this.recorder = recorder;
    for (const peer of this.peers.values()) for (const track of peer.publishedTracks()) if (track.forwarded) recorder.attach(track);
  }

  /** Stops the recording asked for by the main thread; its files. */
  async stopRecording(recordingId: string): Promise<RecordedFile[]> {
    const recorder = this.recorder;
    if (!recorder || recorder.recordingId !== recordingId) throw new MediaError('not_found', `room ${this.id} is not recording ${recordingId}`);
    this.recorder = undefined;
    return recorder.stop();
  }

  /** A recording that stopped without being asked (a failed write, the room closing). */
  private async endRecording(recorder: RoomRecorder, reason: 'failed' | 'closed', error?: string): Promise<void> {
    if (this.recorder !== recorder) return;
    this.recorder = undefined;
    const files = await recorder.stop();
    this.ctx.emit({ ev: 'recordingEnded', roomId: this.id, recordingId: recorder.recordingId, reason, error, files });
  }

  async close(reason: CloseReason): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSpeakerTicks();
    clearInterval(this.allocateTimer);
    if (this.recorder) await this.endRecording(this.recorder, 'closed');
    const peerReason: CloseReason = reason === 'closed' ? 'room-closed' : reason;
    await Promise.allSettled([...this.peers.keys()].map((peerId) => this.closePeer(peerId, peerReason)));
    this.ctx.emit({ ev: 'roomClosed', roomId: this.id, reason });
  }
}
