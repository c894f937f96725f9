/**
 * Public types of the media plane (src/media).
 *
 * Shape: one `MediaService` owns N worker threads. A `MediaRoom` lives on exactly one worker
 * (picked by load when it is opened). A `MediaPeer` is one participant in a room and owns two
 * WebRTC transports, each with a single offerer so that renegotiation never glares:
 *
 * - publisher transport: the client offers its sendonly tracks, the worker answers
 *   (`MediaPeer.publish`). The client renegotiates on the same transport to add or remove a
 *   track (e.g. start/stop screen sharing) by calling `publish` again with a new offer.
 * - subscriber transport: the worker offers one sendonly m-line per track of every other
 *   participant (`subscriberOffer` event), the client answers (`MediaPeer.subscriberAnswer`).
 *   The worker renegotiates by itself when tracks appear or disappear; it never has two offers
 *   outstanding and coalesces changes that happen while waiting for an answer. The subscriber
 *   offer always carries one data channel (label `parley`), so the transport connects even when
 *   nobody publishes yet; presence can therefore be derived from it for viewers too.
 *
 * ICE is non-trickle on the server side: every SDP handed out already contains all server
 * candidates. Clients may trickle theirs with `addIceCandidate`. Client candidates that are not
 * an IP literal (mDNS `*.local` names, any host name) or are not UDP are dropped, both from
 * SDPs and from `addIceCandidate`: the media plane never resolves names and never uses mDNS.
 *
 * How tracks are identified (publisher side):
 *   `publish(offerSdp, sources)` takes a map from the offer's m-line `mid` to its source,
 *   e.g. `{ '0': 'microphone', '1': 'camera', '2': 'screen' }`. Rules:
 *   - `microphone` must be an audio m-line, `camera` and `screen` video m-lines;
 *   - a mid missing from the map defaults to `microphone` (audio) or `camera` (video);
 *   - two sending m-lines may not claim the same source (the offer is rejected, `invalid`);
 *   - on a renegotiation, pass the map for the whole offer again (not only the new m-lines).
 *   Simulcast offers are not supported yet (send one encoding per track).
 *
 * How tracks are identified (subscriber side):
 *   every `subscriberOffer` carries `tracks: { mid, peerId, source, kind }[]` for the m-lines
 *   that currently carry media. m-lines not listed are inactive (their publisher left or
 *   stopped); a later offer may reuse an inactive m-line (same mid) for another participant's
 *   track of the same kind, so map mids through the latest `tracks` every time. The offer's `a=msid` stream id is a sanitized form of the publisher's peer id
 *   (plus `-screen` for the screen track) so that a browser groups a person's microphone and
 *   camera into one MediaStream (lip sync), but the `tracks` list is the source of truth.
 *
 * What may be published is enforced in the worker: a track whose source the peer may not
 * publish (`canPublish`, changeable at any time with `setCanPublish`) is accepted in the SDP
 * answer but never forwarded, and no subscriber gets an m-line for it.
 */

/** What a participant may send. */
export interface CanPublish {
  /** microphone */
  audio: boolean;
  /** camera */
  video: boolean;
  /** screen sharing (a second video track) */
  screen: boolean;
}

/**
 * Sources the server holds back while they are muted: their packets still arrive and are
 * dropped, and subscribers keep their m-lines, so a mute or unmute needs no renegotiation.
 * Releasing a camera asks the publisher for a keyframe; subscribers resume on it.
 */
export interface HeldSources {
  /** microphone */
  audio: boolean;
  /** camera */
  video: boolean;
}

export const NOTHING_HELD: HeldSources = Object.freeze({ audio: false, video: false });

export type TrackSource = 'microphone' | 'camera' | 'screen';
export type TrackKind = 'audio' | 'video';

/** `{ [mid]: source }` for the m-lines of a publisher offer; see the module comment. */
export type TrackSources = Record<string, TrackSource>;

export type TransportRole = 'publisher' | 'subscriber';
/** Only the states a caller acts on; `new`/`connecting`/`closed` are not reported. */
export type TransportState = 'connected' | 'disconnected' | 'failed';

/** Why a peer or room was closed. */
export type CloseReason =
  /** `MediaPeer.close()` / `MediaRoom.close()` was called */
  | 'closed'
  /** the room it was in was closed */
  | 'room-closed'
  /** its worker thread crashed or was terminated (the worker is respawned) */
  | 'worker-died'
  /** `MediaService.stop()` */
  | 'service-stopped'
  /**
   * it sent H.264 and a peer that cannot decode H.264 is in the room now: its client must
   * publish again (the server then answers VP8; see src/media/README.md, "Video codecs")
   */
  | 'codec-change';

/** Same fields as the browser's RTCIceCandidateInit. */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface MediaConfig {
  /** Worker threads; default `os.availableParallelism()`. */
  workers?: number;
  /** Address the UDP sockets bind to, e.g. '0.0.0.0' or '127.0.0.1'. */
  listenIp: string;
  /**
   * IPv4/IPv6 addresses put into the server's ICE host candidates, e.g. ['127.0.0.1'] or the
   * host's public address behind a 1:1 NAT (the port is announced unchanged). Empty: werift
   * discovers the host's interface addresses by itself.
   */
  announcedAddresses: string[];
  /** UDP port range, split evenly among the workers. Both or neither. */
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** STUN/TURN servers for the server side; default none (werift's public STUN default is off). */
  iceServers?: IceServer[];
  /**
   * Last-N: each participant receives the cameras of at most this many others, those who spoke
   * most recently (audio always flows). 0 or absent: every camera.
   */
  lastN?: number;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The subset of pino / console the media plane logs through. */
export interface MediaLogger {
  /**
   * with isLevelEnabled: each subscriber's layer decisions, at debug when they change, at trace
   * every one (pino has all three)
   */
  debug?(obj: object, msg?: string): void;
  trace?(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PeerOptions {
  canPublish: CanPublish;
  /** held from the start (a preset's start-muted); nothing by default */
  held?: HeldSources;
}

/** One m-line of the subscriber offer that carries media. */
export interface SubscribedTrack {
  mid: string;
  /** the publishing participant */
  peerId: string;
  source: TrackSource;
  kind: TrackKind;
}

export interface SubscriberOffer {
  sdp: string;
  tracks: SubscribedTrack[];
  /** Increments with every new offer of this peer; informative (answers are not matched by it). */
  version: number;
}

/** One m-line of a publisher offer, as the worker understood it. */
export interface PublishedTrackInfo {
  mid: string;
  source: TrackSource;
  kind: TrackKind;
  /** false when `canPublish` forbids this source: accepted in SDP, not forwarded */
  forwarded: boolean;
}

export interface PublishAnswer {
  sdp: string;
  tracks: PublishedTrackInfo[];
}

export interface TrackEvent {
  mid: string;
  source: TrackSource;
  kind: TrackKind;
}

/** Counters of one published track as seen by the worker. */
export interface PublishedTrackStats extends TrackEvent {
  forwarded: boolean;
  /** muted on the server: arriving, not forwarded (see HeldSources) */
  held: boolean;
  packets: number;
  bytes: number;
  /** keyframe requests (PLI) sent to the publisher */
  pliSent: number;
  /** sequence numbers werift's receiver asked the publisher to resend (repeats included) */
  nacksSent: number;
  subscribers: number;
  /** the codec the publisher sends, as negotiated (`video/H264`, `video/VP8`, `audio/opus`) */
  codec: string | undefined;
  /** its streams, lowest first: one, or its simulcast layers (rid) */
  layers: { rid: string | undefined; flowing: boolean; kbps: number; width: number; height: number }[];
}

/** Counters of one forwarded track on a subscriber transport. */
export interface DownTrackStats {
  mid: string;
  peerId: string;
  source: TrackSource;
  kind: TrackKind;
  packets: number;
  bytes: number;
  /** NACK packets the subscriber sent us */
  nacksReceived: number;
  /** packets werift's RTCRtpSender resent from its history in answer to NACKs */
  retransmitted: number;
  /** the RTX payload type resends go under (RFC 4588), if the subscriber accepted RTX; else on the media SSRC */
  rtxPayloadType: number | undefined;
  /** PLI/FIR the subscriber sent us */
  keyframeRequests: number;
  /** keyframes asked for it because a packet it asked for stayed lost after our resends */
  keyframesForLoss: number;
  /** mime type the track is sent with now (`video/H264`, `video/VP8`, `audio/opus`), once known */
  codec: string | undefined;
  /** video packets not forwarded because the subscriber did not accept the publisher's codec */
  undecodable: number;
  /** the simulcast layer forwarded now (undefined: none yet) and the one it moves to; paused by last-N or the link */
  layer: number | undefined;
  targetLayer: number;
  paused: boolean;
}

export interface PeerStats {
  peerId: string;
  /** werift's connectionState, or 'none' before the first publish */
  publisherState: string;
  subscriberState: string;
  published: PublishedTrackStats[];
  subscribed: DownTrackStats[];
}

export interface WorkerStats {
  index: number;
  threadId: number;
  alive: boolean;
  rooms: number;
  peers: number;
  /** event-loop utilization of the worker thread (0..1) since the previous `stats()` call */
  eventLoopUtilization: number;
  /** event-loop utilization over the last sampling period (2 s), what placement uses; independent of `stats()` calls */
  recentEventLoopUtilization: number;
  /** time the worker's event loop was busy since this thread started, in seconds (a counter: its rate is the utilization) */
  eventLoopActiveSeconds: number;
  /** tracks received from publishers now, and tracks sent to subscribers now (one per subscriber and track) */
  tracksPublished: number;
  tracksForwarded: number;
  /** incoming sequence numbers skipped, and packets that arrived after a later one while some were missing */
  packetsLost: number;
  packetsLate: number;
  /** packets sent again for subscribers' NACKs, and NACKed packets already gone from the send history */
  packetsResent: number;
  resendsMissing: number;
  /** RTP received from publishers since the worker started */
  packetsIn: number;
  bytesIn: number;
  /** RTP sent to subscribers (forwarded, not counting retransmissions) */
  packetsOut: number;
  bytesOut: number;
  /** times this worker slot was respawned after a crash */
  restarts: number;
  /**
   * CPU time used by the worker thread since it started, in seconds (Linux only). Unlike
   * eventLoopUtilization it does not count time the thread waited for a CPU.
   */
  cpuSeconds: number | undefined;
  /**
   * Times the worker thread could not run for 250 ms or more (a long task, a garbage collection,
   * no free core), and how long they lasted in seconds: publishers' estimates fall after them.
   */
  loopStalls: number;
  loopStalledSeconds: number;
}

export type MediaErrorCode =
  | 'not_found'
  | 'invalid'
  | 'invalid_state'
  | 'closed'
  | 'worker_died'
  | 'not_running'
  | 'timeout';

export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

// ---- events (listener signatures, for the typed emitters) ----

export interface MediaServiceEvents {
  /** A worker thread exited unexpectedly; its rooms and peers are already closed. */
  workerDied: [index: number, error: Error];
  /** A replacement worker thread is up. */
  workerRespawned: [index: number];
}

export interface MediaRoomEvents {
  /**
   * The loudest participant, smoothed over ~1 s and switched at most every ~1.5 s.
   * `null` when the current speaker leaves or stops publishing audio; silence alone keeps the
   * last speaker.
   */
  activeSpeaker: [peerId: string | null];
  /**
   * The room's recording stopped without `stopRecording`: a write failed (`failed`, e.g. a full
   * disk; the meeting goes on) or the room closed (`closed`). What was written stays, playable.
   */
  recordingEnded: [recordingId: string, reason: 'failed' | 'closed', error: string | undefined, files: RecordedFile[]];
  closed: [reason: CloseReason];
}

/**
 * A video a participant does not receive now, and why: `last-n` (not among the latest speakers)
 * or `bandwidth` (the participant's downlink cannot carry it with the rest).
 */
export interface PausedVideo {
  peerId: string;
  source: 'camera' | 'screen';
  reason: 'last-n' | 'bandwidth';
}

/** How large a participant's page shows one video (device pixels; 0×0: not on screen). */
export interface VideoSize {
  peerId: string;
  source: 'camera' | 'screen';
  width: number;
  height: number;
}

export interface MediaPeerEvents {
  subscriberOffer: [offer: SubscriberOffer];
  /** the videos this peer does not receive now (the whole list each time) */
  videoPaused: [videos: PausedVideo[]];
  connectionState: [transport: TransportRole, state: TransportState];
  trackPublished: [track: TrackEvent];
  trackUnpublished: [track: TrackEvent];
  closed: [reason: CloseReason];
}

/** A recording file holds a participant's microphone and camera, or their screen share. */
export type RecordingGroup = 'camera' | 'screen';

/** One WebM file written by a room's recording (`MediaRoom.startRecording`). */
export interface RecordedFile {
  peerId: string;
  group: RecordingGroup;
  /** absolute path */
  path: string;
  /** wall-clock ms of its first packet (null: nothing arrived): its place on the recording's timeline */
  startedAt: number | null;
  bytes: number;
  /** whether audio / video packets were written */
  audio: boolean;
  video: boolean;
}
