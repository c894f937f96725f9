import { CHAT_MAX_LENGTH, type ClientMessage, type ParticipantInfo, type TrackSource } from '../protocol/messages.ts';
import type { LocalMedia } from './local-media.ts';
import type { Notices } from './notices.ts';
import { FINAL_PHASES, type AppState, type Panel } from './state.ts';
import type { Store } from './store.ts';
import { storage } from './util.ts';

const VIEW_PREF = 'parley.view';

/** The layout this browser used last. */
export const savedView = (): AppState['view'] => (storage.get(VIEW_PREF) === 'speaker' ? 'speaker' : 'grid');

/**
 * What the person does in the room (microphone, camera, screen, hand, chat, host actions, the
 * panels), and telling the server what we send.
 */
export class Controls {
  /** What the server last knew of our mute state, so we only tell it about changes. */
  private told = { microphone: true, camera: true, screen: true };
  /** The latest mute request received (`muteRequested.request`), echoed in `setMuted`. */
  private muteRequestSeen = 0;

  constructor(
    private readonly store: Store<AppState>,
    private readonly local: LocalMedia,
    private readonly notices: Notices,
    private readonly send: (message: ClientMessage) => void,
    private readonly isViewer: () => boolean,
  ) {}

  /** What the server says we send (welcome, or an update about us): the base for tellMuteState. */
  serverKnows(self: ParticipantInfo): void {
    this.told = { microphone: self.audioMuted, camera: self.videoMuted, screen: !self.screenSharing };
  }

  /** A moderator (or the organiser, through the API) turned a source off: the server already holds it back. */
  mutedBy(by: string, source: TrackSource, request: number): void {
    this.told[source] = true;
    // The server repeats a request when an unmute of ours crossed it: comply, say it once.
    const news = request > this.muteRequestSeen;
    this.muteRequestSeen = Math.max(this.muteRequestSeen, request);
    const say = (text: string) => (news ? this.notices.toast(text) : undefined);
    if (source === 'microphone') {
      this.local.setMicOn(false);
      return say(`${by} muted your microphone. You can unmute yourself when you need to.`);
    }
    if (source === 'camera') {
      void this.local.setCamOn(false);
      return say(`${by} turned your camera off. You can turn it on again when you need to.`);
    }
    this.local.stopScreen();
    say(`${by} stopped your screen share. You can share again when you need to.`);
  }

  /** Tells the server what we send, whenever that differs from what it last knew. */
  tellMuteState(): void {
    const { phase, permissions, local } = this.store.get();
    if (phase !== 'room' || !permissions) return;
    const want = {
      microphone: !(local.micOn && local.audioTrack),
      camera: !local.videoTrack,
      screen: !local.screenTrack,
    };
    const may = { microphone: permissions.publishAudio, camera: permissions.publishVideo, screen: permissions.shareScreen };
    for (const source of ['microphone', 'camera', 'screen'] as const) {
      if (may[source] && want[source] !== this.told[source]) {
        this.told[source] = want[source];
        this.send({ type: 'setMuted', source, muted: want[source], seen: this.muteRequestSeen });
      }
    }
  }

  toggleMic(): void {
    const { permissions, local } = this.store.get();
    if (permissions && !permissions.publishAudio) return;
    // As the button shows it: on only with a working microphone (else a click retries it).
    this.local.setMicOn(!(local.micOn && local.audioTrack));
  }

  /** Microphone on or off (the embedding page's mute / unmute; before joining: how to join). */
  setMic(on: boolean): void {
    const { permissions, local, phase } = this.store.get();
    if (FINAL_PHASES.has(phase) || (on && (this.isViewer() || (permissions && !permissions.publishAudio)))) return;
    if (on ? local.micOn && local.audioTrack : !local.micOn) return;
    this.local.setMicOn(on);
  }

  /** Camera on or off (the embedding page's cameraOn / cameraOff; before joining: how to join). */
  setCam(on: boolean): void {
    const { permissions, local, phase } = this.store.get();
    if (FINAL_PHASES.has(phase) || (on && (this.isViewer() || (permissions && !permissions.publishVideo)))) return;
    if (on ? local.camOn && local.videoTrack : !local.camOn && !local.videoTrack) return;
    void this.local.setCamOn(on);
  }

  toggleCam(): void {
    const { permissions, local } = this.store.get();
    if (permissions && !permissions.publishVideo) return;
    void this.local.setCamOn(!(local.camOn && local.videoTrack));
  }

  async toggleScreen(): Promise<void> {
    const { permissions, local } = this.store.get();
    if (!permissions?.shareScreen) return;
    if (local.screenTrack) return this.local.stopScreen();
    try {
      await this.local.startScreen();
    } catch {
      this.notices.toast('Your screen could not be shared.');
    }
  }

  toggleHand(): void {
    const self = this.store.get().self;
    if (!self) return;
    this.setHand(!self.handRaised);
  }

  /** Our hand as we want it (also after a resume, when it changed while we were away). */
  setHand(raised: boolean): void {
    const self = this.store.get().self;
    if (!self) return;
    this.store.set({ self: { ...self, handRaised: raised } });
    this.send({ type: 'raiseHand', raised });
  }

  /** Returns false when the text cannot be sent (empty, too long, not allowed, offline). */
  sendChat(text: string): boolean {
    const trimmed = text.trim();
    const { permissions, phase } = this.store.get();
    if (!trimmed || trimmed.length > CHAT_MAX_LENGTH || !permissions?.chat || phase !== 'room') return false;
    this.send({ type: 'chat', text: trimmed });
    return true;
  }

  moderate(action: 'mute' | 'remove', participantId: string): void {
    this.send({ type: 'moderate', action, participantId });
  }

  /** Those who may record: start or stop it; the server's `recording` message is the truth. */
  setRecording(on: boolean): void {
    if (!this.store.get().permissions?.record) return;
    this.send({ type: 'recording', action: on ? 'start' : 'stop' });
  }

  endForAll(): void {
    this.send({ type: 'endForAll' });
  }

  /** Moderators: let someone in from the lobby, or turn them away. */
  answerKnock(participantId: string, admit: boolean): void {
    if (this.store.get().phase !== 'room') return;
    this.send({ type: admit ? 'admit' : 'decline', participantId });
    // Shown as handled at once; the server's next lobbyQueue is the truth.
    this.store.set((s) => ({ waiting: s.waiting.filter((w) => w.id !== participantId) }));
  }

  setPanel(panel: Panel): void {
    this.store.set((s) => ({ panel, unreadChat: panel === 'chat' ? 0 : s.unreadChat }));
  }

  /** Grid or speaker view; remembered in this browser. */
  setView(view: AppState['view']): void {
    this.store.set({ view });
    storage.set(VIEW_PREF, view);
  }

  setAudioBlocked(blocked: boolean): void {
    if (this.store.get().audioBlocked !== blocked) this.store.set({ audioBlocked: blocked });
  }

  dismissToast(id: number): void {
    this.notices.dismiss(id);
  }
}
