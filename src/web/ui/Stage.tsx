import { useEffect, useRef, useState } from 'preact/hooks';
import type { AppState, PauseReason } from '../state.ts';
import { colorFor, initials } from '../util.ts';
import { HandIcon, MicIcon } from './icons.tsx';
import { Video } from './media.tsx';

/** One rectangle of the stage: a person's camera, or a screen someone shares. */
export interface TileModel {
  key: string;
  participantId: string;
  name: string;
  source: 'camera' | 'screen';
  /** What to show; undefined: the initials (camera off, not received yet, no camera). */
  track?: MediaStreamTrack;
  self: boolean;
  audioMuted: boolean;
  handRaised: boolean;
  speaking: boolean;
  /** Their network dropped; the seat is kept for them (ParticipantInfo.reconnecting). */
  reconnecting?: boolean;
  /** On, but not sent to us now, and why. */
  paused?: PauseReason;
}

/**
 * Our own tile first (the local preview, so it shows even before media connects), then everyone
 * else in join order; each screen share gets a tile of its own.
 */
export function buildTiles(state: AppState): TileModel[] {
  const { self, others, remote, local, activeSpeaker, pausedVideos } = state;
  const tiles: TileModel[] = [];
  if (self) {
    const base = { participantId: self.id, name: self.name, self: true, handRaised: self.handRaised, speaking: activeSpeaker === self.id };
    tiles.push({ ...base, key: `${self.id}:camera`, source: 'camera', track: local.videoTrack, audioMuted: !(local.micOn && local.audioTrack) });
    if (local.screenTrack) tiles.push({ ...base, key: `${self.id}:screen`, source: 'screen', track: local.screenTrack, audioMuted: true, speaking: false });
  }
  for (const p of others) {
    const media = remote.get(p.id);
    const base = {
      participantId: p.id, name: p.name, self: false, handRaised: p.handRaised, speaking: activeSpeaker === p.id, audioMuted: p.audioMuted,
      reconnecting: p.reconnecting === true,
    };
    const paused = p.videoMuted ? undefined : pausedVideos[`${p.id}:camera`];
    tiles.push({ ...base, key: `${p.id}:camera`, source: 'camera', track: p.videoMuted || paused ? undefined : media?.camera, paused });
    if (p.screenSharing || media?.screen) {
      const screenPaused = pausedVideos[`${p.id}:screen`];
      tiles.push({ ...base, key: `${p.id}:screen`, source: 'screen', track: screenPaused ? undefined : media?.screen, audioMuted: true, speaking: false, paused: screenPaused });
    }
  }
  return tiles;
}

const PAUSED_WHY: Record<PauseReason, string> = {
  'last-n': 'video paused: in a meeting this big you receive the cameras of the latest speakers only',
  bandwidth: 'video paused: your connection cannot carry it now',
};

function describe(tile: TileModel): string {
  const parts = [tile.source === 'screen' ? `${tile.self ? 'Your' : `${tile.name}'s`} screen` : `${tile.name}${tile.self ? ' (you)' : ''}`];
  if (tile.reconnecting) parts.push('reconnecting');
  if (tile.source === 'screen' && tile.paused) parts.push(PAUSED_WHY[tile.paused]);
  if (tile.source === 'camera') {
    if (tile.paused) parts.push(PAUSED_WHY[tile.paused]);
    else if (!tile.track) parts.push('camera off');
    if (tile.audioMuted) parts.push('microphone muted');
    if (tile.handRaised) parts.push('hand raised');
    if (tile.speaking) parts.push('speaking');
  }
  return parts.join(', ');
}

export function Tile({ tile }: { tile: TileModel }) {
  const [live, setLive] = useState(false);
  const screen = tile.source === 'screen';
  return (
    <figure
      class={`tile${screen ? ' screen' : ''}${tile.speaking ? ' speaking' : ''}${live ? ' live' : ''}`}
      data-participant-id={tile.participantId}
      data-source={tile.source}
      data-speaking={tile.speaking ? 'true' : undefined}
      aria-label={describe(tile)}
    >
      <div class="placeholder" aria-hidden="true">
        {screen ? (
          <span class="placeholder-text">
            {tile.paused ? 'Screen paused: your connection cannot carry it now' : tile.track ? 'Loading the screen…' : `Waiting for ${tile.self ? 'your' : `${tile.name}'s`} screen…`}
          </span>
        ) : (
          <span class="avatar" style={{ background: colorFor(tile.participantId) }}>{initials(tile.name)}</span>
        )}
      </div>
      {tile.track && <Video track={tile.track} mirrored={tile.self && !screen} contain={screen} onLive={setLive} />}
      <figcaption class="nameplate">
        {!screen && tile.audioMuted && (
          <span class="badge muted" title="Microphone muted">
            <MicIcon off />
          </span>
        )}
        <span class="name">{screen ? `${tile.self ? 'Your' : `${tile.name}'s`} screen` : tile.self ? `${tile.name} (you)` : tile.name}</span>
        {!screen && tile.handRaised && (
          <span class="badge hand" title="Hand raised">
            <HandIcon />
          </span>
        )}
        {tile.reconnecting && <span class="badge reconnecting">Reconnecting…</span>}
        {tile.paused && !screen && (
          <span class="badge paused" title={PAUSED_WHY[tile.paused]}>
            {tile.paused === 'bandwidth' ? 'Video paused: weak connection' : 'Video paused'}
          </span>
        )}
      </figcaption>
    </figure>
  );
}

/**
 * The camera shown large in the speaker view: the other person who spoke last, else the first
 * other person; alone, our own.
 */
export function featuredTile(cameras: TileModel[], featured: string | null): TileModel | undefined {
  return cameras.find((t) => t.participantId === featured && !t.self) ?? cameras.find((t) => !t.self) ?? cameras[0];
}

/**
 * The video area: a balanced grid; screen shares large with the cameras in a strip; or, in the
 * speaker view, the latest speaker large with the others in the strip.
 */
export function Stage({ tiles, view, featured }: { tiles: TileModel[]; view: 'grid' | 'speaker'; featured: string | null }) {
  const screens = tiles.filter((t) => t.source === 'screen');
  const cameras = tiles.filter((t) => t.source === 'camera');
  const large = screens.length > 0 ? screens : view === 'speaker' && cameras.length > 1 ? [featuredTile(cameras, featured)!] : [];
  if (large.length > 0) {
    const presenting = screens.length > 0;
    return (
      <section class={`stage presenting${presenting ? '' : ' speaker-view'}`} aria-label="Meeting video">
        <Grid tiles={large} />
        <div class="strip">
          {cameras.filter((t) => !large.includes(t)).map((t) => <Tile key={t.key} tile={t} />)}
        </div>
      </section>
    );
  }
  return (
    <section class="stage" aria-label="Meeting video">
      <Grid tiles={cameras} />
    </section>
  );
}

const GAP = 8;
const MIN_TILE_HEIGHT = 90;

/**
 * Tiles as large as the area allows: tries every column count and keeps the one with the
 * largest tiles, whose shape stays between 16:9 and 4:3 (down to 3:4 on a portrait screen,
 * where taller tiles use a phone better). Below a readable size the grid scrolls instead.
 */
export function layout(n: number, width: number, height: number): { cols: number; w: number; h: number; scroll: boolean } {
  const maxAspect = 16 / 9;
  const minAspect = width < height ? 3 / 4 : 4 / 3;
  let best = { cols: 1, w: width, h: height, area: -1 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - GAP * (cols - 1)) / cols;
    const cellH = (height - GAP * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    let w = cellW;
    let h = cellH;
    if (w / h > maxAspect) w = h * maxAspect;
    else if (w / h < minAspect) h = w / minAspect;
    if (w * h > best.area) best = { cols, w, h, area: w * h };
  }
  if (best.h < MIN_TILE_HEIGHT) {
    const cols = Math.max(1, Math.floor((width + GAP) / (MIN_TILE_HEIGHT * minAspect + GAP)));
    return { cols, w: Math.floor((width - GAP * (cols - 1)) / cols), h: MIN_TILE_HEIGHT, scroll: true };
  }
  return { cols: best.cols, w: Math.floor(best.w), h: Math.floor(best.h), scroll: false };
}

function Grid({ tiles }: { tiles: TileModel[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setSize({ width: entry.contentRect.width, height: entry.contentRect.height });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  // Until measured (or without ResizeObserver), CSS lays out a plain grid.
  const style = size && size.width > 0 && size.height > 0
    ? (() => {
      const { cols, w, h, scroll } = layout(tiles.length, size.width, size.height);
      // Scrolls only when the tiles would be too small to read: a scroller is a tab stop.
      return { gridTemplateColumns: `repeat(${cols}, ${w}px)`, gridAutoRows: `${h}px`, overflowY: scroll ? 'auto' : 'hidden' };
    })()
    : { '--cols': String(Math.max(1, Math.ceil(Math.sqrt(tiles.length)))) };
  return (
    <div class="grid-area">
      <div class="grid" ref={ref} style={style}>
        {tiles.map((t) => <Tile key={t.key} tile={t} />)}
      </div>
    </div>
  );
}
