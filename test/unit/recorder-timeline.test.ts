import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { RecordTimeline } from '../../src/media/worker/record-timeline.js';
import { fileSink, RoomRecorder } from '../../src/media/worker/recorder.js';
import type { WorkerContext } from '../../src/media/worker/context.js';
import type { PublishedTrack, RecordTap } from '../../src/media/worker/published-track.js';

const packet = (ssrc: number, sequenceNumber: number, timestamp: number) =>
  new RtpPacket(new RtpHeader({ ssrc, sequenceNumber, timestamp, payloadType: 111, marker: true }), Buffer.from([0xf8, 0xff, 0xfe]));

describe('RecordTimeline', () => {
  it('goes on where the last source stopped, by the time between them, and drops the old source’s late packets', () => {
    const timeline = new RecordTimeline(48_000);
    const a = [0, 1, 2].map((i) => timeline.map(packet(111, 65_534 + i, 4_000_000_000 + i * 960), 1000 + i * 20)!);
    expect(new Set(a.map((p) => p.header.ssrc))).toEqual(new Set([111]));
    expect(a.map((p) => (p.header.sequenceNumber - a[0]!.header.sequenceNumber + 65_536) % 65_536)).toEqual([0, 1, 2]);
    expect(a.map((p) => p.header.timestamp - a[0]!.header.timestamp)).toEqual([0, 960, 1920]);

    // 500 ms later the publisher is back on a new peer: another SSRC, other numbers.
    const b = timeline.map(packet(222, 17, 123), 1540)!;
    expect(b.header.ssrc).toBe(111);
    expect(b.header.sequenceNumber).toBe((a[2]!.header.sequenceNumber + 1) % 65_536);
    expect((b.header.timestamp - a[2]!.header.timestamp + 2 ** 32) % 2 ** 32).toBe(500 * 48);
    expect(timeline.map(packet(222, 18, 123 + 960), 1560)!.header.timestamp - b.header.timestamp).toBe(960);

    expect(timeline.map(packet(111, 1, 4_000_002_880), 1561)).toBeUndefined();
  });
});

describe('a recorded participant back on a new peer', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.useRealTimers();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('goes on in the same file without a jump in time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_800_000_000_000);
    dir = mkdtempSync(join(tmpdir(), 'parley-rec-'));
    const ctx = { log: () => undefined } as unknown as WorkerContext;
    const recorder = await RoomRecorder.create(ctx, 'rec_test', dir, fileSink, (e) => { throw e; });
    const taps: RecordTap[] = [];
    const track = (peerId: string) => ({
      peerId: 'par_1', kind: 'audio', source: 'microphone', videoCodec: undefined, id: peerId,
      setRecordTap: (tap: RecordTap | undefined) => { if (tap) taps.push(tap); },
    }) as unknown as PublishedTrack;
    recorder.attach(track('old peer'));
    recorder.attach(track('new peer'));
    const [before, after] = taps;
    // 2 s from the first peer, then 2 s from the next one, with random numbering of its own.
    for (let i = 0; i < 100; i++) {
      before!(packet(0x1111, 1000 + i, 5_000 + i * 960));
      vi.setSystemTime(Date.now() + 20);
    }
    for (let i = 0; i < 100; i++) {
      after!(packet(0x2222, 40_000 + i, 3_000_000_000 + i * 960));
      vi.setSystemTime(Date.now() + 20);
    }
    const files = await recorder.stop();
    expect(files).toHaveLength(1);
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.webm'));
    const times = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', join(dir, file!)])
      .toString().trim().split('\n').map(Number);
    expect(times.length).toBeGreaterThan(150);
    expect(Math.max(...times)).toBeLessThan(4.5);
  });
});
