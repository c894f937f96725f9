import type { EmbedCommand, EmbedCommandName, EmbedEvent, EmbedEventName } from '../protocol/messages.ts';
import type { Meeting } from './meeting.ts';

const COMMANDS: readonly EmbedCommandName[] = ['mute', 'unmute', 'cameraOn', 'cameraOff', 'leave'];

/**
 * The embedding page's origin, when this page is in an iframe and its address says
 * `?origin=<http(s) origin>` (parley-embed.js adds it). Anything else: undefined, and the room
 * neither posts nor takes a single message.
 */
export function embeddingOrigin(win: Window = window): string | undefined {
  if (win.parent === win) return undefined;
  const given = new URLSearchParams(win.location.search).get('origin');
  if (!given) return undefined;
  try {
    const url = new URL(given);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== given) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/**
 * The room's side of the embed client API (see EmbedEvent / EmbedCommand in messages.ts and
 * parley-embed.js): events go to `window.parent` at `origin` only, and commands are taken only
 * from `window.parent` at `origin`.
 */
export class EmbedBridge {
  private lastMute: string | undefined;
  /** Between `joined` and `left`: mute changes are news. */
  private inRoom = false;

  constructor(private readonly meeting: Meeting, private readonly origin: string, private readonly win: Window = window) {}

  start(): void {
    this.win.addEventListener('message', (e) => this.onMessage(e));
    this.meeting.onEvent((event, data) => {
      if (event === 'left') this.inRoom = false;
      this.post(event, data);
      if (event === 'joined') {
        this.inRoom = true;
        this.lastMute = undefined; // the state at joining is news
        this.muteState();
      }
    });
    this.meeting.store.subscribe(() => this.muteState());
    this.post('ready');
  }

  private post(event: EmbedEventName, data?: Record<string, unknown>): void {
    const message: EmbedEvent = { parley: 1, event, ...(data ? { data } : {}) };
    try {
      this.win.parent.postMessage(message, this.origin);
    } catch {
      // The parent went away: nobody to tell.
    }
  }

  /** `muteChanged` whenever, in the room, what we send changes (muted microphone, camera off). */
  private muteState(): void {
    const { phase, local, permissions } = this.meeting.store.get();
    if (!this.inRoom || (phase !== 'room' && phase !== 'reconnecting')) return;
    const microphone = !(permissions?.publishAudio !== false && local.micOn && local.audioTrack);
    const camera = !(permissions?.publishVideo !== false && local.videoTrack);
    const key = `${microphone}:${camera}`;
    if (key === this.lastMute) return;
    this.lastMute = key;
    this.post('muteChanged', { microphone, camera });
  }

  private onMessage(e: MessageEvent): void {
    if (e.origin !== this.origin || e.source !== this.win.parent) return;
    const data = e.data as Partial<EmbedCommand> | null;
    if (!data || typeof data !== 'object' || data.parley !== 1 || !COMMANDS.includes(data.command as EmbedCommandName)) return;
    switch (data.command) {
      case 'mute':
        return this.meeting.controls.setMic(false);
      case 'unmute':
        return this.meeting.controls.setMic(true);
      case 'cameraOn':
        return this.meeting.controls.setCam(true);
      case 'cameraOff':
        return this.meeting.controls.setCam(false);
      case 'leave':
        return this.meeting.leave();
    }
  }
}
