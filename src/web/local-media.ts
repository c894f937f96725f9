import type { TrackSource } from '../protocol/messages.ts';
import type { DeviceOption, LocalSnapshot } from './state.ts';
import { deviceErrorText, NO_MEDIA_DEVICES } from './texts.ts';
import { storage } from './util.ts';

const AUDIO_PREF = 'parley.microphone';
const VIDEO_PREF = 'parley.camera';

/**
 * This browser's camera, microphone and screen. The microphone is opened once and muted with
 * `track.enabled`; the camera is really stopped when turned off (its light goes out). Every
 * change of a sendable track is reported through `onTrack`, so the publisher can swap it.
 */
export class LocalMedia {
  private snap: LocalSnapshot;
  /** What the meeting lets us send (known from `welcome`); a device opening late is dropped if not. */
  private readonly allowed = { audio: true, video: true };
  private starting: Promise<void> | undefined;
  /** A track to send changed (null: nothing to send for that source now). */
  onTrack: (source: TrackSource, track: MediaStreamTrack | null) => void = () => {};

  constructor(private readonly onChange: (snapshot: LocalSnapshot) => void) {
    const md = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    this.snap = {
      micOn: true,
      camOn: true,
      audioInputs: [],
      videoInputs: [],
      starting: false,
      audioDeviceId: storage.get(AUDIO_PREF),
      videoDeviceId: storage.get(VIDEO_PREF),
      canShareScreen: typeof md?.getDisplayMedia === 'function',
    };
    md?.addEventListener('devicechange', () => void this.refreshDevices());
  }

  get snapshot(): LocalSnapshot {
    return this.snap;
  }

  private update(patch: Partial<LocalSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.onChange(this.snap);
  }

  /** Opens the microphone (muted when off) and, when it is on, the camera. */
  start(): Promise<void> {
    this.starting ??= this.open().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async open(): Promise<void> {
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) {
      this.update({ micError: NO_MEDIA_DEVICES, camError: NO_MEDIA_DEVICES });
      return;
    }
    const wantAudio = this.allowed.audio && !this.snap.audioTrack;
    const wantVideo = this.allowed.video && this.snap.camOn && !this.snap.videoTrack;
    if (!wantAudio && !wantVideo) return;
    this.update({ starting: true });
    if (wantAudio && wantVideo) {
      // One request, so the browser asks once for both.
      try {
        const stream = await md.getUserMedia({ audio: this.audioConstraints(false), video: this.videoConstraints(false) });
        this.setAudioTrack(stream.getAudioTracks()[0]);
        this.setVideoTrack(stream.getVideoTracks()[0]);
      } catch {
        // Find out which one fails (no camera, a blocked microphone…), and keep the other.
        await this.openAudio();
        await this.openVideo();
      }
    } else if (wantAudio) {
      await this.openAudio();
    } else {
      await this.openVideo();
    }
    this.update({ starting: false });
    await this.refreshDevices();
  }

  setMicOn(on: boolean): void {
    if (this.snap.audioTrack) {
      this.snap.audioTrack.enabled = on;
      this.update({ micOn: on });
    } else {
      this.update({ micOn: on, micError: on ? undefined : this.snap.micError });
      if (on && this.allowed.audio) void this.openAudio();
    }
  }

  async setCamOn(on: boolean): Promise<void> {
    if (!on) {
      const track = this.snap.videoTrack;
      this.update({ camOn: false, videoTrack: undefined });
      if (track) {
        this.onTrack('camera', null);
        track.stop();
      }
      return;
    }
    this.update({ camOn: true, camError: undefined });
    if (!this.snap.videoTrack) await this.openVideo();
  }

  /**
   * Switches to another microphone or camera. The old one is released first: phones and some
   * systems cannot open two at once.
   */
  async selectDevice(kind: 'audio' | 'video', deviceId: string): Promise<void> {
    if (kind === 'audio') {
      storage.set(AUDIO_PREF, deviceId);
      const old = this.snap.audioTrack;
      this.update({ audioDeviceId: deviceId, audioTrack: undefined });
      if (old) {
        this.onTrack('microphone', null);
        old.stop();
      }
      await this.openAudio(true);
    } else {
      storage.set(VIDEO_PREF, deviceId);
      const old = this.snap.videoTrack;
      this.update({ videoDeviceId: deviceId, videoTrack: undefined });
      if (old) {
        this.onTrack('camera', null);
        old.stop();
      }
      if (this.snap.camOn) await this.openVideo(true);
    }
  }

  /** Asks for a screen or window; resolves false when the person cancelled. */
  async startScreen(): Promise<boolean> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false }).catch((error: unknown) => {
      if (error instanceof DOMException && error.name === 'NotAllowedError') return undefined;
      throw error;
    });
    const track = stream?.getVideoTracks()[0];
    if (!track) return false;
    track.contentHint = 'detail';
    // The browser's own "Stop sharing" button ends the track.
    track.addEventListener('ended', () => {
      if (this.snap.screenTrack === track) this.stopScreen();
    });
    this.stopScreen();
    this.update({ screenTrack: track });
    this.onTrack('screen', track);
    return true;
  }

  stopScreen(): void {
    const track = this.snap.screenTrack;
    if (!track) return;
    this.update({ screenTrack: undefined });
    this.onTrack('screen', null);
    track.stop();
  }

  /** What the meeting allows: no microphone / camera at all, or starting muted / with the camera off. */
  async applyPermissions(p: { publishAudio: boolean; publishVideo: boolean; startAudioMuted: boolean; startVideoOff: boolean }): Promise<void> {
    this.allowed.audio = p.publishAudio;
    this.allowed.video = p.publishVideo;
    if (!p.publishAudio) {
      this.snap.audioTrack?.stop();
      this.update({ audioTrack: undefined, micOn: false });
    } else if (p.startAudioMuted) {
      this.setMicOn(false);
    }
    if (!p.publishVideo || p.startVideoOff) await this.setCamOn(false);
  }

  /**
   * The meeting changed what we may send while we are in it: what is no longer allowed is
   * stopped; what becomes allowed stays off until the person turns it on.
   */
  setAllowed(audio: boolean, video: boolean): void {
    this.allowed.audio = audio;
    this.allowed.video = video;
    if (!audio) {
      const track = this.snap.audioTrack;
      this.update({ audioTrack: undefined, micOn: false });
      if (track) {
        this.onTrack('microphone', null);
        track.stop();
      }
    }
    if (!video) void this.setCamOn(false);
  }

  /** What may be opened at all (a viewer opens nothing); `welcome` narrows it further. */
  allow(audio: boolean, video: boolean): void {
    this.allowed.audio = audio;
    this.allowed.video = video;
    if (!audio) this.update({ micOn: false });
    if (!video) this.update({ camOn: false });
  }

  stopAll(): void {
    for (const track of [this.snap.audioTrack, this.snap.videoTrack, this.snap.screenTrack]) track?.stop();
    this.update({ audioTrack: undefined, videoTrack: undefined, screenTrack: undefined });
  }

  async refreshDevices(): Promise<void> {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return;
    const devices = await md.enumerateDevices().catch(() => []);
    const list = (kind: MediaDeviceKind, noun: string): DeviceOption[] =>
      devices
        .filter((d) => d.kind === kind && d.deviceId)
        .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${noun} ${i + 1}` }));
    this.update({ audioInputs: list('audioinput', 'Microphone'), videoInputs: list('videoinput', 'Camera') });
  }

  // ---- opening devices -----------------------------------------------------------------------

  private audioConstraints(exact: boolean): MediaTrackConstraints | boolean {
    const id = this.snap.audioDeviceId;
    return id ? { deviceId: exact ? { exact: id } : { ideal: id } } : true;
  }

  private videoConstraints(exact: boolean): MediaTrackConstraints {
    const id = this.snap.videoDeviceId;
    return {
      ...(id ? { deviceId: exact ? { exact: id } : { ideal: id } } : {}),
      width: { ideal: 960 },
      height: { ideal: 540 },
      frameRate: { ideal: 24, max: 30 },
    };
  }

  private async openAudio(exact = false): Promise<void> {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints(exact) });
      this.setAudioTrack(stream.getAudioTracks()[0]);
    } catch (error) {
      this.update({ micError: deviceErrorText('microphone', error) });
    }
  }

  private async openVideo(exact = false): Promise<void> {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: this.videoConstraints(exact) });
      this.setVideoTrack(stream.getVideoTracks()[0]);
    } catch (error) {
      this.update({ camOn: false, camError: deviceErrorText('camera', error) });
    }
  }

  private setAudioTrack(track: MediaStreamTrack | undefined): void {
    if (!track) return;
    if (!this.allowed.audio) {
      track.stop();
      return;
    }
    const old = this.snap.audioTrack;
    track.enabled = this.snap.micOn;
    track.addEventListener('ended', () => this.lost('audio', track));
    this.update({ audioTrack: track, audioDeviceId: track.getSettings().deviceId ?? this.snap.audioDeviceId, micError: undefined });
    this.onTrack('microphone', track);
    old?.stop();
  }

  private setVideoTrack(track: MediaStreamTrack | undefined): void {
    if (!track) return;
    // Not allowed, or turned off while the camera was starting: do not switch it back on.
    if (!this.allowed.video || !this.snap.camOn) {
      track.stop();
      return;
    }
    const old = this.snap.videoTrack;
    track.addEventListener('ended', () => this.lost('video', track));
    this.update({ videoTrack: track, videoDeviceId: track.getSettings().deviceId ?? this.snap.videoDeviceId, camError: undefined });
    this.onTrack('camera', track);
    old?.stop();
  }

  /** A device went away under us (unplugged, taken by the system). */
  private lost(kind: 'audio' | 'video', track: MediaStreamTrack): void {
    if (kind === 'audio' && this.snap.audioTrack === track) {
      this.update({ audioTrack: undefined, micError: 'Your microphone stopped working (was it unplugged?). Choose another one.' });
      this.onTrack('microphone', null);
    } else if (kind === 'video' && this.snap.videoTrack === track) {
      this.update({ videoTrack: undefined, camOn: false, camError: 'Your camera stopped working (was it unplugged?). Choose another one.' });
      this.onTrack('camera', null);
    } else {
      return;
    }
    void this.refreshDevices();
  }
}
