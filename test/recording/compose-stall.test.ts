import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { composeArgs, DEFAULT_COMPOSE, type ComposeInput } from '../../src/recording/layout.js';

// The raw files of a recording from h264.test.ts (2026-12-06) that Debian 12's ffmpeg 5.1 never
// finished composing: two Chromium cameras in H.264 for ~6 s, then, once a Firefox joined and the
// room moved to VP8, all three in VP8 from ~6.8 s. With each file opened once for both of its
// chains, ffmpeg stopped part-way and stayed there (at 4.0, 7.9 and 9.1 s of 10.7 in three tries;
// the recording stayed `processing`).
const FIXTURES = new URL('../fixtures/compose-stall/', import.meta.url).pathname;
const INPUTS: [string, number][] = [['host-h264.webm', 37], ['guest-h264.webm', 45], ['host-vp8.webm', 6823], ['guest-vp8.webm', 6932], ['firefox-vp8.webm', 6801]];
const DURATION_MS = 10_666;
/** Far beyond what the composition takes on a loaded machine (seconds): only a stall reaches it. */
const BOUND_MS = 120_000;

const dir = mkdtempSync(join(tmpdir(), 'parley-compose-stall-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('composes the files of a recording that moved from H.264 to VP8 mid-way, to the end', async () => {
  const inputs: ComposeInput[] = INPUTS.map(([file, offsetMs]) => ({ path: join(FIXTURES, file), group: 'camera', offsetMs, audio: true, video: true }));
  const output = join(dir, 'composed.mp4');
  const args = composeArgs(inputs, output, { ...DEFAULT_COMPOSE, durationMs: DURATION_MS });
  const outcome = await new Promise<string>((resolve) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let reached = '0';
    child.stdout.on('data', (chunk: Buffer) => {
      reached = /out_time_us=(\d+)/.exec(chunk.toString())?.[1] ?? reached;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? 'finished' : `ended (${signal ?? code}) at ${Number(reached) / 1e6} s`);
    });
  });
  expect(outcome).toBe('finished');
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', output], { encoding: 'utf8' })) as {
    streams: { codec_name: string }[];
    format: { duration: string };
  };
  expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  expect(Number(probe.format.duration)).toBeCloseTo(DURATION_MS / 1000, 0);
}, BOUND_MS + 30_000);
