// What one subscriber receives of each video: paused by last-N (the room ranks speakers), or by
// its own link, else which simulcast layer (bandwidth-allocator.ts, fed by its REMB and the tile
// sizes its page reports).
import type { PausedVideo, VideoSize } from '../types.js';
import { BandwidthAllocator, PAUSED, type Allocation, type ClusterRequest, type VideoDemand } from './bandwidth-allocator.js';
import type { PublishedTrack } from './published-track.js';
import type { ProbeVerdict } from './probe-cluster.js';
import { layerCosts } from './simulcast-layer.js';

export const videoKey = (track: Pick<PublishedTrack, 'peerId' | 'source'>) => `${track.peerId}:${track.source}`;

/** Why a subscriber's videos are at their layers: what the debug log says when they change. */
export interface LayerDecision {
  estimateBps: number | undefined;
  loss: number;
  allowanceBps: number;
  /** what the choice that flowed without loss since the last cut costs now (also allowed) */
  carriedBps: number;
  /** what arrives (padding and a grown estimate included): more than 1.5× that waits for a probe cluster */
  arrivingBps: number;
  paddingBps: number;
  probing: boolean;
  /** a probe cluster is under way */
  cluster: boolean;
  /** each video: the layer chosen (-1 paused), the best its tile wants, and each layer's price */
  videos: { video: string; layer: number | undefined; maxLayer: number; costsBps: Record<number, number> }[];
}

/** A layer at least this share of the tile's height is sharp enough for it. */
const SHARP_ENOUGH = 0.75;

export class PausedVideos {
  /** Publishers whose camera last-N leaves out. */
  private lastN = new Set<string>();
  private allocation: Allocation = new Map();
  private readonly allocator = new BandwidthAllocator();
  /** What the page shows each video in (device pixels), by videoKey. */
  private sizes = new Map<string, VideoSize>();
  private reported = '[]';
  private decided = '';

  /**
   * `changed`: the list (whole) each time it changes. `decision`: each time a video's layer
   * changes, what the choice went by (when debug logging is on); with `everyDecision`, every
   * decision, and whether a layer changed.
   */
  constructor(
    private readonly changed: (videos: PausedVideo[]) => void,
    private readonly decision?: (d: LayerDecision, changed: boolean) => void,
    private readonly everyDecision = false,
  ) {}

  /** The subscriber's REMB, bit/s. */
  setEstimate(bps: number): void {
    this.allocator.setEstimate(bps);
  }

  /** The share of its video the subscriber reports lost (its receiver reports). */
  setLoss(fraction: number): void {
    this.allocator.setLoss(fraction);
  }

  /** Padding to send now (bit/s), for the subscriber's estimate to grow towards a better layer. */
  get paddingBps(): number {
    return this.allocator.paddingBps;
  }

  /** A probe cluster to send now, if one is due (bandwidth-allocator.ts). */
  get clusterWanted(): ClusterRequest | undefined {
    return this.allocator.clusterWanted;
  }

  clusterStarted(now: number): void {
    this.allocator.clusterStarted(now);
  }

  clusterResult(verdict: ProbeVerdict, testedBps: number, now: number): void {
    this.allocator.clusterResult(verdict, testedBps, now);
  }

  setLastN(peerIds: ReadonlySet<string>): void {
    this.lastN = new Set(peerIds);
  }

  setVideoSizes(sizes: readonly VideoSize[]): void {
    this.sizes = new Map(sizes.map((s) => [videoKey(s), s]));
  }

  /**
   * What this subscriber's link allows among `videos` (those it would receive), the most important
   * first (`priorityOf`, lower first); `audioBps` always goes. A video with no layer flowing yet is
   * left alone (it starts at its best layer).
   */
  allocate(videos: readonly PublishedTrack[], audioBps: number, priorityOf: (track: PublishedTrack) => number, now: number): void {
    const demands: VideoDemand[] = [];
    for (const t of videos) {
      if (this.byLastN(t)) continue;
      const layers = layerCosts(t.layers, now);
      if (layers.length > 0) demands.push({ key: videoKey(t), priority: priorityOf(t), layers, maxLayer: this.maxLayer(t) });
    }
    const latest = Math.min(...demands.filter((d) => d.key.endsWith(':camera')).map((d) => d.priority));
    for (const d of demands) d.lead = d.key.endsWith(':screen') || d.priority === latest;
    this.allocation = this.allocator.decide(demands, audioBps, now);
    if (this.decision) this.tellDecision(demands);
  }

  private tellDecision(demands: readonly VideoDemand[]): void {
    const text = JSON.stringify([...this.allocation].sort());
    const changed = text !== this.decided;
    if (!changed && !this.everyDecision) return;
    this.decided = text;
    const videos = demands.map((d) => ({
      video: d.key,
      layer: this.allocation.get(d.key),
      maxLayer: d.maxLayer,
      costsBps: Object.fromEntries(d.layers.map((l) => [l.index, Math.round(l.rateBps)])),
    }));
    this.decision!({ ...this.allocator.state, videos }, changed);
  }

  /** The lowest layer sharp enough for the video's tile (the top one if its size is unknown). */
  private maxLayer(track: PublishedTrack): number {
    const top = track.layers.length - 1;
    const size = this.sizes.get(videoKey(track));
    if (!size) return top;
    if (size.width === 0 || size.height === 0) return 0; // not on screen
    for (const layer of track.layers) {
      if (layer.height === 0) return top; // sizes not known yet: no reason to hold back
      if (layer.height >= size.height * SHARP_ENOUGH || layer.width >= size.width * SHARP_ENOUGH) return layer.index;
    }
    return top;
  }

  isPaused(track: PublishedTrack): boolean {
    return this.byLastN(track) || (track.kind === 'video' && this.allocation.get(videoKey(track)) === PAUSED);
  }

  /** The layer to forward (undefined: no decision yet, or audio). */
  layerOf(track: PublishedTrack): number | undefined {
    const layer = track.kind === 'video' ? this.allocation.get(videoKey(track)) : undefined;
    return layer === undefined || layer === PAUSED ? undefined : layer;
  }

  /** Tells `changed` if the list differs from the one told last. */
  report(videos: readonly PublishedTrack[]): void {
    const list: PausedVideo[] = [];
    for (const t of videos) {
      if (t.kind !== 'video' || t.source === 'microphone') continue;
      if (this.byLastN(t)) list.push({ peerId: t.peerId, source: t.source, reason: 'last-n' });
      else if (this.allocation.get(videoKey(t)) === PAUSED) list.push({ peerId: t.peerId, source: t.source, reason: 'bandwidth' });
    }
    list.sort((a, b) => `${a.peerId}:${a.source}`.localeCompare(`${b.peerId}:${b.source}`));
    const text = JSON.stringify(list);
    if (text === this.reported) return;
    this.reported = text;
    this.changed(list);
  }

  private byLastN(track: PublishedTrack): boolean {
    return track.source === 'camera' && this.lastN.has(track.peerId);
  }
}
