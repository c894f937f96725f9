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

import type { Role, TrackSource, RoomLink, WaysIn, RoomState, StartTime, Permissions, ParticipantInfo, ChatMessage, IceServer, SocketErrorCode } from './domain.js';

export type { Role, TrackSource, RoomLink, WaysIn, RoomState, StartTime, Permissions, ParticipantInfo, ChatMessage, IceServer, SocketErrorCode } from './domain.js';
export type * from './embed.js';

export const JOIN_PATH = '/rtc/join';
/** POST `InvitationRequest`: a personal link's holder accepts or declines before the meeting. */
export const INVITATION_PATH = '/rtc/invitation';
/** The embedding page's script (see EmbedEvent / EmbedCommand). */
export const EMBED_SCRIPT_PATH = '/parley-embed.js';
export const WS_PATH = '/rtc/ws';
/**
 * A dropped socket may come back within this long without the person having left: the default
 * of the server's RESUME_WINDOW_SECONDS, which `welcome` carries (`resumeWindowMs`).
 */
export const RESUME_WINDOW_MS = 30_000;
/**
 * A seat may restart its media (`resetMedia`) at most this many times per window; the server
 * refuses more with an `error` of code `rate_limited`, and the browser gives up before that.
 */
export const MEDIA_RESET_LIMIT = { count: 5, windowMs: 60_000 } as const;
/** `restartIce` (cheaper: the transports and their media stay) at most this many times per window. */
export const ICE_RESTART_LIMIT = { count: 20, windowMs: 60_000 } as const;
/** The browser pings this often; the server drops a socket silent for 3 intervals. */
export const PING_INTERVAL_MS = 10_000;
export const CHAT_MAX_LENGTH = 2000;
/** Videos a `videoSizes` message may describe. */
export const VIDEO_SIZES_MAX = 200;

/** Embedded in the link page as JSON (script#parley-bootstrap). */
export interface RoomBootstrap {
  link: RoomLink;
  /**
   * `startsAt` (ISO) is set when the meeting has not started yet: the page counts down.
   * `startsAtText` says the same in words, in the organiser's time zone ("Friday 5 March 2027 at
   * 14:30 (America/New_York)").
   */
  meeting: { title: string; startsAt?: string; startsAtText?: string };
  /** 'not_started': show a countdown to meeting.startsAt, then reload (the room opens by itself). */
  state?: 'not_started';
  /**
   * Set on personal links: who the link is for. `invitation` is set while they have not joined
   * yet: they may accept or decline (and change their mind) before the meeting.
   */
  person?: { name: string; role: Role; invitation?: 'invited' | 'declined' };
  /** The link does not identify the person: ask for a name (and whatever `ways` requires). */
  needsName: boolean;
  /** Public links: the ways in this meeting offers (absent on personal links). */
  ways?: WaysIn;
  /**
   * Public links: the pre-join form, as the server's rules make it: the ways in to choose from,
   * in the order the page lists them, each with the fields it asks for. Empty: the meeting
   * admits invited people only. Absent: a name only (as guest).
   */
  form?: JoinWayForm[];
  /** The meeting is being recorded now: the pre-join page says so. */
  recording?: boolean;
  /** The page is inside an iframe (the embed link). */
  embedded: boolean;
}

/** How someone on a public link comes in: the choice on the pre-join screen (see WaysIn). */
export type JoinWay = 'guest' | 'pin' | 'login' | 'signup';

export type FormField = 'name' | 'pin' | 'username' | 'password' | 'email';

/** One field of the pre-join form, with the server's limits for it. */
export interface FieldRule {
  required: boolean;
  maxLength?: number;
  minLength?: number;
  /** A RegExp source a non-empty value must match. */
  pattern?: string;
}

/** A way in on the pre-join form, and the fields it asks for, in the order shown. */
export interface JoinWayForm {
  way: JoinWay;
  fields: { field: FormField; rule: FieldRule }[];
}

export interface JoinRequest {
  link: RoomLink;
  /** Required when the bootstrap said needsName (not with `login`: the account knows the name). */
  name?: string;
  /** With ways.pin. */
  pin?: string;
  /** With ways.usernamePassword. */
  login?: { username: string; password: string };
  /** With ways.signup: registers the person as a user of the meeting's account. */
  signup?: { username: string; password: string; email?: string };
  /**
   * Several nodes: the address of the meeting's node that stopped answering this page's socket.
   * The server checks it itself and, if that node is indeed gone, places the meeting elsewhere.
   */
  unreachableNode?: string;
}

export interface JoinResponse {
  joinToken: string;
  /**
   * With several nodes: the address (scheme, host, port) of the node that runs this meeting; the
   * socket opens there. Absent: the page's own server.
   */
  nodeUrl?: string;
  /** ISO time before which the token does not open a socket (the meeting's start, when early). */
  notBefore: string;
  /** ISO time after which the token no longer opens a socket. */
  expiresAt: string;
  /**
   * The server's clock when it answered (ISO, milliseconds): the browser times notBefore and
   * expiresAt with it. (The Date header has whole seconds only; read as the clock, it made a
   * token valid now look up to a second early, and the room waited that second.)
   */
  serverTime: string;
  /** The meeting is being recorded now: the page says so before the person enters. */
  recording: boolean;
}

export interface InvitationRequest {
  token: string;
  answer: 'accept' | 'decline';
}

export interface InvitationResponse {
  invitation: 'invited' | 'declined';
}

/**
 * A refused join: HTTP 4xx with this body. With `state`, show that state's page. Without it the
 * person can try again on the pre-join screen: `code` is `invalid` (a field, named in `field`),
 * `unauthenticated` (wrong PIN, username or password), `conflict` (e.g. the username is taken)
 * or `rate_limited` (too many wrong attempts; `retryAfterSeconds` says how long to wait).
 */
export interface JoinRefusal {
  error: { code: string; message: string; state?: RoomState; field?: string; retryAfterSeconds?: number } & StartTime;
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
  /**
   * Same transports, new ICE credentials (the network dropped or changed): the server sends a
   * `subscriberOffer` that restarts ICE on the subscriber transport. The publisher transport
   * restarts by itself with a `publish` whose offer has new credentials (`iceRestart`). At most
   * ICE_RESTART_LIMIT a minute (`rate_limited` past that).
   */
  | { type: 'restartIce' }
  /**
   * How large this page shows each remote video now, in device pixels (0×0: not on screen), the
   * whole list each time it changes: the server sends a small tile a lower-resolution layer of a
   * simulcast camera. At most VIDEO_SIZES_MAX entries.
   */
  | { type: 'videoSizes'; sizes: { participantId: string; source: 'camera' | 'screen'; width: number; height: number }[] }
  /**
   * Turns one of your sources on or off. `seen`: the latest `muteRequested.request` this page had
   * received when it sent this; an unmute sent before a newer mute request reached the page is
   * overtaken by that request and ignored (the page is about to comply with it).
   */
  | { type: 'setMuted'; source: TrackSource; muted: boolean; seen?: number }
  | { type: 'chat'; text: string }
  | { type: 'raiseHand'; raised: boolean }
  /** Moderators only. */
  | { type: 'moderate'; action: 'mute' | 'remove'; participantId: string }
  /** Moderators only. */
  | { type: 'endForAll' }
  /** Those whose permissions include `record`: start or stop the meeting's recording. */
  | { type: 'recording'; action: 'start' | 'stop' }
  /** Moderators only: let someone waiting in the lobby in, or turn them away. */
  | { type: 'admit'; participantId: string }
  | { type: 'decline'; participantId: string }
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
      /**
       * Reconnect with `WS_PATH?resume=<resumeToken>` after a drop, within `resumeWindowMs`. A
       * resume after the seat was closed (the meeting ended, the person was removed…) is answered
       * with that `closed` state for as long as the window lasts.
       */
      resumeToken: string;
      resumeWindowMs: number;
      /** true when this socket took over a seat after a drop. */
      resumed: boolean;
      meeting: { title: string };
      chat: ChatMessage[];
      activeSpeaker: string | null;
      /** The meeting is being recorded now. */
      recording: boolean;
    }
  /**
   * Fresh TURN credentials (sent before the last ones expire): for transports made or restarted
   * from now on. Allocations already made keep working.
   */
  | { type: 'iceServers'; iceServers: IceServer[] }
  | { type: 'publishAnswer'; sdp: string }
  | { type: 'subscriberOffer'; sdp: string; tracks: RemoteTrack[] }
  | { type: 'participantJoined'; participant: ParticipantInfo }
  | { type: 'participantUpdated'; participant: ParticipantInfo }
  | { type: 'participantLeft'; participantId: string }
  | { type: 'activeSpeaker'; participantId: string | null }
  /**
   * The videos you do not receive now, the whole list each time (empty: every video); show the
   * avatar instead of a frozen picture. `last-n`: a big meeting sends each person only the
   * cameras of those who spoke most recently. `bandwidth`: your connection cannot carry this
   * video with the others now (the server tries again from time to time). Audio always flows.
   */
  | { type: 'videoPaused'; videos: { participantId: string; source: 'camera' | 'screen'; reason: 'last-n' | 'bandwidth' }[] }
  /**
   * The recording started or stopped. `error`: it stopped by itself (e.g. the server's disk is
   * full); the meeting goes on.
   */
  | { type: 'recording'; recording: boolean; error?: string }
  | { type: 'chat'; message: ChatMessage }
  /**
   * The server lost this seat's media session (e.g. a media worker restarted), or needs it
   * published in another codec (someone who cannot decode H.264 joined): close both
   * transports and send `resetMedia`, then publish again on fresh ones.
   */
  | { type: 'mediaReset' }
  /**
   * How the server sees one of this seat's transports: `disconnected` when nothing has arrived
   * from the browser on it for a few seconds, `failed` when its ICE consent expired (werift: no
   * answer to its checks for 30 s). The page restarts ICE on `failed` (the server will not send
   * on that transport again until it does).
   */
  | { type: 'mediaTransport'; transport: 'publisher' | 'subscriber'; state: 'connected' | 'disconnected' | 'failed' }
  /**
   * A moderator (or the organiser, through the API) turned `source` off: mute the microphone,
   * turn the camera off or stop sharing the screen. You may turn it on again with `setMuted`; the
   * server stops forwarding it until you do, whatever the page does. `request` numbers this
   * seat's mute requests (1, 2, …): echo the latest you have seen in `setMuted`'s `seen`. A
   * request is sent again (same number) when an unmute of yours crossed it.
   */
  | { type: 'muteRequested'; by: string; source: TrackSource; request: number }
  /**
   * What you may do changed while you are in the room (the organiser changed the meeting's or
   * your preset). The server already enforces it; a source you may no longer send is muted
   * (see the `participantUpdated` about you that follows), one you may now send stays off until
   * you turn it on.
   */
  | { type: 'permissions'; permissions: Permissions }
  /**
   * The server is restarting: the socket closes after this. Keep the page as it is (reconnecting)
   * and open `WS_PATH?token=<rejoinToken>` until it is welcomed (or, with a lobby, `lobby`), for
   * up to `rejoinWindowMs`: the same seat, on the server that comes back. Then publish afresh.
   */
  | { type: 'restarting'; rejoinToken: string; rejoinWindowMs: number; message: string }
  /** The session is over for this page; show `state`. The socket closes after this. */
  | ({ type: 'closed'; state: RoomState; message: string } & StartTime)
  | { type: 'error'; code: SocketErrorCode; message: string }
  | { type: 'pong'; t: number }
  /** The meeting has a lobby: wait until a host or moderator lets you in (then `welcome` follows). */
  | { type: 'lobby' }
  /** To moderators: people waiting in the lobby now (sent whole on every change). */
  | { type: 'lobbyQueue'; waiting: { id: string; name: string }[] };

