// One stream of a published video: its only stream, or one simulcast layer (a rid). What it
// brings in, whether it flows, its picture size, and its own keyframe requests.
import { KeyframeRequestLimiter } from './keyframe-limiter.js';

/** A layer without media for this long has stopped (the publisher's encoder dropped it). */
const STOPPED_AFTER_MS = 1500;

export class SimulcastLayer {
  /** SSRC of its latest packet, the target of its PLIs */
  ssrc: number | undefined;
  /** bit/s, smoothed over about two seconds (`sampleRate`) */
  rateBps = 0;
  /** from its latest VP8 keyframe (0: unknown) */
  width = 0;
  height = 0;
  private bytes = 0;
  private lastMediaAt = -Infinity;
  private sampled: { bytes: number; at: number } | undefined;
  readonly pli: KeyframeRequestLimiter;

  constructor(
    readonly index: number,
    readonly rid: string | undefined,
    sendPli: (layer: SimulcastLayer) => boolean,
  ) {
    this.pli = new KeyframeRequestLimiter(() => sendPli(this));
  }

  /** A packet of this layer; padding-only ones (empty) count for the rate, not as media. */
  received(ssrc: number, size: number, hasMedia: boolean, now: number): void {
    this.ssrc = ssrc;
    this.bytes += size;
    if (hasMedia) this.lastMediaAt = now;
  }

  flowing(now: number): boolean {
    return now - this.lastMediaAt < STOPPED_AFTER_MS;
  }

  /** Updates `rateBps` from what arrived since the last call (the room calls it on a timer). */
  sampleRate(now: number): void {
    const last = this.sampled;
    this.sampled = { bytes: this.bytes, at: now };
    if (!last || now <= last.at) return;
    const rate = ((this.bytes - last.bytes) * 8 * 1000) / (now - last.at);
    // A keyframe is not a new rate.
    this.rateBps = this.rateBps === 0 ? rate : this.rateBps * 0.75 + rate * 0.25;
  }

  close(): void {
    this.pli.close();
  }
}
