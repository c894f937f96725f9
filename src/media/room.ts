// A room, as seen from the main thread. It lives on one worker for its whole life.
import { EventEmitter } from 'node:events';
import { MediaPeer } from './peer.js';
import type { WorkerEvent } from './protocol.js';
import { MediaError, NOTHING_HELD, type CloseReason, type MediaRoomEvents, type PeerOptions, type RecordedFile } from './types.js';
import type { WorkerHost } from './worker-host.js';

export class MediaRoom extends EventEmitter<MediaRoomEvents> {
  private readonly peerMap = new Map<string, MediaPeer>();
  private _closed = false;
  private _activeSpeaker: string | null = null;
  private closing: Promise<void> | undefined;

  /** @internal created by MediaService.openRoom */
  constructor(
    private readonly host: WorkerHost,
    readonly id: string,
    private readonly onClosed: (room: MediaRoom) => void,
  ) {
    super();
  }

  /** Index of the worker thread that carries this room. */
  get workerIndex(): number {
    return this.host.index;
  }

  get closed(): boolean {
    return this._closed;
  }

  /** @internal set while close() runs, so that openRoom waits instead of reusing this room */
  get _closing(): Promise<void> | undefined {
    return this._closed ? undefined : this.closing;
  }

  get activeSpeaker(): string | null {
    return this._activeSpeaker;
  }

  get peers(): MediaPeer[] {
    return [...this.peerMap.values()];
  }

  getPeer(peerId: string): MediaPeer | undefined {
    return this.peerMap.get(peerId);
  }

  /**
   * Adds a participant. A peer already present under this id (a reconnecting client) is closed
   * first. The first `subscriberOffer` follows shortly after this resolves.
   */
  async addPeer(peerId: string, opts: PeerOptions): Promise<MediaPeer> {
    if (this._closed) throw new MediaError('closed', `room ${this.id} is closed`);
    await this.peerMap.get(peerId)?.close();
    const held = opts.held ?? NOTHING_HELD;
    const peer = new MediaPeer(this.host, this.id, peerId, opts.canPublish, held, (p) => {
      if (this.peerMap.get(p.id) === p) this.peerMap.delete(p.id);
    });
    // Registered before asking so that no event of the new peer can be missed.
    this.peerMap.set(peerId, peer);
    try {
      await this.host.request('addPeer', { roomId: this.id, peerId, canPublish: opts.canPublish, held });
    } catch (error) {
      if (this.peerMap.get(peerId) === peer) this.peerMap.delete(peerId);
      throw error;
    }
    return peer;
  }

  /** Closes every peer (their 'closed' events fire with 'room-closed') and the room. */
  close(): Promise<void> {
    if (this._closed) return Promise.resolve();
    this.closing ??= this.host
      .request('closeRoom', { roomId: this.id, reason: 'closed' })
      .catch(() => undefined)
      .then(() => this._terminate('closed'));
    return this.closing;
  }

  /**
   * Records every track the room forwards, now and later, into `dir` (WebM, one file per
   * participant and group; worker/recorder.ts). One recording at a time per room.
   */
  async startRecording(recordingId: string, dir: string): Promise<void> {
    if (this._closed) throw new MediaError('closed', `room ${this.id} is closed`);
    await this.host.request('startRecording', { roomId: this.id, recordingId, dir });
  }

  /** Stops the recording; the files it wrote (finished: with their duration). */
  stopRecording(recordingId: string): Promise<RecordedFile[]> {
    return this.host.request('stopRecording', { roomId: this.id, recordingId });
  }

  /** @internal */
  _handleEvent(event: WorkerEvent): void {
    if (this._closed) return;
    switch (event.ev) {
      case 'recordingEnded':
        this.emit('recordingEnded', event.recordingId, event.reason, event.error, event.files);
        return;
      case 'activeSpeaker':
        if (event.peerId === this._activeSpeaker) return;
        this._activeSpeaker = event.peerId;
        this.emit('activeSpeaker', event.peerId);
        return;
      case 'roomClosed':
        this._terminate(event.reason);
        return;
      case 'subscriberOffer':
      case 'videoPaused':
      case 'connectionState':
      case 'trackPublished':
      case 'trackUnpublished':
      case 'peerClosed':
        this.peerMap.get(event.peerId)?._handleEvent(event);
        return;
      default:
        return;
    }
  }

  /** @internal closes what is left without asking the worker (it is gone or done). */
  _terminate(reason: CloseReason): void {
    if (this._closed) return;
    this._closed = true;
    const peerReason: CloseReason = reason === 'closed' ? 'room-closed' : reason;
    // A throwing 'closed' listener must not leave the other peers open: finish, then rethrow.
    let listenerError: unknown;
    for (const peer of [...this.peerMap.values()]) {
      try {
        peer._markClosed(peerReason);
      } catch (error) {
        listenerError ??= error;
      }
    }
    this.peerMap.clear();
    this.onClosed(this);
    try {
      this.emit('closed', reason);
    } catch (error) {
      listenerError ??= error;
    }
    if (listenerError !== undefined) throw listenerError;
  }
}
