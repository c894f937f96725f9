// One participant inside a worker: its publisher transport (client offers, publisher.ts) and
// its subscriber transport (we offer, subscriber.ts). Relays their events to the room and to the
// main thread.
import {
  MediaError,
  type CanPublish,
  type HeldSources,
  type IceCandidateInit,
  type PeerStats,
  type PublishAnswer,
  type TrackSources,
  type TransportRole,
  type TransportState,
} from '../types.js';
import type { WorkerContext } from './context.js';
import type { PeerHost } from './peer-types.js';
import type { PublishedTrack } from './published-track.js';
import { PublisherTransport } from './publisher.js';
import { isAcceptableCandidate } from './sdp.js';
import { SubscriberTransport } from './subscriber.js';

export class SfuPeer {
  readonly publisher: PublisherTransport;
  readonly subscriber: SubscriberTransport;
  closed = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly host: PeerHost,
    readonly id: string,
    canPublish: CanPublish,
    held: HeldSources,
  ) {
    this.publisher = new PublisherTransport(ctx, {
      peerId: id,
      canPublish,
      held,
      onAudioLevel: (peerId, level) => host.audioLevel(peerId, level),
      h264Allowed: () => host.h264Allowed(),
    });
    this.publisher.on('connectionState', (state) => this.emitState('publisher', state));
    this.publisher.on('trackForwardingChanged', (track) => host.trackForwardingChanged(track));
    this.publisher.on('trackRemoved', (track, wasForwarded) => host.trackRemoved(track, wasForwarded));

    this.subscriber = new SubscriberTransport(ctx, id);
    this.subscriber.on('connectionState', (state) => this.emitState('subscriber', state));
    this.subscriber.on('lacksH264', () => host.receiverLacksH264(id));
    this.subscriber.on('videoPaused', (videos) => this.ctx.emit({ ev: 'videoPaused', roomId: this.host.id, peerId: this.id, videos }));
    this.subscriber.on('offer', (offer) => {
      this.ctx.emit({ ev: 'subscriberOffer', roomId: this.host.id, peerId: this.id, offer });
    });
    this.subscriber.start();
  }

  // ---------------------------------------------------------------- publisher transport

  publish(offerSdp: string, sources: TrackSources): Promise<PublishAnswer> {
    return this.publisher.publish(offerSdp, sources);
  }

  setCanPublish(canPublish: CanPublish): void {
    this.publisher.setCanPublish(canPublish);
  }

  setHeld(held: HeldSources): void {
    this.publisher.setHeld(held);
    this.host.camerasChanged();
  }

  publishedTracks(): PublishedTrack[] {
    return this.publisher.tracks();
  }

  // ---------------------------------------------------------------- subscriber transport

  subscribe(track: PublishedTrack): void {
    if (!this.closed) this.subscriber.subscribe(track);
  }

  unsubscribe(track: PublishedTrack): void {
    this.subscriber.unsubscribe(track);
  }

  subscriberAnswer(answerSdp: string): Promise<void> {
    this.assertOpen();
    return this.subscriber.answer(answerSdp);
  }

  /** Re-sends the offer waiting for an answer, or starts a new negotiation (restarting ICE if asked). */
  requestSubscriberOffer(iceRestart = false): void {
    this.assertOpen();
    this.subscriber.requestOffer(iceRestart);
  }

  // ---------------------------------------------------------------- both

  async addIceCandidate(transport: TransportRole, candidate: IceCandidateInit | null): Promise<void> {
    this.assertOpen();
    // End-of-candidates is implied: werift keeps checking the pairs it has.
    if (!candidate || !candidate.candidate) return;
    if (!isAcceptableCandidate(candidate.candidate)) return;
    await (transport === 'subscriber' ? this.subscriber : this.publisher).addIceCandidate(candidate);
  }

  private emitState(transport: TransportRole, state: TransportState): void {
    if (this.closed) return;
    this.ctx.emit({ ev: 'connectionState', roomId: this.host.id, peerId: this.id, transport, state });
  }

  /** How many tracks this peer sends us and how many we forward to it (for the worker's counters). */
  trackCounts(): { published: number; forwarded: number } {
    return { published: this.publisher.publishedCount, forwarded: this.subscriber.forwardedCount };
  }

  stats(): PeerStats {
    return {
      peerId: this.id,
      publisherState: this.publisher.connectionState,
      subscriberState: this.subscriber.connectionState,
      published: this.publisher.stats(),
      subscribed: this.subscriber.stats(),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('closed', 'peer closed');
  }

  /** Tears down both transports; the room handles unpublishing and the event. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The publisher unpublishes its tracks (synchronously, events included) before the
    // subscriber stops forwarding.
    await Promise.allSettled([this.publisher.close(), this.subscriber.close()]);
  }
}
