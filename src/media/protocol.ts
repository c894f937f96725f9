// Messages between the main thread and a media worker. Only small structured-cloneable data
// crosses: SDP strings, candidates, ids, counters. RTP never leaves the worker.
import type {
  CanPublish,
  CloseReason,
  HeldSources,
  IceCandidateInit,
  RecordedFile,
  IceServer,
  MediaErrorCode,
  PausedVideo,
  VideoSize,
  PeerStats,
  PublishAnswer,
  SubscriberOffer,
  TrackEvent,
  TrackSources,
  TransportRole,
  TransportState,
} from './types.js';

export interface WorkerSettings {
  index: number;
  listenIp: string;
  announcedAddresses: string[];
  /** this worker's slice of the configured range */
  portRange?: [number, number];
  iceServers: IceServer[];
  /** MediaConfig.lastN (0 or absent: every camera) */
  lastN?: number;
  /** Accept the test-only requests (`testPacketLoss`); set by src/media/testing.ts only. */
  testHooks: boolean;
  /** Send debug log lines (each subscriber's layer decisions): the logger is at debug level. */
  debugLog?: boolean;
  /** And at trace level: every decision, changed or not (a debugging session's whole trace). */
  traceLog?: boolean;
}

/** Request name → [params, result]. */
export interface WorkerRequests {
  configure: [{ announcedAddresses: string[] }, void];
  openRoom: [{ roomId: string }, void];
  closeRoom: [{ roomId: string; reason: CloseReason }, void];
  addPeer: [{ roomId: string; peerId: string; canPublish: CanPublish; held: HeldSources }, void];
  closePeer: [{ roomId: string; peerId: string; reason: CloseReason }, void];
  publish: [{ roomId: string; peerId: string; sdp: string; sources: TrackSources }, PublishAnswer];
  subscriberAnswer: [{ roomId: string; peerId: string; sdp: string }, void];
  addIceCandidate: [
    { roomId: string; peerId: string; transport: TransportRole; candidate: IceCandidateInit | null },
    void,
  ];
  setCanPublish: [{ roomId: string; peerId: string; canPublish: CanPublish }, void];
  setHeld: [{ roomId: string; peerId: string; held: HeldSources }, void];
  /** `iceRestart`: the offer has new ICE credentials (the browser's network dropped or changed). */
  requestSubscriberOffer: [{ roomId: string; peerId: string; iceRestart?: boolean }, void];
  setVideoSizes: [{ roomId: string; peerId: string; sizes: VideoSize[] }, void];
  peerStats: [{ roomId: string; peerId: string }, PeerStats];
  workerStats: [Record<string, never>, WorkerCounters];
  closeAll: [{ reason: CloseReason }, void];
  /** Before the thread is terminated: no UDP socket may be open then (see worker/udp-sockets.ts). */
  closeSockets: [Record<string, never>, void];
  /** Records every forwarded track of the room into `dir` (worker/recorder.ts). */
  startRecording: [{ roomId: string; recordingId: string; dir: string }, void];
  stopRecording: [{ roomId: string; recordingId: string }, RecordedFile[]];
  /** Test-only (testHooks): the room's next recording writes fail after `afterBytes`, like a full disk. */
  testFailRecordingWrites: [{ afterBytes: number }, void];
  /** Test-only (testHooks): the worker throws an error nobody catches, as a bug would. */
  testCrash: [Record<string, never>, void];
  /** Test-only (testHooks): the worker's thread stops for `ms`, as in a long garbage collection. */
  testStall: [{ ms: number }, void];
  /**
   * Test-only (testHooks): a probe cluster of `paddingBps` to the peer's subscriber transport now;
   * its verdict and what the browser answered (worker/probe-cluster.ts).
   */
  testProbe: [{ roomId: string; peerId: string; paddingBps: number }, { verdict: 'carried' | 'full' | 'unclear'; packets: number; judged: number; answered: number; lost: number; growthMs: number; queueMs: number }];
  /**
   * Test-only fault injection (worker/test-hooks.ts), rejected unless the worker was started
   * with `testHooks`; sent by src/media/testing.ts, never by the public classes.
   */
  testPacketLoss: [{ roomId: string; peerId: string; direction: 'uplink' | 'downlink'; percent: number }, void];
}

export type RequestName = keyof WorkerRequests;

export interface WorkerCounters {
  rooms: number;
  peers: number;
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Incoming sequence numbers skipped (see PublishedTrack.countLoss) */
  packetsLost: number;
  /** Incoming packets older than the highest seen while some were missing (retransmitted or reordered) */
  packetsLate: number;
  /** Packets sent again for subscribers' NACKs, and NACKed packets no longer in the send history (worker/werift-nack-limit.ts) */
  packetsResent: number;
  resendsMissing: number;
  /** Tracks received from publishers now */
  tracksPublished: number;
  /** Tracks sent to subscribers now (one per subscriber and track) */
  tracksForwarded: number;
  /** CPU seconds of the worker thread (Linux only) */
  cpuSeconds: number | undefined;
  /** Times the thread could not run for 250 ms or more, and how long they lasted (s): worker/loop-stalls.ts */
  loopStalls: number;
  loopStalledSeconds: number;
}

export type MainToWorker = {
  [K in RequestName]: { t: 'req'; id: number; op: K; params: WorkerRequests[K][0] };
}[RequestName];

export type WorkerEvent =
  | { ev: 'ready' }
  | { ev: 'subscriberOffer'; roomId: string; peerId: string; offer: SubscriberOffer }
  | { ev: 'connectionState'; roomId: string; peerId: string; transport: TransportRole; state: TransportState }
  | { ev: 'trackPublished'; roomId: string; peerId: string; track: TrackEvent }
  | { ev: 'trackUnpublished'; roomId: string; peerId: string; track: TrackEvent }
  | { ev: 'peerClosed'; roomId: string; peerId: string; reason: CloseReason }
  | { ev: 'activeSpeaker'; roomId: string; peerId: string | null }
  | { ev: 'videoPaused'; roomId: string; peerId: string; videos: PausedVideo[] }
  | { ev: 'roomClosed'; roomId: string; reason: CloseReason }
  /** A recording stopped without a stopRecording request: a write failed, or the room closed. */
  | { ev: 'recordingEnded'; roomId: string; recordingId: string; reason: 'failed' | 'closed'; error?: string; files: RecordedFile[] }
  | { ev: 'log'; level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; msg: string; data: Record<string, unknown> };

export type WorkerToMain =
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; code: MediaErrorCode; message: string }
  | ({ t: 'ev' } & WorkerEvent);
