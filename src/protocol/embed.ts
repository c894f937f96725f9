/**
 * The embedding page ↔ the room in its iframe (window.postMessage).
 *
 * parley-embed.js adds `?origin=<the embedding page's origin>` to the iframe's src. The room then
 * takes commands only from that origin and posts events only to it; the script takes events
 * only from the iframe's window and Parley's origin. Every message carries `parley: 1`.
 */

export type EmbedEventName =
  | 'ready' | 'joined' | 'left' | 'participantJoined' | 'participantLeft' | 'muteChanged' | 'meetingEnded';

/** Room → embedding page. */
export interface EmbedEvent {
  parley: 1;
  event: EmbedEventName;
  data?: Record<string, unknown>;
}

export type EmbedCommandName = 'mute' | 'unmute' | 'cameraOn' | 'cameraOff' | 'leave';

/** Embedding page → room. */
export interface EmbedCommand {
  parley: 1;
  command: EmbedCommandName;
}
