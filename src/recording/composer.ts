// Composes recordings into one MP4 with Debian's ffmpeg, in child processes: at most
// `concurrency` at a time, each killed after its time limit. What to compose and what a result
// means is the core's (core.recordings); this runs the engine and reports. A restart picks up
// what was left `processing` (the core counts attempts and gives up on a job that keeps failing).
import { spawn } from 'node:child_process';
import { access, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Core } from '../core/index.js';
import type { RecordingRecord, RecordingTrack } from '../store/index.js';
import { composeArgs, DEFAULT_COMPOSE, type ComposeInput } from './layout.js';

export interface ComposerOptions {
  /** compositions running at once */
  concurrency: number;
  /** a composition is killed after this long plus twice the recording's length */
  timeoutMs: number;
  /** ...or once its output has not grown for this long (default STALL_MS) */
  stallMs?: number;
  /** how often retention is applied */
  retentionSweepMs?: number;
  ffmpeg?: string;
  ffprobe?: string;
  /**
   * Several nodes: compose only what this node can read (its DATA_DIR/recordings holds the
   * recording's directory); with a shared directory every node can, and a lease picks one.
   */
  filesHereOnly?: boolean;
  onError?: (error: unknown, where: string) => void;
}

/**
 * ffmpeg reports its output time every half second: this long without it moving is a stall, not
 * a slow machine (seen: ffmpeg 5.1 stopped for good part-way through a 10 s recording, see
 * layout.ts). The attempt fails and the recording is composed again, up to the core's limit.
 */
const STALL_MS = 120_000;

export class Composer {
  private readonly running = new Map<string, Promise<void>>();
  private readonly children = new Set<ReturnType<typeof spawn>>();
  private unsubscribe: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private looking = false;
  private lookAgain = false;
  /** Compositions this process began (a metric: with several nodes, their sum is the cluster's). */
  compositionsBegun = 0;

  constructor(private readonly core: Core, private readonly options: ComposerOptions) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = [
      this.core.events.on('recordings.queued', () => this.kick()),
      this.core.events.on('recording.deleted', (e) => this.removeFiles(e.recordingId)),
    ];
    this.timer = setInterval(() => {
      this.kick();
      void this.applyRetention();
    }, this.options.retentionSweepMs ?? 60_000);
    this.timer.unref();
    this.kick();
  }

  /** Kills what runs (it stays `processing`: the next start composes it again) and waits. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe) off();
    clearInterval(this.timer);
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.allSettled([...this.running.values()]);
  }

  kick(): void {
    if (this.stopped) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    void this.look();
  }

  private async look(): Promise<void> {
    this.looking = true;
    try {
      do {
        this.lookAgain = false;
        for (const recording of await this.core.recordings.pending()) {
          if (this.running.size >= this.options.concurrency || this.stopped) break;
          if (this.running.has(recording.id)) continue;
          if (this.options.filesHereOnly && !(await access(this.core.recordings.dirOf(recording)).then(() => true, () => false))) continue;
          const job = this.compose(recording).finally(() => {
            this.running.delete(recording.id);
            this.kick();
          });
          this.running.set(recording.id, job);
        }
      } while (this.lookAgain && !this.stopped);
    } catch (error) {
      this.options.onError?.(error, 'recording composer');
    } finally {
      this.looking = false;
    }
  }

  private async compose(recording: RecordingRecord): Promise<void> {
    try {
      if (!(await this.core.recordings.beginCompose(recording))) return;
      this.compositionsBegun++;
      const dir = this.core.recordings.dirOf(recording);
      // No file list (the worker died, the server stopped): read the directory.
      const probed = recording.tracks.length > 0 ? undefined : await this.probeDirectory(dir);
      const tracks: RecordingTrack[] = probed?.map(({ durationMs: _, ...t }) => t) ?? recording.tracks;
      const durationMs = Math.max(1000, probed ? Math.max(0, ...probed.map((t) => t.durationMs)) : (recording.durationMs ?? 0));
      if (tracks.length === 0) {
        await this.core.recordings.composeFailed(recording, 'nothing was recorded');
        return;
      }
      const inputs: ComposeInput[] = tracks.map((t) => ({ path: join(dir, t.file), group: t.group, offsetMs: t.offsetMs, audio: t.audio, video: t.video }));
      const output = this.core.recordings.fileOf(recording);
      await this.run(recording.id, composeArgs(inputs, output, { ...DEFAULT_COMPOSE, durationMs }), durationMs);
      const { size } = await stat(output);
      await this.core.recordings.composed(recording, size, probed ? { tracks, durationMs } : undefined);
    } catch (error) {
      if (this.stopped) return; // killed by stop(): composed again after the restart
      await this.core.recordings.composeFailed(recording, error instanceof Error ? error.message : String(error))
        .catch((e: unknown) => this.options.onError?.(e, 'recording composer'));
    }
  }

  /** Runs ffmpeg, reporting progress (at most every second) and killing it at the time limit. */
  private run(recordingId: string, args: string[], durationMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.ffmpeg ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.add(child);
      const limit = this.options.timeoutMs + 2 * durationMs;
      const stallMs = this.options.stallMs ?? STALL_MS;
      let killedFor: string | undefined;
      const kill = (why: string) => {
        killedFor ??= why;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => kill(`composition took longer than its limit (${Math.round(limit / 1000)} s)`), limit);
      let stall: NodeJS.Timeout | undefined;
      let outTime = -1;
      const watchStall = () => {
        clearTimeout(stall);
        stall = setTimeout(() => kill(`ffmpeg stalled: its output did not grow for ${Math.round(stallMs / 1000)} s`), stallMs);
      };
      watchStall();
      let stderr = '';
      let reportedAt = 0;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /out_time_us=(\d+)/.exec(chunk.toString());
        if (!match) return;
        const reached = Number(match[1]);
        if (reached > outTime) {
          outTime = reached;
          watchStall();
        }
        if (Date.now() - reportedAt < 1000) return;
        reportedAt = Date.now();
        void this.core.recordings.progress(recordingId, reached / 1000 / durationMs).catch(() => undefined);
      });
      const ended = () => {
        clearTimeout(timer);
        clearTimeout(stall);
        this.children.delete(child);
      };
      child.on('error', (error) => {
        ended();
        reject(new Error(`ffmpeg could not start: ${error.message}`));
      });
      child.on('close', (code, signal) => {
        ended();
        if (code === 0) resolve();
        else if (killedFor && !this.stopped) reject(new Error(killedFor));
        else reject(new Error(`ffmpeg failed (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
      });
    });
  }

  /** The WebM files of a directory and what they hold, with ffprobe (an unfinished file is read to its end). */
  private async probeDirectory(dir: string): Promise<(RecordingTrack & { durationMs: number })[]> {
    const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.webm')).sort();
    const out: (RecordingTrack & { durationMs: number })[] = [];
    for (const file of names) {
      const probe = await this.probe(join(dir, file)).catch(() => undefined);
      if (!probe || (!probe.audio && !probe.video)) continue;
      const [participantId = file, group] = file.replace(/\.webm$/, '').split('-');
      out.push({
        participantId, group: group === 'screen' ? 'screen' : 'camera', file, offsetMs: 0,
        bytes: (await stat(join(dir, file))).size, audio: probe.audio, video: probe.video, durationMs: probe.durationMs,
      });
    }
    return out;
  }

  /**
   * What an unfinished file holds: its streams with packets, and the time of its last packet (its
   * header still claims the 24 hours werift writes until the file is finished).
   */
  private probe(path: string): Promise<{ audio: boolean; video: boolean; durationMs: number }> {
    return new Promise((resolve, reject) => {
      const args = ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time', '-of', 'csv=p=0', path];
      const child = spawn(this.options.ffprobe ?? 'ffprobe', args, { stdio: ['ignore', 'pipe', 'ignore'] });
      const seen = { audio: false, video: false, lastMs: 0 };
      let rest = '';
      child.stdout.on('data', (c: Buffer) => {
        const lines = (rest + c.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const [type, pts] = line.split(',');
          if (type === 'audio' || type === 'video') seen[type] = true;
          const ms = Number(pts) * 1000;
          if (Number.isFinite(ms) && ms > seen.lastMs) seen.lastMs = ms;
        }
      });
      child.on('error', reject);
      child.on('close', () => resolve({ audio: seen.audio, video: seen.video, durationMs: Math.round(seen.lastMs) }));
    });
  }

  /** Deletes the files of a recording (deleted through the API, or past its retention). */
  async removeFiles(recordingId: string): Promise<void> {
    await this.running.get(recordingId)?.catch(() => undefined);
    await rm(this.core.recordings.dirOf({ id: recordingId }), { recursive: true, force: true });
  }

  /** Deletes what is past its account's retention (every `retentionSweepMs`; tests call it). */
  async applyRetention(): Promise<void> {
    try {
      await this.core.recordings.expired();
    } catch (error) {
      this.options.onError?.(error, 'recording retention');
    }
  }
}
