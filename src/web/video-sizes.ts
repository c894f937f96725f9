import type { ClientMessage } from '../protocol/messages.ts';

/** How often the page measures its video tiles. */
const MEASURE_EVERY_MS = 1000;
/** Sizes are rounded to this many device pixels, so that a small reflow sends nothing. */
const STEP = 32;

type Size = Extract<ClientMessage, { type: 'videoSizes' }>['sizes'][number];

/**
 * Tells the server how large each remote video is shown (device pixels; 0×0 while the page is
 * hidden), whenever that changes: it sends a small tile a lower simulcast layer, and so spends a
 * weak link on what is seen large. Measured from the DOM on a timer rather than wired through
 * every layout: grid, strip, speaker view and screen share all end in a tile.
 */
export class VideoSizeReporter {
  private last = '';
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly send: (message: ClientMessage) => void,
    private readonly inRoom: () => boolean,
    private readonly selfId: () => string | undefined,
  ) {
    this.timer = setInterval(() => this.measure(), MEASURE_EVERY_MS);
  }

  private measure(): void {
    if (!this.inRoom()) {
      this.last = ''; // back in the room (a new seat, a resumed one): tell it again
      return;
    }
    const sizes: Size[] = [];
    const ratio = window.devicePixelRatio || 1;
    const self = this.selfId();
    for (const tile of document.querySelectorAll<HTMLElement>('figure.tile[data-participant-id][data-source]')) {
      const participantId = tile.dataset.participantId!;
      const source = tile.dataset.source;
      if (participantId === self || (source !== 'camera' && source !== 'screen')) continue;
      const box = (tile.querySelector('video') ?? tile).getBoundingClientRect();
      const visible = !document.hidden && box.width > 0 && box.height > 0;
      const round = (px: number) => (visible ? Math.max(STEP, Math.round((px * ratio) / STEP) * STEP) : 0);
      sizes.push({ participantId, source, width: round(box.width), height: round(box.height) });
    }
    sizes.sort((a, b) => `${a.participantId}:${a.source}`.localeCompare(`${b.participantId}:${b.source}`));
    const text = JSON.stringify(sizes);
    if (text === this.last) return;
    this.last = text;
    this.send({ type: 'videoSizes', sizes });
  }

  close(): void {
    clearInterval(this.timer);
  }
}
