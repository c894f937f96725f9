// Raw-track recording of one room: every forwarded track is written as it arrives (no decoding)
// with werift's MediaRecorder (WebM: VP8 or H.264 as published, + Opus), one file per participant and group: the
// microphone and camera together, the screen share apart. Packets reach us through the
// PublishedTrack's tap, after the forwarding checks, so a held (muted) or forbidden source is
// not recorded: it leaves a gap, which the composition fills with silence or the last picture.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { VideoCodec } from './codecs.js';
import { RtcpSenderInfo, RtcpSrPacket, type RtpPacket } from 'werift';
import { DurationPosition, replaceSegmentSize, SegmentSizePosition, type WebmOutput } from 'werift/nonstandard';
import type { RecordedFile, RecordingGroup } from '../types.js';
import type { WorkerContext } from './context.js';
import type { PublishedTrack } from './published-track.js';
import { RecordTimeline } from './record-timeline.js';
import { WebmWriter } from './webm-writer.js';

/** What a file is written through; a test replaces it to inject a full disk. */
export interface RecordingSink {
  write(chunk: Uint8Array, position?: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export type SinkFactory = (path: string) => Promise<RecordingSink>;

export const fileSink: SinkFactory = async (path) => {
  const handle: FileHandle = await open(path, 'w');
  let offset = 0;
  return {
    async write(chunk, position) {
      if (position === undefined) {
        await handle.write(chunk, 0, chunk.length, offset);
        offset += chunk.length;
      } else {
        await handle.write(chunk, 0, chunk.length, position);
      }
    },
    async size() {
      return offset;
    },
    close: () => handle.close(),
  };
};

/** werift's own wait for the end of a file it writes (its MediaRecorder's stop). */
const EOL_TIMEOUT_MS = 5000;

/** One WebM file: a participant's microphone + camera, or their screen. */
class GroupFile {
  private readonly writer: WebmWriter;
  private chain: Promise<void> = Promise.resolve();
  /** resolves once the end of the file (its duration) is written */
  private readonly eolWritten: Promise<void>;
  private onEolWritten: () => void = () => undefined;
  private sink?: RecordingSink;
  private failed = false;
  private audioPackets = 0;
  private videoPackets = 0;
  /** whether each track's clock is anchored (see `rtp`) */
  private readonly anchored = { audio: false, video: false };
  private readonly timelines = { audio: new RecordTimeline(48_000), video: new RecordTimeline(90_000) };
  /** wall-clock ms of the first packet: where this file sits on the recording's timeline */
  private firstPacketAt: number | null = null;

  constructor(
    readonly peerId: string,
    readonly group: RecordingGroup,
    readonly path: string,
    /** WebM holds VP8 or H.264 as published (no transcoding); another codec needs another file. */
    readonly videoCodec: VideoCodec,
    private readonly openSink: Promise<RecordingSink>,
    private readonly onFailure: (error: unknown) => void,
    needKeyframe: () => void,
  ) {
    this.eolWritten = new Promise((resolve) => (this.onEolWritten = resolve));
    this.writer = new WebmWriter({ audio: group === 'camera', videoCodec, output: (o) => this.enqueue(o), needKeyframe });
  }

  /** Video frames kept out after a loss until the next keyframe (KeyframeGate). */
  get framesSkipped(): number {
    return this.writer.gate.dropped;
  }

  private enqueue(o: WebmOutput): void {
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      try {
        this.sink ??= await this.openSink;
        if (o.saveToFile) {
          await this.sink.write(o.saveToFile);
        } else if (o.eol) {
          // A finished file gets its duration and size; an unfinished one stays a playable live WebM.
          await this.sink.write(o.eol.durationElement, DurationPosition);
          await this.sink.write(replaceSegmentSize(await this.sink.size()), SegmentSizePosition);
          this.onEolWritten();
        }
      } catch (error) {
        this.fail(error);
      }
    });
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.onFailure(error);
  }

  rtp(kind: 'audio' | 'video', rtp: RtpPacket): void {
    if (this.failed || (kind === 'audio' && this.group !== 'camera')) return;
    // A recording that breaks fails alone: the forwarding this tap sits on goes on.
    try {
      this.write(kind, rtp);
    } catch (error) {
      this.fail(error);
    }
  }

  private write(kind: 'audio' | 'video', rtp: RtpPacket): void {
    const now = Date.now();
    this.firstPacketAt ??= now;
    if (kind === 'audio') this.audioPackets++;
    else this.videoPackets++;
    const mapped = this.timelines[kind].map(rtp, now);
    if (!mapped) return;
    if (!this.anchored[kind]) {
      this.anchored[kind] = true;
      // werift times each track by sender reports (NTP ↔ RTP), and holds its packets until one
      // comes (a browser sends one for audio only every few seconds). We anchor each track at the
      // arrival of its first packet instead: audio and video line up by arrival, a track that
      // starts late starts late in the file, and nothing waits. Later sources (a publisher back on
      // a new peer) go on in the same timeline (RecordTimeline), so one anchor holds.
      // werift reads an NTP timestamp's fraction as decimal digits (ntpTime2Sec): anchor on a
      // whole second, moving the RTP timestamp back by the milliseconds past it.
      const clockRate = kind === 'audio' ? 48_000 : 90_000;
      const back = Math.round(((now % 1000) * clockRate) / 1000);
      this.writer.senderReport(kind, new RtcpSrPacket({
        ssrc: mapped.header.ssrc,
        senderInfo: new RtcpSenderInfo({
          ntpTimestamp: toNtp(now), rtpTimestamp: (mapped.header.timestamp - back + 2 ** 32) % 2 ** 32, packetCount: 0, octetCount: 0,
        }),
      }));
    }
    this.writer.rtp(kind, mapped);
  }

  async stop(): Promise<RecordedFile> {
    // The end of the file comes through our own write; werift's recorder gave up after 5 s.
    let timer: NodeJS.Timeout | undefined;
    try {
      this.writer.stop();
      await Promise.race([this.eolWritten, new Promise((resolve) => (timer = setTimeout(resolve, EOL_TIMEOUT_MS)))]);
    } catch (error) {
      this.fail(error);
    } finally {
      clearTimeout(timer);
    }
    await this.chain;
    let bytes = 0;
    if (this.sink) {
      bytes = await this.sink.size().catch(() => 0);
      await this.sink.close().catch(() => undefined);
    }
    return {
      peerId: this.peerId,
      group: this.group,
      path: this.path,
      startedAt: this.firstPacketAt,
      bytes,
      audio: this.audioPackets > 0,
      video: this.videoPackets > 0,
    };
  }
}

/** The recording of one room; attached to every track the room forwards while it runs. */
export class RoomRecorder {
  /** The file each participant's group is written to now. */
  private readonly files = new Map<string, GroupFile>();
  /** Files closed before the end (the publisher changed video codec): their stop results. */
  private readonly rolledOver: Promise<RecordedFile>[] = [];
  private fileCount = 0;
  private readonly tapped = new Set<PublishedTrack>();
  private stopped = false;

  constructor(
    private readonly ctx: WorkerContext,
    readonly recordingId: string,
    private readonly dir: string,
    private readonly openSink: SinkFactory,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  static async create(ctx: WorkerContext, recordingId: string, dir: string, openSink: SinkFactory, onFailure: (error: unknown) => void): Promise<RoomRecorder> {
    await mkdir(dir, { recursive: true });
    return new RoomRecorder(ctx, recordingId, dir, openSink, onFailure);
  }

  /** Starts writing a forwarded track (idempotent). A track that starts late joins its file late. */
  attach(track: PublishedTrack): void {
    if (this.stopped || this.tapped.has(track)) return;
    this.tapped.add(track);
    const group: RecordingGroup = track.source === 'screen' ? 'screen' : 'camera';
    track.setRecordTap((rtp) => {
      const codec = track.kind === 'video' ? track.codecOf(rtp.header.payloadType) ?? 'vp8' : undefined;
      this.fileFor(track.peerId, group, codec).rtp(track.kind, rtp);
    });
  }

  /** A track stops being forwarded (unpublished, forbidden): its file keeps what it has. */
  detach(track: PublishedTrack): void {
    if (!this.tapped.delete(track)) return;
    track.setRecordTap(undefined);
  }

  /**
   * The file a packet goes to. Audio goes where the participant's video goes. A video packet in
   * another codec than its file's (H.264 publishers move to VP8 when a receiver lacks H.264)
   * closes that file and starts a new one from there on.
   */
  private fileFor(peerId: string, group: RecordingGroup, videoCodec: VideoCodec | undefined): GroupFile {
    const key = `${peerId}/${group}`;
    let file = this.files.get(key);
    if (file && videoCodec !== undefined && file.videoCodec !== videoCodec) {
      this.rolledOver.push(this.stopFile(file));
      file = undefined;
    }
    if (!file) {
      const path = join(this.dir, `${safeName(peerId)}-${group}-${++this.fileCount}.webm`);
      const sink = this.openSink(path);
      sink.catch(() => undefined); // reported through the file's first write
      // Audio usually comes first: its file takes the codec the camera was answered with, or the
      // camera's first packet would close it at once.
      const codec = videoCodec ?? this.videoTrackOf(peerId, group)?.videoCodec ?? 'vp8';
      const needKeyframe = () => this.videoTrackOf(peerId, group)?.requestRecordedKeyframe();
      file = new GroupFile(peerId, group, path, codec, sink, (error) => this.fail(error), needKeyframe);
      this.files.set(key, file);
    }
    return file;
  }

  private videoTrackOf(peerId: string, group: RecordingGroup): PublishedTrack | undefined {
    for (const t of this.tapped) {
      if (t.peerId === peerId && t.kind === 'video' && (t.source === 'screen') === (group === 'screen')) return t;
    }
    return undefined;
  }

  private async stopFile(file: GroupFile): Promise<RecordedFile> {
    const recorded = await file.stop();
    if (file.framesSkipped > 0) {
      this.ctx.log('info', 'recording: video frames left out after a loss, until a keyframe', {
        recordingId: this.recordingId, path: file.path, frames: file.framesSkipped,
      });
    }
    return recorded;
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.ctx.log('warn', 'recording write failed', { recordingId: this.recordingId, error: String(error) });
    this.onFailure(error);
  }

  /** Stops every file; what was written stays, with its duration when the stop completed. */
  async stop(): Promise<RecordedFile[]> {
    this.stopped = true;
    for (const track of this.tapped) track.setRecordTap(undefined);
    this.tapped.clear();
    return Promise.all([...this.rolledOver, ...[...this.files.values()].map((f) => this.stopFile(f))]);
  }
}

/** The whole second of wall-clock ms as a 64-bit NTP timestamp (seconds since 1900, no fraction). */
function toNtp(ms: number): bigint {
  return BigInt(Math.floor(ms / 1000) + 2_208_988_800) << 32n;
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}
