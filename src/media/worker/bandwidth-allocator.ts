// Which layer of each video one subscriber receives, within what its downlink carries: audio
// first, then every video at its lowest layer by priority (screen shares, then the latest
// speakers' cameras), then better layers by priority up to what its tile shows; a video that does
// not fit even at its lowest layer is paused rather than let audio suffer; what is sent grows far
// beyond what arrives only once a probe cluster shows the link carries it. Pure: time comes from
// the caller; unit-tested.
import type { ProbeVerdict } from './probe-cluster.js';

/** A video this subscriber could receive. */
export interface VideoDemand {
  key: string;
  /** lower first */
  priority: number;
  /** its layers flowing now, lowest first: index into the track's layers, and what it costs */
  layers: readonly { index: number; rateBps: number }[];
  /** the best layer worth sending (its tile's size); a lower flowing one may still be chosen */
  maxLayer: number;
  /** a screen share or the latest speaker's camera: better layers before the others keep theirs */
  lead?: boolean;
}

/** key → layer index to forward, or PAUSED */
export type Allocation = ReadonlyMap<string, number>;
export const PAUSED = -1;

export interface AllocatorOptions {
  /** Share of the estimate that may be used (the rest absorbs bursts such as keyframes). */
  headroom: number;
  /**
   * Congestion: the subscriber reports losing at least this share of the video sent (its receiver
   * reports, after retransmissions). The estimate alone is not enough: it lags
   * behind a rise in what is sent (a probe, a new video) without meaning anything, and after an
   * overload Chrome's keeps sliding down for seconds while the queue drains (each overuse sets it
   * to 0.85× what arrives): cutting on its falls took a 500 kbit/s link down to 100 kbit/s.
   */
  lossCongested: number;
  /**
   * Below this much sent nothing is cut: receive-side estimates of a nearly idle link are noise
   * (seen: headless libwebrtc bots report less than they receive), and such a link could not carry
   * even the audio of a few people if it were really that slow.
   */
  floorBps: number;
  /**
   * First wait before a paused video is tried again, or before padding resumes after it filled
   * the link; doubled after each failure, up to probeBackoffMaxMs (a try) or padBackoffMaxMs.
   */
  probeAfterMs: number;
  probeBackoffMaxMs: number;
  /**
   * Padding is gentler than a try (it stays within the estimate), and it is how the estimate
   * learns that a limit went away: a long wait there is a long wait before anything goes back up.
   */
  padBackoffMaxMs: number;
  /** A paused video's try that causes no loss for this long has succeeded. */
  settleMs: number;
  /**
   * After a cut, nothing more is cut for this long: the loss reported meanwhile is the queue the
   * excess built (the loss is measured over about 2 s, and receiver reports come about once a second).
   */
  holdAfterCutMs: number;
  /**
   * Padding fills the link up to this share of the estimate, at most by the next step's worth:
   * Chrome's estimate grows (5–10% a second) only up to 1.5× what arrives, so without it a link
   * carrying the low layers could never show room for the next one; with it, the estimate finds
   * what the link carries (it stops growing as soon as the queue does) before a layer moves.
   */
  padUpTo: number;
  /**
   * First wait before a probe cluster (probe-cluster.ts) tests whether the link carries the next
   * step, and the wait after one that it carried; doubled after each that found the link full,
   * up to clusterBackoffMaxMs: how long a lifted limit may go unnoticed, and how often a full
   * link gets a burst more than it carries.
   */
  clusterAfterMs: number;
  clusterBackoffMaxMs: number;
  /**
   * A try of what a cluster found holds after this long without loss or a falling estimate
   * (Chrome's REMB fell 2 s after a layer went up into a full link).
   */
  clusterSettleMs: number;
}

/** What a probe cluster should test (what flows, audio included, plus its padding), and its padding. */
export interface ClusterRequest {
  testedBps: number;
  paddingBps: number;
}

/**
 * A probe cluster adds at least this much: a shaper lets a burst through at once (16 KB in the
 * tests' tbf), and only an excess that empties it within the first half of the cluster (judged
 * on its second half) shows a link that is full. 500 kbit/s more did not on a 500 kbit/s link
 * carrying 290 kbit/s (its excess, 290 kbit/s, took 440 ms of the 500 to empty 16 KB): a layer
 * went up into 50% loss.
 */
const CLUSTER_MIN_EXTRA_BPS = 700_000;

/**
 * A cluster that the link carried but that fell short of the best layers is followed at once by
 * one that tests up to twice as much (at most this many in a row) before anything is tried: a
 * lifted limit then takes one try of 2.5 s, not one per step (three cameras went up one by one
 * in 8.5–12.3 s). It aims this much above the best layers' cost: padding goes out only between
 * frames, and fell short of what was asked by 10–15%.
 */
const CLUSTER_ESCALATIONS = 3;
const CLUSTER_GOAL_MARGIN = 1.25;

/** An unclear cluster (probe-cluster.ts) is sent again this many times in a row, then counts as full. */
const UNCLEAR_RETRIES = 2;

/** Loss reported this soon after padding was sent is the padding's doing (the loss window is ~2 s). */
const PADDING_BLAME_MS = 2500;

/**
 * Without a probe cluster that the link carried, what is sent grows at most to this many times
 * what arrives now (padding included), or by STEP_MIN_BPS: Chrome's estimate grows only up to
 * 1.5× what arrives, but it does not fall when less arrives, and what the link carried before
 * may not fit any more. A larger step (a tile grown, a share's full layer appearing) waits for a
 * cluster, which costs a full link a few tens of milliseconds of queue; taken at once on a link
 * limited while little flowed, a full layer lost 20–24% and froze the picture 25–40% of 20 s.
 */
const STEP_UNPROBED = 1.5;
const STEP_MIN_BPS = 100_000;

const DEFAULTS: AllocatorOptions = {
  headroom: 0.9, lossCongested: 0.1, floorBps: 150_000, probeAfterMs: 2000, probeBackoffMaxMs: 30_000, padBackoffMaxMs: 8000, settleMs: 2000, holdAfterCutMs: 3000, padUpTo: 0.9,
  clusterAfterMs: 500, clusterBackoffMaxMs: 4000, clusterSettleMs: 2500,
};

/**
 * A receiver-side estimate (Chrome's REMB) grows only with what is actually received, up to about
 * 1.5× that, by 5–10% a second, and stops growing when the link queues: padding raises what is
 * received towards the next step, and a better layer is taken once the estimate covers it. A
 * paused video is tried again at its low layer (a probe) and kept if that causes no loss. Faster
 * than the estimate can grow, a probe cluster (probe-cluster.ts) shows whether the link carries
 * more now; what it found is tried the same way.
 */
export class BandwidthAllocator {
  private readonly opts: AllocatorOptions;
  private estimateBps: number | undefined;
  /** share of the video lost on the way, as the subscriber last reported it */
  private loss = 0;
  /** What may be sent now (bps, audio included): what flows, what the estimate allows, or a try. */
  private allowanceBps = 0;
  private probeWaitMs: number;
  private nextProbeAt = 0;
  private probeStartedAt: number | undefined;
  /** what was allowed, and the estimate, when a try began: a failed try goes back to it */
  private beforeProbe = { allowanceBps: 0, estimateBps: 0 };
  private holdUntil = -Infinity;
  private chosen = new Map<string, number>();
  /**
   * The most costly choice that flowed without loss since the last cut: the link carried it, so
   * it stays allowed, priced at what its layers cost now (a publisher's layer grows, and would
   * have grown in what is sent had the choice stayed). It outlasts a tile made small meanwhile,
   * and a low first estimate (Chrome's first REMB, 5 s after the first video, is what arrived
   * then, and grows 8% a second at most: half a minute from a small layer to a large one); far
   * above what arrives (STEP_UNPROBED), a cluster must show the link still carries it.
   */
  private carried = new Map<string, number>();
  /** what `carried` cost at the last decision (for the debug log) */
  private carriedBps = 0;
  /** what the last decision sends (audio included): a cluster that carried more is tried */
  private sentBps = 0;
  /** what arrived as the last decision saw it (for the debug log) */
  private arrivingBps = 0;
  private padding = 0;
  /** when padding was last sent; no padding before `padAfter`, which moves by a doubling wait */
  private paddedAt = -Infinity;
  private paddedBps = 0;
  /** the estimate at the last decision, and when it last grew */
  private lastEstimateBps = 0;
  private estimateGrewAt = -Infinity;
  /** since when padding has been sent without a break */
  private paddingSince: number | undefined;
  private padAfter = 0;
  private padWaitMs: number;
  private cluster: ClusterRequest | undefined;
  /** a cluster is under way (no verdict yet); none before `nextClusterAt`, which moves by a doubling wait */
  private clusterPending = false;
  private nextClusterAt = 0;
  private clusterWaitMs: number;
  /** the try under way (`probeStartedAt`) is what a cluster found, not a paused video */
  private clusterTry = false;
  /** what the best layers cost (audio included) when the pending cluster was asked for */
  private clusterGoalBps = 0;
  /** clusters in a row that told nothing (`unclear`), each followed by another after the first wait */
  private unclearInRow = 0;
  /** the most a cluster carried while a larger one looks for more, not yet tried; how many so far */
  private escalated: { testedBps: number; count: number } | undefined;

  constructor(options: Partial<AllocatorOptions> = {}) {
    this.opts = { ...DEFAULTS, ...options };
    this.probeWaitMs = this.opts.probeAfterMs;
    this.padWaitMs = this.opts.probeAfterMs;
    this.clusterWaitMs = this.opts.clusterAfterMs;
  }

  /** A probe cluster to send now, if one is due. */
  get clusterWanted(): ClusterRequest | undefined {
    return this.clusterPending ? undefined : this.cluster;
  }

  /** The cluster asked for is being sent: loss meanwhile is its doing, like padding's. */
  clusterStarted(now: number): void {
    if (!this.cluster) return;
    this.clusterPending = true;
    this.paddedAt = now;
    this.paddedBps = this.cluster.paddingBps;
    this.cluster = undefined;
  }

  /**
   * What a cluster found: `carried`, the link carries `testedBps` of video (with the audio and
   * all else that flowed), which is then allowed, whatever the estimate says; `full`, it does
   * not, and the next cluster waits twice as long; `unclear`, the same cluster again after the
   * first wait (UNCLEAR_RETRIES times in a row, then it counts as full).
   */
  clusterResult(result: ProbeVerdict, testedBps: number, now: number): void {
    this.clusterPending = false;
    const escalated = this.escalated;
    if (result === 'unclear' && this.unclearInRow < UNCLEAR_RETRIES) {
      this.unclearInRow++;
      this.nextClusterAt = now + this.opts.clusterAfterMs;
      return;
    }
    this.unclearInRow = 0;
    const verdict = result === 'unclear' ? 'full' : result;
    this.escalated = undefined;
    const found = verdict === 'carried' ? Math.max(testedBps, escalated?.testedBps ?? 0) : escalated?.testedBps;
    if (found !== undefined && found > this.sentBps && this.probeStartedAt === undefined) {
      const count = escalated?.count ?? 0;
      // (A larger one that carried less than the last is followed again: the most carried stays.)
      if (verdict === 'carried' && testedBps < this.clusterGoalBps && count < CLUSTER_ESCALATIONS) {
        this.escalated = { testedBps: found, count: count + 1 };
        this.nextClusterAt = now;
        return;
      }
      // A try, like a paused video's: a shaper lets a burst through at once, so a cluster may
      // find room that is not there; the first loss or fall of the estimate takes it back.
      this.beforeProbe = { allowanceBps: this.allowanceBps, estimateBps: this.estimateBps ?? 0 };
      this.allowanceBps = found;
      this.probeStartedAt = now;
      this.clusterTry = true;
      return;
    }
    this.clusterWaitMs = verdict === 'carried' ? this.opts.clusterAfterMs : Math.min(this.clusterWaitMs * 2, this.opts.clusterBackoffMaxMs);
    this.nextClusterAt = now + this.clusterWaitMs;
  }

  /** The subscriber's latest estimate of what its link carries (REMB), in bit/s. */
  setEstimate(bps: number): void {
    if (!Number.isFinite(bps) || bps <= 0) return;
    this.estimateBps = bps;
  }

  /** The share (0–1) of the video it receives that the subscriber reports lost. */
  setLoss(fraction: number): void {
    if (Number.isFinite(fraction)) this.loss = Math.min(1, Math.max(0, fraction));
  }

  /** Padding to send now (bit/s). */
  get paddingBps(): number {
    return this.padding;
  }

  /** What the last decision went by (for the debug log). */
  get state(): { estimateBps: number | undefined; loss: number; allowanceBps: number; carriedBps: number; arrivingBps: number; paddingBps: number; probing: boolean; cluster: boolean } {
    return {
      estimateBps: this.estimateBps, loss: this.loss, allowanceBps: this.allowanceBps, carriedBps: this.carriedBps, arrivingBps: this.arrivingBps, paddingBps: this.padding,
      probing: this.probeStartedAt !== undefined, cluster: this.clusterPending,
    };
  }

  /** The layer of each video now, given every video it could receive and the audio's rate. */
  decide(videos: readonly VideoDemand[], audioBps: number, now: number): Allocation {
    const estimate = this.estimateBps;
    if (estimate === undefined) {
      // Nothing heard yet: the best each tile wants.
      if (this.loss < this.opts.lossCongested / 2) this.remember(videos, this.chosen);
      this.chosen = new Map(videos.map((v) => [v.key, best(v)]));
      return this.chosen;
    }
    if (estimate > this.lastEstimateBps) this.estimateGrewAt = now;
    this.lastEstimateBps = estimate;
    // A video seen for the first time comes in at its lowest layer (a probe's worth, no more).
    const current = new Map(videos.map((v) => [v.key, this.chosen.get(v.key) ?? lowest(v)]));
    const sending = audioBps + cost(videos, current);
    const probing = this.probeStartedAt !== undefined;
    // A try fails at the first sign: a little loss, or the estimate falling.
    const probeFailed = probing && (this.loss >= this.opts.lossCongested / 2 || estimate < this.beforeProbe.estimateBps * 0.9);
    let congested = now >= this.holdUntil && this.loss >= this.opts.lossCongested && sending > this.opts.floorBps;
    const paddedLately = now - this.paddedAt < PADDING_BLAME_MS;
    if (congested && paddedLately && this.loss * (sending + this.paddedBps) <= this.paddedBps * 1.5) {
      // Padding filled the link (what was lost is no more than it): the padding stops, and waits
      // longer each time; the videos keep their layers.
      congested = false;
      this.holdUntil = now + this.opts.holdAfterCutMs;
      this.padWaitMs = Math.min(this.padWaitMs * 2, this.opts.padBackoffMaxMs);
      this.padAfter = now + this.padWaitMs;
    }
    if (probeFailed && !congested) {
      // Back to what was carried before the try (the estimate may still be sliding).
      this.allowanceBps = this.beforeProbe.allowanceBps;
      this.holdUntil = now + this.opts.holdAfterCutMs;
      this.endTry(false, now);
    } else if (congested) {
      this.holdUntil = now + this.opts.holdAfterCutMs;
      this.carried = new Map();
      // Down to what the link carries now: what the estimate says, or what got through if more
      // (the estimate may still be sliding from an earlier overload); what got through when the
      // estimate is above what is sent (seen: Chrome's held still for 25 s through 30–50% loss).
      // A try that caused it failed.
      const through = sending * (1 - this.loss);
      const carried = estimate < sending ? Math.max(estimate, through) : through;
      this.allowanceBps = Math.max(carried * this.opts.headroom, this.opts.floorBps);
      if (this.probeStartedAt !== undefined) this.endTry(false, now);
      this.nextProbeAt = now + this.probeWaitMs;
    } else {
      // What flows is carried: nothing is cut without congestion (nor when a rate dips a moment).
      this.allowanceBps = Math.max(this.allowanceBps, sending, estimate * this.opts.headroom, this.opts.floorBps);
      if (!probing && this.loss < this.opts.lossCongested / 2) this.remember(videos, current);
      // The try held: the next one comes after the first wait.
      const settleMs = this.clusterTry ? this.opts.clusterSettleMs : this.opts.settleMs;
      if (this.probeStartedAt !== undefined && now - this.probeStartedAt >= settleMs) this.endTry(true, now);
    }
    // What arrives: padding counts once it has flowed a loss window without loss (a cluster's
    // does not); an estimate that just grew had 2/3 of it arriving (it grows only up to 1.5×).
    const padded = this.paddingSince !== undefined && now - this.paddingSince >= PADDING_BLAME_MS && this.loss < this.opts.lossCongested / 2;
    const grown = now - this.estimateGrewAt < PADDING_BLAME_MS ? estimate / STEP_UNPROBED : 0;
    const arriving = Math.max(sending + (padded ? this.padding : 0), grown);
    this.arrivingBps = arriving;
    // Far beyond what arrives, only what a cluster found (its try) or a paused video's try; on the
    // first decision nothing arrives yet, and the estimate is all there is.
    const unprobedCap = () => {
      if (this.probeStartedAt !== undefined) return this.clusterTry ? this.allowanceBps : Infinity;
      return this.chosen.size === 0 ? Infinity : Math.max(arriving * STEP_UNPROBED, arriving + STEP_MIN_BPS);
    };
    let next = this.allot(videos, audioBps, current, unprobedCap());
    const calm = this.probeStartedAt === undefined && this.loss < this.opts.lossCongested / 2;
    let step = nextStep(videos, next);
    if (calm && step?.resumes && now >= this.nextProbeAt) {
      // A paused video back at its low layer: the allowance grows by it.
      this.beforeProbe = { allowanceBps: this.allowanceBps, estimateBps: estimate };
      this.allowanceBps = audioBps + cost(videos, next) + step.extraBps;
      this.probeStartedAt = now;
      this.nextProbeAt = now + this.probeWaitMs;
      next = this.allot(videos, audioBps, current, unprobedCap());
      step = undefined;
    }
    // Padding towards the next better layer, within what the estimate says the link carries.
    const video = cost(videos, next);
    const room = estimate * this.opts.padUpTo - video;
    const padTowards = calm && now >= this.holdUntil && now >= this.padAfter && !step?.resumes && !this.clusterPending ? step : undefined;
    this.padding = padTowards ? Math.max(0, Math.min(room, padTowards.extraBps)) : 0;
    // A better layer the allowance does not cover: a cluster tests the next step, twice what
    // flows, or CLUSTER_MIN_EXTRA_BPS more, whichever is most (a lifted limit is found in a few);
    // after one the link carried, up to twice that, as far as the best layers would take.
    this.cluster = undefined;
    if (!calm || now < this.holdUntil || !step || step.resumes) {
      // The link lost meanwhile, or no better layer is wanted any more: nothing found is tried.
      this.escalated = undefined;
    } else if (!this.clusterPending && now >= this.nextClusterAt) {
      const goalVideo = cost(videos, new Map(videos.map((v) => [v.key, best(v)])));
      const escalatedVideo = this.escalated ? Math.min(goalVideo * CLUSTER_GOAL_MARGIN, 2 * (this.escalated.testedBps - audioBps)) : 0;
      const videoBps = Math.max(video + step.extraBps, 2 * video, video + CLUSTER_MIN_EXTRA_BPS, escalatedVideo);
      this.cluster = { testedBps: audioBps + videoBps, paddingBps: videoBps - video };
      this.clusterGoalBps = audioBps + goalVideo;
    }
    if (this.padding > 0) {
      this.paddedAt = now;
      this.paddedBps = this.padding;
      this.paddingSince ??= now;
    } else {
      this.paddingSince = undefined;
    }
    if (video > cost(videos, this.chosen)) this.padWaitMs = this.opts.probeAfterMs; // a step was taken
    this.chosen = next;
    this.sentBps = audioBps + video;
    return next;
  }

  /**
   * A try is over: a paused video back, or what a probe cluster found the link carries. A failed
   * one makes the next of its kind wait twice as long, a held one the first wait.
   */
  private endTry(held: boolean, now: number): void {
    this.probeStartedAt = undefined;
    if (this.clusterTry) {
      this.clusterTry = false;
      this.clusterWaitMs = held ? this.opts.clusterAfterMs : Math.min(this.clusterWaitMs * 2, this.opts.clusterBackoffMaxMs);
      this.nextClusterAt = now + this.clusterWaitMs;
      return;
    }
    this.probeWaitMs = held ? this.opts.probeAfterMs : Math.min(this.probeWaitMs * 2, this.opts.probeBackoffMaxMs);
    this.nextProbeAt = now + this.probeWaitMs;
  }

  /** Keeps `choice` as what the link carries if it costs more now than the one kept. */
  private remember(videos: readonly VideoDemand[], choice: ReadonlyMap<string, number>): void {
    if (cost(videos, choice) > cost(videos, this.carried)) this.carried = new Map(choice);
  }

  /**
   * Every video at its lowest layer by priority while that fits; then the lead videos up to their
   * best; then each other back to the layer it has now (a change of speaker below the lead moves
   * no layer: every move costs a keyframe and a flicker), then better layers by priority.
   */
  private allot(videos: readonly VideoDemand[], audioBps: number, current: ReadonlyMap<string, number>, capBps: number): Map<string, number> {
    this.carriedBps = audioBps + cost(videos, this.carried);
    let left = Math.min(Math.max(this.allowanceBps, this.carriedBps), capBps) - audioBps;
    const byPriority = [...videos].sort((a, b) => a.priority - b.priority);
    const out = new Map<string, number>();
    // At most one more video is paused per decision (the least important that does not fit): a
    // pause is the last resort, and the loss that caused the cut may be a burst.
    const paused = byPriority.filter((v) => !v.layers[0]);
    for (const v of [...byPriority].reverse()) {
      if (paused.includes(v)) continue;
      const lows = byPriority.filter((w) => !paused.includes(w)).reduce((sum, w) => sum + w.layers[0]!.rateBps, 0);
      if (lows <= left) break;
      paused.push(v);
      if (current.get(v.key) !== PAUSED) break;
    }
    for (const v of byPriority) {
      const low = v.layers[0];
      if (low && !paused.includes(v)) {
        left -= low.rateBps;
        out.set(v.key, low.index);
      } else {
        out.set(v.key, PAUSED);
      }
    }
    const raise = (v: VideoDemand, upTo: number) => {
      let at = v.layers.findIndex((l) => l.index === out.get(v.key));
      if (at < 0) return;
      while (at + 1 < v.layers.length && v.layers[at + 1]!.index <= Math.min(v.maxLayer, upTo)) {
        const extra = v.layers[at + 1]!.rateBps - v.layers[at]!.rateBps;
        if (extra > left) break;
        left -= extra;
        at++;
      }
      out.set(v.key, v.layers[at]!.index);
    };
    for (const v of byPriority) if (v.lead) raise(v, Infinity);
    const rest = byPriority.filter((v) => !v.lead);
    for (const v of rest) raise(v, current.get(v.key) ?? PAUSED);
    for (const v of rest) raise(v, Infinity);
    return out;
  }
}

function lowest(v: VideoDemand): number {
  return v.layers[0]?.index ?? PAUSED;
}

/** The best flowing layer at or below its tile's, else its lowest flowing one. */
function best(v: VideoDemand): number {
  const fitting = v.layers.filter((l) => l.index <= v.maxLayer);
  return (fitting.at(-1) ?? v.layers[0])?.index ?? PAUSED;
}

function cost(videos: readonly VideoDemand[], chosen: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const v of videos) sum += v.layers.find((l) => l.index === chosen.get(v.key))?.rateBps ?? 0;
  return sum;
}

/**
 * The next step to try: a paused video back at its low layer first (the most important one),
 * else the most important video below its best one layer up; what it adds.
 */
function nextStep(videos: readonly VideoDemand[], chosen: ReadonlyMap<string, number>): { extraBps: number; resumes: boolean } | undefined {
  const byPriority = [...videos].sort((a, b) => a.priority - b.priority);
  const paused = byPriority.find((v) => (chosen.get(v.key) ?? PAUSED) === PAUSED && v.layers[0]);
  if (paused) return { extraBps: paused.layers[0]!.rateBps, resumes: true };
  for (const v of byPriority) {
    const layer = chosen.get(v.key) ?? PAUSED;
    if (layer >= best(v)) continue;
    const at = v.layers.findIndex((l) => l.index === layer);
    const up = v.layers[at + 1];
    if (!up) continue;
    return { extraBps: up.rateBps - v.layers[at]!.rateBps, resumes: false };
  }
  return undefined;
}
