// One stream of a published video: its only stream, or one simulcast layer (a rid). What it
// brings in, whether it flows, its picture size, and its own keyframe requests.
import { KeyframeRequestLimiter } from './keyframe-limiter.js';

/** A layer without media for this long has stopped (the publisher's encoder dropped it). */
const STOPPED_AFTER_MS = 1500;
/** How fast a layer's remembered peak rate fades: to half in about a minute. */
const PEAK_KEPT_PER_SECOND = 0.99;
/**
 * A layer that (re)starts climbs from a fraction of its rate for seconds (seen: 130 → 340 kbit/s
 * over 7 s, as Chrome brings back a layer it had dropped): until it has flowed this long, its rate
 * says little about what it will cost.
 */
const SETTLES_AFTER_MS = 6000;

export class SimulcastLayer {
  /** SSRC of its latest packet, the target of its PLIs */
  ssrc: number | undefined;
  /** bit/s, smoothed over about two seconds (`sampleRate`) */
  rateBps = 0;
  /** from its latest VP8 keyframe (0: unknown) */
  width = 0;
  height = 0;
  /** the highest `rateBps` lately, fading slowly (`costBps`) */
  private peakBps = 0;
  private bytes = 0;
  private lastMediaAt = -Infinity;
  /** when its media last started after a stop */
  private flowingSince = -Infinity;
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
    if (!hasMedia) return;
    if (!this.flowing(now)) this.flowingSince = now;
    this.lastMediaAt = now;
  }

  flowing(now: number): boolean {
    return now - this.lastMediaAt < STOPPED_AFTER_MS;
  }

  /** Flowing for long enough that its rate is what it costs (`SETTLES_AFTER_MS`). */
  settled(now: number): boolean {
    return this.flowing(now) && now - this.flowingSince >= SETTLES_AFTER_MS;
  }

  /** Updates `rateBps` from what arrived since the last call (the room calls it on a timer). */
  sampleRate(now: number): void {
    const last = this.sampled;
    this.sampled = { bytes: this.bytes, at: now };
    if (!last || now <= last.at) return;
    const rate = ((this.bytes - last.bytes) * 8 * 1000) / (now - last.at);
    // A keyframe is not a new rate.
    this.rateBps = this.rateBps === 0 ? rate : this.rateBps * 0.75 + rate * 0.25;
    this.peakBps = Math.max(this.rateBps, this.peakBps * PEAK_KEPT_PER_SECOND ** ((now - last.at) / 1000));
  }

  /**
   * What forwarding this layer will cost: its rate, or what it reached lately if more. A layer the
   * publisher's encoder drops and takes up again (its uplink or CPU) comes back at a fraction of
   * its rate and climbs over seconds; priced at that fraction it was given to a subscriber whose
   * link then could not carry it (seen: three cameras raised at once on a 500 kbit/s link).
   */
  get costBps(): number {
    return Math.max(this.rateBps, this.peakBps);
  }

  close(): void {
    this.pli.close();
  }
}

/** A better simulcast layer has four times the pixels of the one below it. */
const CLIMBING_LAYER_COSTS = 4;

/**
 * A video's flowing layers (lowest first) and what each costs. A layer that has just (re)started
 * climbs from a fraction of its rate for seconds: until it has settled, it costs what it reached
 * before, or four times the layer below (its pixels; the room asks for 60, 350 and 1500 kbit/s)
 * if more.
 */
export function layerCosts(layers: readonly SimulcastLayer[], now: number): { index: number; rateBps: number }[] {
  let below = 0;
  const out: { index: number; rateBps: number }[] = [];
  for (const l of layers) {
    if (!l.flowing(now)) continue;
    below = l.settled(now) ? l.costBps : Math.max(l.costBps, below * CLIMBING_LAYER_COSTS);
    out.push({ index: l.index, rateBps: below });
  }
  return out;
}
