// A participant's media, as seen from the main thread. Every method is a message to the
// room's worker; events come back from it.
import { EventEmitter } from 'node:events';
import type { RequestName, WorkerEvent, WorkerRequests } from './protocol.js';
import {
  MediaError,
  type CanPublish,
  type CloseReason,
  type HeldSources,
  type IceCandidateInit,
  type MediaPeerEvents,
  type PausedVideo,
  type VideoSize,
  type PeerStats,
  type PublishAnswer,
  type SubscriberOffer,
  type TrackSources,
  type TransportRole,
  type TransportState,
} from './types.js';
import type { WorkerHost } from './worker-host.js';

/** The worker requests addressed to one peer. */
type PeerRequest = {
  [K in RequestName]: WorkerRequests[K][0] extends { roomId: string; peerId: string } ? K : never;
}[RequestName];

export class MediaPeer extends EventEmitter<MediaPeerEvents> {
  private _closed = false;
  private _canPublish: CanPublish;
  private _held: HeldSources;
  private _pendingOffer: SubscriberOffer | undefined;
  private _videoPaused: PausedVideo[] = [];
  private readonly states: Record<TransportRole, TransportState | undefined> = {
    publisher: undefined,
    subscriber: undefined,
  };
  private closing: Promise<void> | undefined;

  /** @internal created by MediaRoom.addPeer */
  constructor(
    private readonly host: WorkerHost,
    readonly roomId: string,
    readonly id: string,
    canPublish: CanPublish,
    held: HeldSources,
    private readonly onClosed: (peer: MediaPeer) => void,
  ) {
    super();
    this._canPublish = { ...canPublish };
    this._held = { ...held };
  }

  get closed(): boolean {
    return this._closed;
  }

  get canPublish(): CanPublish {
    return { ...this._canPublish };
  }

  get held(): HeldSources {
    return { ...this._held };
  }

  /** The videos this peer does not receive now (last-N), as last reported. */
  get videoPaused(): PausedVideo[] {
    return [...this._videoPaused];
  }

  /**
   * The subscriber offer waiting for an answer, if any. The first one is emitted shortly after
   * `addPeer` resolves; a caller that attaches its listener later can read it here.
   */
  get pendingSubscriberOffer(): SubscriberOffer | undefined {
    return this._pendingOffer;
  }

  connectionState(transport: TransportRole): TransportState | undefined {
    return this.states[transport];
  }

  /**
   * Applies a publisher offer and returns the answer (with all server candidates).
   * `sources` maps the offer's mids to sources; see types.ts for the defaults.
   */
  publish(offerSdp: string, sources: TrackSources = {}): Promise<PublishAnswer> {
    return this.call('publish', { sdp: offerSdp, sources });
  }

  /** The client's answer to the last `subscriberOffer`. */
  async subscriberAnswer(answerSdp: string): Promise<void> {
    await this.call('subscriberAnswer', { sdp: answerSdp });
    this._pendingOffer = undefined;
  }

  /** A trickled client candidate; `.local`, host-name and TCP candidates are ignored. */
  addIceCandidate(transport: TransportRole, candidate: IceCandidateInit | null): Promise<void> {
    return this.call('addIceCandidate', { transport, candidate });
  }

  /** Changes what this peer may publish; takes effect at once for its current tracks. */
  async setCanPublish(canPublish: CanPublish): Promise<void> {
    this._canPublish = { ...canPublish };
    await this.call('setCanPublish', { canPublish: this._canPublish });
  }

  /** Holds back (mutes on the server) or releases the microphone and camera; see HeldSources. */
  async setHeld(held: HeldSources): Promise<void> {
    this._held = { ...held };
    await this.call('setHeld', { held: this._held });
  }

  /**
   * Re-emits the offer waiting for an answer, or starts a fresh negotiation; with `iceRestart`
   * the next offer carries new ICE credentials (the browser's network dropped or changed).
   */
  requestSubscriberOffer(opts: { iceRestart?: boolean } = {}): Promise<void> {
    return this.call('requestSubscriberOffer', { iceRestart: opts.iceRestart === true });
  }

  /** What the participant's page shows each video in (a small tile gets a low simulcast layer). */
  setVideoSizes(sizes: VideoSize[]): Promise<void> {
    return this.call('setVideoSizes', { sizes });
  }

  stats(): Promise<PeerStats> {
    return this.call('peerStats', {});
  }

  close(): Promise<void> {
    if (this._closed) return Promise.resolve();
    this.closing ??= this.host
      .request('closePeer', { roomId: this.roomId, peerId: this.id, reason: 'closed' })
      .catch(() => undefined)
      // The worker announced the close before answering; if it could not (dead), do it here.
      .then(() => this._markClosed('closed'));
    return this.closing;
  }

  private call<K extends PeerRequest>(op: K, params: Omit<WorkerRequests[K][0], 'roomId' | 'peerId'>): Promise<WorkerRequests[K][1]> {
    if (this._closed) return Promise.reject(new MediaError('closed', `peer ${this.id} is closed`));
    return this.host.request(op, { ...params, roomId: this.roomId, peerId: this.id } as WorkerRequests[K][0]);
  }

  /** @internal */
  _handleEvent(event: WorkerEvent): void {
    if (this._closed) return;
    switch (event.ev) {
      case 'subscriberOffer':
        this._pendingOffer = event.offer;
        this.emit('subscriberOffer', event.offer);
        break;
      case 'videoPaused':
        this._videoPaused = event.videos;
        this.emit('videoPaused', event.videos);
        break;
      case 'connectionState':
        this.states[event.transport] = event.state;
        this.emit('connectionState', event.transport, event.state);
        break;
      case 'trackPublished':
        this.emit('trackPublished', event.track);
        break;
      case 'trackUnpublished':
        this.emit('trackUnpublished', event.track);
        break;
      case 'peerClosed':
        this._markClosed(event.reason);
        break;
      default:
        break;
    }
  }

  /** @internal */
  _markClosed(reason: CloseReason): void {
    if (this._closed) return;
    this._closed = true;
    this._pendingOffer = undefined;
    this.onClosed(this);
    this.emit('closed', reason);
  }
}
