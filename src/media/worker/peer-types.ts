// Interfaces and typed events of the per-participant objects of a worker: SfuPeer
// (peer.ts), its PublisherTransport (publisher.ts) and its SubscriberTransport (subscriber.ts).
import type { RTCDtlsTransport } from 'werift';
import type { CanPublish, HeldSources, PausedVideo, SubscriberOffer, TransportState } from '../types.js';
import type { PublishedTrack } from './published-track.js';

/** The room as seen by a peer. */
export interface PeerHost {
  readonly id: string;
  trackForwardingChanged(track: PublishedTrack): void;
  /** the track is gone for good; `wasForwarded`: subscribers had it */
  trackRemoved(track: PublishedTrack, wasForwarded: boolean): void;
  audioLevel(peerId: string, level: number): void;
  /** whether a publisher may send H.264 now (everyone here decodes it) */
  h264Allowed(): boolean;
  /** the peer's answer showed it cannot decode H.264 */
  receiverLacksH264(peerId: string): void;
  /** a camera was held or released (a held camera takes no last-N place) */
  camerasChanged(): void;
}

/** Events both transports emit. Only the states a caller acts on are reported. */
export type TransportEvents = {
  connectionState: [state: TransportState];
};

export type PublisherTransportEvents = TransportEvents & {
  /** `track.forwarded` changed (canPublish); the room adds or withdraws it from subscribers */
  trackForwardingChanged: [track: PublishedTrack];
  /** the client stopped sending it, or the transport closed; emitted before the track closes */
  trackRemoved: [track: PublishedTrack, wasForwarded: boolean];
};

export type SubscriberTransportEvents = TransportEvents & {
  /** a new offer, or the one still waiting for an answer, re-sent on request */
  offer: [offer: SubscriberOffer];
  /** a DTLS transport appeared on this transport (after the first negotiation, with BUNDLE) */
  dtlsTransport: [transport: RTCDtlsTransport];
  /** the client's answer left H.264 out of a video m-line: it cannot decode H.264 */
  lacksH264: [];
  /** the videos not forwarded to this peer now (last-N, its link) changed: the whole list */
  videoPaused: [videos: PausedVideo[]];
};

export interface PublisherTransportOptions {
  peerId: string;
  canPublish: CanPublish;
  held: HeldSources;
  /**
   * Audio level of each forwarded microphone packet. A plain callback, not an event: it runs
   * once per audio packet, on the forwarding path.
   */
  onAudioLevel(peerId: string, level: number): void;
  /** whether H.264 may be answered now (the room's rule) */
  h264Allowed(): boolean;
}
