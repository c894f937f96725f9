// The core's recording plane: a recording starts and stops in the meeting's media room on this
// node, and what the media room reports by itself (a full disk, a dead worker) goes back to the
// core. The room is told whenever the core says the recording started or stopped.
import type { FastifyBaseLogger } from 'fastify';
import type { Core, RecordedTrackFile, RecordingPlane } from '../core/index.js';
import { MediaError, type MediaRoom, type RecordedFile } from '../media/index.js';
import type { MediaBridge } from './media-bridge.js';
import type { Rooms } from './rooms.js';

const asTrackFiles = (files: RecordedFile[]): RecordedTrackFile[] =>
  files.map(({ peerId, ...f }) => ({ participantId: peerId, ...f }));

export class RecordingRelay implements RecordingPlane {
  private readonly watched = new WeakSet<MediaRoom>();

  constructor(
    private readonly core: Core,
    private readonly rooms: Rooms,
    private readonly media: MediaBridge,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Registers with the core; returns the unsubscriber of the room notices. */
  attach(): () => void {
    this.core.recordings.attachPlane(this);
    return this.core.events.on('recording.state', (e) => {
      const room = this.rooms.get(e.meetingId);
      if (!room) return;
      room.recordingId = e.recording ? e.recordingId : undefined;
      room.broadcast({ type: 'recording', recording: e.recording, ...(e.error ? { error: e.error } : {}) });
    });
  }

  async start(meetingId: string, recordingId: string, dir: string): Promise<void> {
    const room = this.rooms.get(meetingId);
    if (!room || room.closed) throw new MediaError('not_found', 'nobody is in the meeting’s room on this server');
    const media = await this.media.mediaRoom(room);
    this.watch(media);
    await media.startRecording(recordingId, dir);
  }

  async stop(meetingId: string, recordingId: string): Promise<RecordedTrackFile[]> {
    const media = this.rooms.get(meetingId)?.media;
    if (!media || media.closed) return []; // the room closed: its recordingEnded already reported the files
    return asTrackFiles(await media.stopRecording(recordingId));
  }

  /** What a media room says about its recording by itself goes to the core. */
  private watch(media: MediaRoom): void {
    if (this.watched.has(media)) return;
    this.watched.add(media);
    const report = (recordingId: string, files: RecordedTrackFile[] | undefined, error: string | null) => {
      this.core.recordings.ended(recordingId, files, error).catch((e: unknown) => this.log.error({ err: e }, 'recording: could not record its end'));
    };
    media.on('recordingEnded', (recordingId, reason, error, files) => {
      report(recordingId, asTrackFiles(files), reason === 'failed' ? `recording stopped: ${error ?? 'a write failed'}` : null);
    });
    media.on('closed', (reason) => {
      if (reason !== 'worker-died') return;
      // The worker is gone with its file list: the composer reads the directory.
      const room = this.rooms.get(media.id);
      if (room?.recordingId) report(room.recordingId, undefined, 'the media worker stopped while recording');
    });
  }
}
