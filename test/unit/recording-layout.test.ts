import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/api/native/recordings.js';
import { composeArgs, grid, layout } from '../../src/recording/layout.js';

describe('the composed picture', () => {
  it('puts n cameras in a grid as square as it gets, inside the frame', () => {
    const area = { x: 0, y: 0, w: 1280, h: 720 };
    expect(grid(1, area)).toEqual([{ x: 0, y: 0, w: 1280, h: 720 }]);
    expect(grid(2, area).map((b) => [b.x, b.y, b.w, b.h])).toEqual([[0, 0, 640, 720], [640, 0, 640, 720]]);
    const five = grid(5, area);
    expect(five).toHaveLength(5);
    for (const b of five) expect(b.x + b.w <= 1280 && b.y + b.h <= 720 && b.w % 2 === 0 && b.h % 2 === 0).toBe(true);
  });

  it('gives a screen share the large part and the cameras a column beside it', () => {
    const l = layout(3, 1, { width: 1280, height: 720 });
    expect(l.screen).toEqual({ x: 0, y: 0, w: 960, h: 720 });
    expect(l.cameras.every((c) => c.x === 960 && c.w === 320)).toBe(true);
  });

  it('places each file at its offset and mixes every microphone, or silence when there is none', () => {
    const args = composeArgs([
      { path: 'a.webm', group: 'camera', offsetMs: 0, audio: true, video: true },
      { path: 'b.webm', group: 'camera', offsetMs: 1500, audio: true, video: false },
    ], 'out.mp4', { width: 1280, height: 720, fps: 15, durationMs: 10_000 });
    const graph = args[args.indexOf('-filter_complex') + 1]!;
    // Each file is cut 2 s past the recording's end before gaps are filled.
    expect(graph).toContain('[0:v]trim=end=12.000,setpts=PTS-STARTPTS+0.000/TB');
    // Every file opened once per chain (video first, then audio): see layout.ts.
    expect(args.filter((_, i) => args[i - 1] === '-i')).toEqual(['a.webm', 'a.webm', 'b.webm']);
    expect(graph).toContain('[1:a]atrim=end=12.000,aresample=');
    expect(graph).toContain('[2:a]atrim=end=10.500,aresample=');
    expect(graph).not.toContain('[1:v]');
    expect(graph).toContain('adelay=1500:all=1');
    expect(graph).toContain('amix=inputs=2');
    expect(args.slice(-5)).toEqual(['-t', '10.000', '-movflags', '+faststart', 'out.mp4']);
    const silent = composeArgs([{ path: 'a.webm', group: 'screen', offsetMs: 0, audio: false, video: true }], 'o.mp4', { width: 640, height: 360, fps: 15, durationMs: 2000 });
    expect(silent[silent.indexOf('-filter_complex') + 1]).toContain('anullsrc');
  });
});

describe('HTTP ranges of a download', () => {
  it('reads one range, clamps the end, refuses what lies outside, ignores the rest', () => {
    expect(parseRange(undefined, 1000)).toBeUndefined();
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=500-5000', 1000)).toEqual({ start: 500, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBeNull();
    expect(parseRange('bytes=5-1', 1000)).toBeNull();
    // What it does not read, it ignores (the whole file), as RFC 9110 allows.
    expect(parseRange('bytes=0-1,5-6', 1000)).toBeUndefined();
    expect(parseRange('items=0-1', 1000)).toBeUndefined();
  });
});
