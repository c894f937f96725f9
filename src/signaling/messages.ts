/**
 * The protocol between the meeting room (src/web) and the server: the link page's bootstrap
 * data, the join request, and the WebSocket messages. Written once, imported by both sides;
 * nothing here may import Node or browser APIs.
 *
 * Flow: the link page embeds a `RoomBootstrap`; after the pre-join screen the browser POSTs a
 * `JoinRequest` to `JOIN_PATH` and gets a short-lived join token; it opens `WS_PATH?token=…`;
 * the server answers `welcome`. The browser then offers its tracks on the publisher transport
 * (`publish` → `publishAnswer`) and answers the server's `subscriberOffer`s on the subscriber
 * transport (`subscriberAnswer`). If the socket drops, the browser reconnects within
 * `RESUME_WINDOW_MS` with `WS_PATH?resume=<resumeToken>` and keeps its seat.
 */

export const JOIN_PATH = '/rtc/join';
export const WS_PATH = '/rtc/ws';
/** A dropped socket may come back within this long without the person having left. */
export const RESUME_WINDOW_MS = 30_000;
/** The browser pings this often; the server drops a socket silent for 3 intervals. */
export const PING_INTERVAL_MS = 10_000;
export const CHAT_MAX_LENGTH = 2000;

export type Role = 'host' | 'moderator' | 'participant' | 'viewer';
export type TrackSource = 'microphone' | 'camera' | 'screen';

/** Which link the page was opened from. */
export type RoomLink =
  | { kind: 'personal'; token: string }
  | { kind: 'public'; code: string }
  | { kind: 'conference'; key: string };

/** Embedded in the link page as JSON (script#parley-bootstrap). */
export interface RoomBootstrap {
  link: RoomLink;
  meeting: { title: string };
  /** Set on personal links: who the link is for. */
  person?: { name: string; role: Role };
  /** The link does not identify the person: ask for a name. */
  needsName: boolean;
  /** The page is inside an iframe (the embed link). */
  embedded: boolean;
}

export interface JoinRequest {
  link: RoomLink;
  /** Required when the bootstrap said needsName. */
  name?: string;
}

export interface JoinResponse {
  joinToken: string;
  /** ISO time after which the token no longer opens a socket. */
  expiresAt: string;
}

/** What a page should show instead of the room (also the `state` of a refused join). */
export type RoomState =
  | 'not_started' | 'ended' | 'cancelled' | 'disabled' | 'service_stopped' | 'full'
  | 'invitation_cancelled' | 'removed' | 'not_found';

/** A refused join: HTTP 4xx with this body. */
export interface JoinRefusal {
  error: { code: string; message: string; state?: RoomState };
}

export interface Permissions {
  publishAudio: boolean;
  publishVideo: boolean;
  shareScreen: boolean;
  chat: boolean;
  /** mute and remove others, end for all */
  moderate: boolean;
  startAudioMuted: boolean;
  startVideoOff: boolean;
}

export interface ParticipantInfo {
  id: string;
  name: string;
  role: Role;
  audioMuted: boolean;
  videoMuted: boolean;
  screenSharing: boolean;
  handRaised: boolean;
}

export interface ChatMessage {
  id: string;
  from: string;
  name: string;
  text: string;
  /** ISO time */
  at: string;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** One m-line of the subscriber offer that carries media. */
export interface RemoteTrack {
  mid: string;
  participantId: string;
  source: TrackSource;
  kind: 'audio' | 'video';
}

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

// ---- browser → server ---------------------------------------------------------------------

export type ClientMessage =
  /** Offer on the publisher transport; `sources` maps each m-line's mid to what it carries. */
  | { type: 'publish'; sdp: string; sources: Record<string, TrackSource> }
  | { type: 'subscriberAnswer'; sdp: string }
  | { type: 'ice'; transport: 'publisher' | 'subscriber'; candidate: IceCandidate | null }
  /** The browser's transports failed (e.g. after a network change): start media over, same seat. */
  | { type: 'resetMedia' }
  | { type: 'setMuted'; source: TrackSource; muted: boolean }
  | { type: 'chat'; text: string }
  | { type: 'raiseHand'; raised: boolean }
  /** Moderators only. */
  | { type: 'moderate'; action: 'mute' | 'remove'; participantId: string }
  /** Moderators only. */
  | { type: 'endForAll' }
  | { type: 'leave' }
  | { type: 'ping'; t: number };

// ---- server → browser ---------------------------------------------------------------------

export type ServerMessage =
  | {
      type: 'welcome';
      self: ParticipantInfo;
      /** Everyone else in the room now. */
      participants: ParticipantInfo[];
      permissions: Permissions;
      iceServers: IceServer[];
      /** Reconnect with `WS_PATH?resume=<resumeToken>` after a drop. */
      resumeToken: string;
      /** true when this socket took over a seat after a drop. */
      resumed: boolean;
      meeting: { title: string };
      chat: ChatMessage[];
      activeSpeaker: string | null;
    }
  | { type: 'publishAnswer'; sdp: string }
  | { type: 'subscriberOffer'; sdp: string; tracks: RemoteTrack[] }
  | { type: 'participantJoined'; participant: ParticipantInfo }
  | { type: 'participantUpdated'; participant: ParticipantInfo }
  | { type: 'participantLeft'; participantId: string }
  | { type: 'activeSpeaker'; participantId: string | null }
  | { type: 'chat'; message: ChatMessage }
  /**
   * The server lost this seat's media session (e.g. a media worker restarted): close both
   * transports and send `resetMedia`, then publish again on fresh ones.
   */
  | { type: 'mediaReset' }
  /** A moderator muted you: turn the microphone off (you may turn it on again). */
  | { type: 'muteRequested'; by: string }
  /** The session is over for this page; show `state`. The socket closes after this. */
  | { type: 'closed'; state: RoomState; message: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong'; t: number };
