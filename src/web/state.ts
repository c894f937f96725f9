import type { ChatMessage, ParticipantInfo, Permissions, RoomBootstrap, RoomState } from '../signaling/messages.ts';

/**
 * Where the page is. The room's own phases, plus every RoomState page the server can send us
 * to, plus the two endings that are ours: the person left, or the connection could not be resumed.
 */
export type Phase = 'prejoin' | 'joining' | 'room' | 'reconnecting' | 'left' | 'connection_lost' | RoomState;

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

export interface AppState {
  phase: Phase;
  bootstrap: RoomBootstrap;
  title: string;
  /** Why the last join attempt failed, shown on the pre-join screen. */
  joinError?: string;
  /** The server's sentence for the page we were sent to (`closed.message`). */
  pageMessage?: string;
  self?: ParticipantInfo;
  /** Everyone else in the room. */
  others: ParticipantInfo[];
  permissions?: Permissions;
  remote: ReadonlyMap<string, RemoteMedia>;
  activeSpeaker: string | null;
  chat: ChatMessage[];
  unreadChat: number;
  panel: Panel;
  toasts: Toast[];
  /** Text for the screen readers' polite live region (joins, leaves). */
  announcement: string;
  /** The browser refused to autoplay remote audio until the person clicks. */
  audioBlocked: boolean;
  local: LocalSnapshot;
}
