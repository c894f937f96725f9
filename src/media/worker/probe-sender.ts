// Sends a subscriber's probe clusters (probe-cluster.ts) and reads the browser's answers: the
// transport-wide sequence numbers of its downlink, the burst's pacing, and when a browser that
// never answers is no longer probed.
import { TransportWideCC, type RtcpPacket } from 'werift';
import type { ClusterRequest } from './bandwidth-allocator.js';
import { feedbackArrivals, ProbeCluster, type ProbeOptions, type ProbeVerdict } from './probe-cluster.js';

/** A burst is paced in steps this far apart (ms), and never owes more than OWED_MAX_MS of padding. */
const CLUSTER_TICK_MS = 10;
const OWED_MAX_MS = 50;
/** Clusters in a row with no answer at all: the browser does not send transport-cc feedback. */
const SILENT_LIMIT = 2;
/** A cluster whose padding fell below this share of what was asked is not carried (unclear). */
const SHORT_PADDING = 0.8;

/** Sends up to `count` padding packets, each with the sequence number `wideSeq` gives; how many went. */
export type SendPadding = (count: number, wideSeq: () => number) => number;

/** A cluster's verdict, the rate it tested, and what the debug log says of it. */
export interface ProbeOutcome {
  verdict: ProbeVerdict;
  testedBps: number;
  summary: ReturnType<ProbeCluster['summary']>;
}

export class ProbeSender {
  private seq = 0;
  private cluster: ProbeCluster | undefined;
  private timer: NodeJS.Timeout | undefined;
  private silent = 0;

  constructor(
    /** wire size of one padding packet (bytes) */
    private readonly packetBytes: number,
    private readonly nowUs: () => number = () => performance.now() * 1000,
  ) {}

  /** Whether a cluster may start (none under way, and the browser answers them). */
  get idle(): boolean {
    return this.cluster === undefined && this.silent < SILENT_LIMIT;
  }

  /** Sends `request.paddingBps` of numbered padding for the cluster's duration. */
  start(request: ClusterRequest, now: number, send: SendPadding, options: Partial<ProbeOptions> = {}): void {
    if (!this.idle) return;
    const cluster = new ProbeCluster(request.testedBps, request.paddingBps, now, options, this.packetBytes * 8);
    this.cluster = cluster;
    let owed = 0;
    let tickedAt = now;
    const wideSeq = () => {
      this.seq = (this.seq + 1) & 0xffff;
      cluster.packetSent(this.seq, this.nowUs());
      return this.seq;
    };
    this.timer = setInterval(() => {
      const at = this.nowUs() / 1000;
      if (!cluster.sending(at)) {
        clearInterval(this.timer);
        return;
      }
      // What the time since the last step owes (a late timer too), at most OWED_MAX_MS of it: a
      // stretch inside frames must not end in a burst of its own.
      owed = Math.min(owed + (request.paddingBps * (at - tickedAt)) / 8000, (request.paddingBps * OWED_MAX_MS) / 8000);
      tickedAt = at;
      const count = Math.floor(owed / this.packetBytes);
      owed -= send(count, wideSeq) * this.packetBytes;
    }, CLUSTER_TICK_MS);
  }

  /** An RTCP packet from the subscriber: a transport-cc feedback goes to the cluster. */
  onRtcp(packet: RtcpPacket): void {
    const feedback = (packet as { feedback?: unknown }).feedback;
    if (!this.cluster || !(feedback instanceof TransportWideCC)) return;
    this.cluster.feedback(feedbackArrivals(feedback));
    // A full link gets no more of it (the verdict is taken at the next poll).
    if (this.cluster.verdict(this.nowUs() / 1000) === 'full') clearInterval(this.timer);
  }

  /** The cluster's verdict once known (then it is over), with the rate it tested. */
  poll(now: number): ProbeOutcome | undefined {
    const cluster = this.cluster;
    const judged = cluster?.verdict(now);
    if (!cluster || !judged) return undefined;
    clearInterval(this.timer);
    this.cluster = undefined;
    if (cluster.answered) this.silent = 0;
    else if (cluster.packets >= 6) this.silent++;
    // What it tested: what flowed, and the padding that went out (it goes only between frames).
    const sentBps = (cluster.packets * this.packetBytes * 8 * 1000) / cluster.opts.durationMs;
    const testedBps = cluster.testedBps - cluster.paddingBps + Math.min(cluster.paddingBps, sentBps);
    // Padding well short of what was asked may not have emptied a shaper's burst allowance, and
    // says nothing (seen: carried on a 500 kbit/s link while its queue built, a layer went up into loss).
    const verdict = judged === 'carried' && sentBps < cluster.paddingBps * SHORT_PADDING ? 'unclear' : judged;
    return { verdict, testedBps, summary: cluster.summary() };
  }

  close(): void {
    clearInterval(this.timer);
    this.cluster = undefined;
  }
}
