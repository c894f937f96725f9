// werift's WebM recording pipeline for one file (what its MediaRecorder builds in WebmFactory),
// built here so that a KeyframeGate can sit between its jitter buffer and its writer: a camera
// (Opus + video) or a screen (video). Packets in, WebM chunks out; nothing is decoded.
import type { RtcpSrPacket, RtpPacket } from 'werift';
import {
  DepacketizeCallback, JitterBufferCallback, LipsyncCallback, NtpTimeCallback, RtcpSourceCallback, RtpSourceCallback, WebmCallback,
  type WebmOutput,
} from 'werift/nonstandard';
import type { VideoCodec } from './codecs.js';
import { KeyframeGate } from './keyframe-gate.js';

const VIDEO_CLOCK = 90_000;
const AUDIO_CLOCK = 48_000;
/** What werift's MediaRecorder writes in the header (players take the size from the frames). */
const WIDTH = 640;
const HEIGHT = 360;
/** werift's default: the file's duration until the end writes the real one. */
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

interface Source {
  rtp: RtpSourceCallback;
  rtcp: RtcpSourceCallback;
}

/**
 * werift's lip-sync holds frames for up to a second to put audio and video in time order, and
 * drops what it holds when a track ends: the last ~0.5 s of every file. Let out first, in order,
 * at the first track's end (after it the step is stopped, and this does nothing).
 */
function releaseAll(lipsync: LipsyncCallback): void {
  // A private method of LipsyncBase (werift 0.24.4): one step releases one slot of its ring.
  const step = (lipsync as unknown as { executeTask?: () => void }).executeTask;
  if (typeof step !== 'function') throw new Error('werift changed: LipsyncBase.executeTask is gone (see webm-writer.ts)');
  if (lipsync.stopped || lipsync.baseTime === undefined) return;
  for (let i = 0; i < lipsync.bufferLength; i++) step.call(lipsync);
}

export class WebmWriter {
  private readonly video: Source;
  private readonly audio?: Source;
  readonly gate: KeyframeGate;

  constructor(opts: { audio: boolean; videoCodec: VideoCodec; output: (o: WebmOutput) => void; needKeyframe: () => void }) {
    this.gate = new KeyframeGate(opts.needKeyframe);
    const videoCodec = opts.videoCodec === 'h264' ? 'MPEG4/ISO/AVC' as const : 'VP8' as const;
    const tracks = [
      ...(opts.audio ? [{ kind: 'audio' as const, codec: 'OPUS' as const, clockRate: AUDIO_CLOCK, trackNumber: 1 }] : []),
      { kind: 'video' as const, codec: videoCodec, clockRate: VIDEO_CLOCK, trackNumber: opts.audio ? 2 : 1, width: WIDTH, height: HEIGHT },
    ];
    const webm = new WebmCallback(tracks, { duration: ONE_DAY_MS });
    const lipsync = new LipsyncCallback({});
    webm.pipe(async (o) => opts.output(o));

    this.video = { rtp: new RtpSourceCallback(), rtcp: new RtcpSourceCallback() };
    const jitterBuffer = new JitterBufferCallback(VIDEO_CLOCK, {});
    const videoTime = new NtpTimeCallback(VIDEO_CLOCK);
    const videoFrames = new DepacketizeCallback(videoCodec, { isFinalPacketInSequence: (h) => h.marker });
    this.video.rtp.pipe(jitterBuffer.input);
    this.video.rtcp.pipe(videoTime.input);
    jitterBuffer.pipe((o) => {
      if (o.isPacketLost) this.gate.lost();
      videoTime.input(o);
    });
    videoTime.pipe(videoFrames.input);
    videoFrames.pipe((o) => {
      if (o.eol) releaseAll(lipsync);
      if (!o.frame || this.gate.pass(o.frame.isKeyframe)) lipsync.inputVideo(o);
    });
    lipsync.pipeVideo(webm.inputVideo);

    if (opts.audio) {
      this.audio = { rtp: new RtpSourceCallback(), rtcp: new RtcpSourceCallback() };
      const audioTime = new NtpTimeCallback(AUDIO_CLOCK);
      const audioFrames = new DepacketizeCallback('OPUS');
      this.audio.rtp.pipe(audioTime.input);
      this.audio.rtcp.pipe(audioTime.input);
      audioTime.pipe(audioFrames.input);
      audioFrames.pipe((o) => {
        if (o.eol) releaseAll(lipsync);
        lipsync.inputAudio(o);
      });
      lipsync.pipeAudio(webm.inputAudio);
    }
  }

  /** A packet of the file's video or audio; copied (the depacketizer clears what it buffered). */
  rtp(kind: 'audio' | 'video', rtp: RtpPacket): void {
    (kind === 'audio' ? this.audio : this.video)?.rtp.input(rtp.clone());
  }

  /** A sender report (NTP ↔ RTP) that times the track. */
  senderReport(kind: 'audio' | 'video', sr: RtcpSrPacket): void {
    (kind === 'audio' ? this.audio : this.video)?.rtcp.input(sr);
  }

  /**
   * Ends every track: the writer then outputs the end of the file (`eol`). As werift's stop, the
   * RTP sources only. Video first: its jitter buffer lets out what it held before the lip-sync
   * step is emptied at the first end.
   */
  stop(): void {
    this.video.rtp.stop();
    this.audio?.rtp.stop();
  }
}
