import type { ChatMessage, FormField, JoinWay, ParticipantInfo, Permissions, RoomBootstrap, RoomState } from '../protocol/messages.ts';

export type { FormField, JoinWay } from '../protocol/messages.ts';

/**
 * Where the page is. The room's own phases (counting down to the start, pre-join, joining,
 * waiting in the lobby, in the room), plus every RoomState page the server can send us to, plus
 * the two endings that are ours: the person left, or the connection could not be resumed.
 */
export type Phase =
  | 'countdown' | 'prejoin' | 'joining' | 'lobby' | 'room' | 'reconnecting' | 'left' | 'connection_lost' | RoomState;

/** Phases after which nothing more happens until the person joins again (or the page reloads). */
export const FINAL_PHASES: ReadonlySet<Phase> = new Set<Phase>([
  'countdown', 'left', 'connection_lost', 'not_started', 'ended', 'cancelled', 'disabled', 'service_stopped',
  'full', 'invitation_cancelled', 'removed', 'joined_elsewhere', 'not_found', 'declined',
]);

/** What the pre-join form holds. */
export interface JoinForm {
  way: JoinWay;
  name: string;
  pin: string;
  username: string;
  password: string;
  email: string;
}

/** Why the last join attempt failed, shown next to the pre-join form. */
export interface JoinProblem {
  message: string;
  /** The field to blame (marked invalid and focused). */
  field?: FormField;
  /** A refusal of what was sent: the password field is emptied (everything else is kept). */
  clearPassword?: boolean;
  /** Bumped on every refusal, so the form reacts to a repeated one too. */
  seq: number;
}

/** A personal link's invitation, as this page knows it. */
export interface InvitationState {
  answer: 'invited' | 'declined';
  /** The person answered on this page (so 'invited' reads "You accepted"). */
  answered: boolean;
  busy: boolean;
  error?: string;
}

export interface WaitingPerson {
  id: string;
  name: string;
}

export interface DeviceOption {
  deviceId: string;
  label: string;
}

/** The camera, microphone and screen of this browser, as the UI shows them. */
export interface LocalSnapshot {
  micOn: boolean;
  camOn: boolean;
  audioTrack?: MediaStreamTrack;
  videoTrack?: MediaStreamTrack;
  screenTrack?: MediaStreamTrack;
  audioDeviceId?: string;
  videoDeviceId?: string;
  audioInputs: DeviceOption[];
  videoInputs: DeviceOption[];
  /** Why the microphone / camera cannot be used, in words for the person. */
  micError?: string;
  camError?: string;
  /** getUserMedia is running (first start or a device switch). */
  starting: boolean;
  canShareScreen: boolean;
}

/** What a remote participant sends us, by source. */
export interface RemoteMedia {
  microphone?: MediaStreamTrack;
  camera?: MediaStreamTrack;
  screen?: MediaStreamTrack;
}

export type Panel = 'chat' | 'people' | null;

export interface Toast {
  id: number;
  text: string;
}

export type PauseReason = 'last-n' | 'bandwidth';

export interface AppState {
  phase: Phase;
  bootstrap: RoomBootstrap;
  title: string;
  /** Why the last join attempt failed, shown on the pre-join screen. */
  joinError?: JoinProblem;
  /** Too many wrong attempts: Join waits until this time (ms epoch). */
  retryAt?: number;
  /** Joining: the join token opens the room only at this time (ms epoch, our clock). */
  opensAt?: number;
  /** Personal links with an invitation not yet used: accept or decline. */
  invitation?: InvitationState;
  /** Moderators: who waits in the lobby now. */
  waiting: WaitingPerson[];
  /** The server's sentence for the page we were sent to (`closed.message`). */
  pageMessage?: string;
  self?: ParticipantInfo;
  /** Everyone else in the room. */
  others: ParticipantInfo[];
  permissions?: Permissions;
  remote: ReadonlyMap<string, RemoteMedia>;
  activeSpeaker: string | null;
  /** The other person who spoke last: the large tile of the speaker view. */
  featured: string | null;
  /** Grid of everyone, or the speaker view (the latest speaker large, the others in a strip). */
  view: 'grid' | 'speaker';
  /**
   * Videos the server does not send us now (`participantId:source` → why): `last-n` (not among
   * the latest speakers), `bandwidth` (our connection cannot carry it with the others now).
   */
  pausedVideos: Readonly<Record<string, PauseReason>>;
  /** The meeting is being recorded (the server says so). */
  recording: boolean;
  chat: ChatMessage[];
  unreadChat: number;
  panel: Panel;
  toasts: Toast[];
  /** Text for the screen readers' polite live region (joins, leaves). */
  announcement: string;
  /**
   * Audio and video: `gaveUp` after too many restarts in a row (the room offers "Try again"),
   * `retrying` from then until they connect again.
   */
  mediaProblem?: 'gaveUp' | 'retrying';
  /** The browser refused to autoplay remote audio until the person clicks. */
  audioBlocked: boolean;
  local: LocalSnapshot;
}
