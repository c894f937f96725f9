import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Core } from '../../src/core/index.js';
import { Composer } from '../../src/recording/composer.js';
import type { RecordingRecord } from '../../src/store/index.js';

// The composer's watch on ffmpeg: a composition whose output stops growing is killed and fails
// (the core then tries it again), one that keeps growing is left to finish. Fake ffmpegs: shell
// scripts that print ffmpeg's progress lines.

const dir = mkdtempSync(join(tmpdir(), 'parley-composer-stall-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeFfmpeg(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** One recording waiting for composition, and what the composer reported of it. */
function waitingRecording() {
  const recording = {
    id: 'rec_1', accountId: 'acc_1', meetingId: 'mtg_1', state: 'processing', startedBy: 'api', startedAt: new Date(0), stoppedAt: new Date(4000), durationMs: 4000,
    sizeBytes: null, progress: 0, attempts: 0, error: null, createdAt: new Date(0), updatedAt: new Date(0),
    tracks: [{ participantId: 'par_1', group: 'camera', file: 'par_1-camera-1.webm', offsetMs: 0, bytes: 1, audio: true, video: true }],
  } as RecordingRecord;
  const outcome: { failed?: string; composed?: boolean } = {};
  let pending = [recording];
  // Only what the composer calls (a test double of the core's recordings and events).
  const core = {
    events: { on: () => () => undefined },
    recordings: {
      pending: async () => pending,
      beginCompose: async () => true,
      dirOf: () => dir,
      fileOf: () => join(dir, 'composed.mp4'),
      progress: async () => undefined,
      composed: async () => {
        outcome.composed = true;
        pending = [];
      },
      composeFailed: async (_r: RecordingRecord, reason: string) => {
        outcome.failed = reason;
        pending = [];
      },
    },
  } as unknown as Core;
  return { core, outcome };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
}

it('kills an ffmpeg whose output stopped growing; the attempt fails and says so', async () => {
  const { core, outcome } = waitingRecording();
  const ffmpeg = fakeFfmpeg('stuck', 'echo out_time_us=1000000\nexec sleep 60');
  const composer = new Composer(core, { concurrency: 1, timeoutMs: 600_000, stallMs: 1000, ffmpeg });
  composer.start();
  await until(() => outcome.failed !== undefined);
  await composer.stop();
  expect(outcome).toEqual({ failed: 'ffmpeg stalled: its output did not grow for 1 s' });
});

it('leaves alone an ffmpeg whose output keeps growing, however long it takes', async () => {
  const { core, outcome } = waitingRecording();
  // 3 s in all, a step every 0.3 s: longer than the stall limit, never that long without growing.
  const steps = Array.from({ length: 10 }, (_, i) => `echo out_time_us=${(i + 1) * 400_000}\nsleep 0.3`).join('\n');
  const ffmpeg = fakeFfmpeg('slow', `${steps}\nfor last; do :; done\n: > "$last"`);
  const composer = new Composer(core, { concurrency: 1, timeoutMs: 600_000, stallMs: 1000, ffmpeg });
  composer.start();
  await until(() => outcome.composed !== undefined || outcome.failed !== undefined);
  await composer.stop();
  expect(outcome).toEqual({ composed: true });
});
