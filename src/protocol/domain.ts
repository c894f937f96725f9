/**
 * The domain types that cross the wire between the room and the server. The core has its own
 * declarations of the same shapes; src/signaling/contract.ts checks at compile time that both stay
 * identical. No imports: built into the browser and the server.
 */

export type Role = 'host' | 'moderator' | 'participant' | 'viewer';
export type TrackSource = 'microphone' | 'camera' | 'screen';

/** Which link the page was opened from. */
export type RoomLink =
  | { kind: 'personal'; token: string }
  | { kind: 'public'; code: string }
  | { kind: 'conference'; key: string };

/**
 * How someone without a personal link may come in, as the meeting allows. `guest`: with a name
 * only. `pin`: with a name and the meeting's PIN. `usernamePassword`: as one of the account's
 * registered users. `signup`: by registering on the spot.
 */
export interface WaysIn {
  guest: boolean;
  pin: boolean;
  usernamePassword: boolean;
  signup: boolean;
}

/**
 * What a page should show instead of the room (also the `state` of a refused join).
 * `joined_elsewhere`: the same person took their seat (or their place in the lobby) from another
 * window or tab; nobody removed them, and this page may take it back.
 */
export type RoomState =
  | 'not_started' | 'ended' | 'cancelled' | 'disabled' | 'service_stopped' | 'full'
  | 'invitation_cancelled' | 'removed' | 'joined_elsewhere' | 'not_found' | 'declined';

/**
 * With the state `not_started`: when the meeting starts (ISO), and the same in words in the
 * organiser's time zone (as RoomBootstrap.meeting). Absent when the meeting has no start time.
 */
export interface StartTime {
  startsAt?: string;
  startsAtText?: string;
}

export interface Permissions {
  publishAudio: boolean;
  publishVideo: boolean;
  shareScreen: boolean;
  chat: boolean;
  /** mute and remove others, end for all */
  moderate: boolean;
  /** start and stop the recording */
  record: boolean;
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
  /**
   * Their connection is away (socket dropped, or their media silent or failed) and the seat is
   * kept for them: show them as reconnecting, not as gone. Absent when connected.
   */
  reconnecting?: boolean;
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

/**
 * The `code` of an `error` message on the socket: a request the server refused or could not carry
 * out. The seat stays; the page shows the message or retries.
 */
export type SocketErrorCode =
  | 'invalid' // the message is malformed
  | 'forbidden' // this seat may not do that (chat, moderate, publish)
  | 'not_found' // no such participant in the room or lobby
  | 'full' // the meeting has no free seat for the person let in
  | 'rate_limited' // e.g. media restarted too often
  | 'conflict' | 'unauthenticated' | 'quota_exceeded' | 'unavailable' // refusals of the core
  | 'invalid_state' | 'closed' | 'not_running' | 'timeout' | 'worker_died' // media could not do it
  | 'internal';
