// The ffmpeg command that composes a recording's raw WebM files into one MP4: the cameras in a
// grid (the screen share large on the left when there is one, the cameras in a column beside
// it), every microphone mixed, each file placed on the timeline at its own start. Pure: the
// composer runs it.

export interface ComposeInput {
  path: string;
  group: 'camera' | 'screen';
  /** ms from the recording's start */
  offsetMs: number;
  audio: boolean;
  video: boolean;
}

export interface ComposeOptions {
  width: number;
  height: number;
  fps: number;
  /** the output's length */
  durationMs: number;
}

export const DEFAULT_COMPOSE: Omit<ComposeOptions, 'durationMs'> = { width: 1280, height: 720, fps: 15 };

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Even numbers: yuv420p needs them. */
const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/** n tiles in a grid filling `area`, as square as it gets. */
export function grid(n: number, area: Box): Box[] {
  if (n === 0) return [];
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const w = even(area.w / cols);
  const h = even(area.h / rows);
  return Array.from({ length: n }, (_, i) => ({ x: area.x + (i % cols) * w, y: area.y + Math.floor(i / cols) * h, w, h }));
}

/** Where each video goes: the first screen share large, the cameras in a grid (or a column beside it). */
export function layout(cameras: number, screens: number, o: Pick<ComposeOptions, 'width' | 'height'>): { screen?: Box; cameras: Box[] } {
  const full = { x: 0, y: 0, w: o.width, h: o.height };
  if (screens === 0) return { cameras: grid(cameras, full) };
  if (cameras === 0) return { screen: full, cameras: [] };
  const side = even(o.width / 4);
  const screen = { x: 0, y: 0, w: o.width - side, h: o.height };
  const h = even(Math.min(o.height / cameras, (side * 3) / 4));
  return { screen, cameras: Array.from({ length: cameras }, (_, i) => ({ x: o.width - side, y: i * h, w: side, h })) };
}

/** ffmpeg's arguments (without the binary) writing `output`; progress as key=value lines on stdout. */
export function composeArgs(inputs: ComposeInput[], output: string, o: ComposeOptions): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-progress', 'pipe:1'];
  // Each file is opened once for its video and once for its audio: with one demuxer feeding both
  // chains, Debian 12's ffmpeg 5.1 stalled for good on the files of a recording whose cameras
  // moved from H.264 to VP8 mid-way (part-way through, every time; video alone and audio alone
  // finished; test/recording/compose-stall.test.ts has those files).
  const videoOf = new Map<number, number>();
  const audioOf = new Map<number, number>();
  let opened = 0;
  inputs.forEach((input, i) => {
    if (!input.video) return;
    args.push('-i', input.path);
    videoOf.set(i, opened++);
  });
  inputs.forEach((input, i) => {
    if (!input.audio) return;
    args.push('-i', input.path);
    audioOf.set(i, opened++);
  });
  const seconds = (o.durationMs / 1000).toFixed(3);
  // What lies past the recording's end in a file is cut before anything fills gaps: a stray
  // timestamp hours late would otherwise be reached by hours of repeated frames and silence.
  const keep = (offsetMs: number) => Math.max(0, (o.durationMs - offsetMs) / 1000 + 2).toFixed(3);
  const filters: string[] = [`color=c=black:s=${o.width}x${o.height}:r=${o.fps}:d=${seconds}[base]`];

  const cameras = inputs.map((input, i) => ({ input, i })).filter(({ input }) => input.video && input.group === 'camera');
  const screens = inputs.map((input, i) => ({ input, i })).filter(({ input }) => input.video && input.group === 'screen');
  const boxes = layout(cameras.length, Math.min(1, screens.length), o);
  const placed: { i: number; offsetMs: number; box: Box }[] = cameras.map(({ input, i }, k) => ({ i, offsetMs: input.offsetMs, box: boxes.cameras[k]! }));
  // One screen share is shown large: the first one (later ones are kept in the raw files).
  if (boxes.screen && screens[0]) placed.unshift({ i: screens[0].i, offsetMs: screens[0].input.offsetMs, box: boxes.screen });

  let last = 'base';
  placed.forEach(({ i, offsetMs, box }, k) => {
    const start = (offsetMs / 1000).toFixed(3);
    // Resolution changes mid-file are scaled like the rest; pauses hold the last picture.
    filters.push(
      `[${videoOf.get(i)}:v]trim=end=${keep(offsetMs)},setpts=PTS-STARTPTS+${start}/TB,fps=${o.fps},scale=${box.w}:${box.h}:force_original_aspect_ratio=decrease,` +
        `pad=${box.w}:${box.h}:(ow-iw)/2:(oh-ih)/2,setsar=1[v${k}]`,
      `[${last}][v${k}]overlay=${box.x}:${box.y}:eof_action=pass[o${k}]`,
    );
    last = `o${k}`;
  });
  filters.push(`[${last}]format=yuv420p[vout]`);

  const audios = inputs.map((input, i) => ({ input, i })).filter(({ input }) => input.audio);
  if (audios.length === 0) {
    filters.push(`anullsrc=r=48000:cl=stereo,atrim=0:${seconds}[aout]`);
  } else {
    // Gaps (mutes) become silence; each microphone starts where it started.
    audios.forEach(({ input, i }, k) => {
      filters.push(`[${audioOf.get(i)}:a]atrim=end=${keep(input.offsetMs)},aresample=48000:async=1:first_pts=0,adelay=${Math.round(input.offsetMs)}:all=1[a${k}]`);
    });
    const labels = audios.map((_, k) => `[a${k}]`).join('');
    filters.push(`${labels}amix=inputs=${audios.length}:duration=longest:dropout_transition=0:normalize=0,apad,atrim=0:${seconds}[aout]`);
  }

  args.push(
    '-filter_complex', filters.join(';'),
    '-map', '[vout]', '-map', '[aout]',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-r', String(o.fps),
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
    '-t', seconds, '-movflags', '+faststart', output,
  );
  return args;
}
